//! Fresh databases for tests: a new SQLite file or a new PostgreSQL database per test, so
//! tests never see each other's rows, and runners that clean them up even when a test fails.
//!
//! PostgreSQL is found at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, an account allowed to `CREATE DATABASE`).
//! If it cannot be reached the PostgreSQL half of a test fails when `CI` is set and is
//! skipped with a loud warning otherwise.

#![allow(dead_code)] // Each helper is used by some test module, not necessarily all of them.

use callconfirm::store::{self, SharedStore};
use sqlx::{AssertSqlSafe, Connection};
use std::future::Future;
use std::io::Write;
use uuid::Uuid;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store on a new, migrated SQLite file under the temp dir, and its URL.
pub async fn fresh_sqlite() -> (SharedStore, String) {
    let path = std::env::temp_dir().join(format!("cc_test_{}.db", Uuid::new_v4().simple()));
    let url = format!("sqlite:{}", path.display());
    let store = store::connect(&url)
        .await
        .expect("a fresh SQLite database opens");
    (store, url)
}

/// The URL of a new SQLite file under the temp dir, not yet created: the application under
/// test creates and migrates it.
pub fn fresh_sqlite_url() -> String {
    let path = std::env::temp_dir().join(format!("cc_test_{}.db", Uuid::new_v4().simple()));
    format!("sqlite:{}", path.display())
}

/// Deletes a SQLite database made by [`fresh_sqlite`] (with its WAL files).
pub fn remove_sqlite(url: &str) {
    let path = url.trim_start_matches("sqlite:");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

/// A store on a new, migrated PostgreSQL database `cc_test_<uuid>`, and its URL; `None` (after
/// a warning) when PostgreSQL is unreachable outside CI.
pub async fn fresh_postgres() -> Option<(SharedStore, String)> {
    let admin_url = admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(admin) => admin,
        Err(error) => {
            postgres_unreachable(&error);
            return None;
        }
    };
    let name = format!("cc_test_{}", Uuid::new_v4().simple());
    // The name is ours (a prefix and a UUID's hex digits): safe to splice into the SQL.
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("the test account may create databases");
    let _ = admin.close().await;
    let url = with_database(&admin_url, &name);
    let store = store::connect(&url)
        .await
        .expect("a fresh PostgreSQL database opens");
    Some((store, url))
}

/// Drops a database made by [`fresh_postgres`], disconnecting anyone still connected.
pub async fn drop_postgres(url: &str) {
    let Some(name) = database_name(url).filter(|name| name.starts_with("cc_test_")) else {
        return;
    };
    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
        let _ = sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// Runs one behaviour on a fresh SQLite database, then deletes it (also if it panicked).
pub async fn on_sqlite<F, Fut>(behaviour: F)
where
    F: FnOnce(SharedStore, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (store, url) = fresh_sqlite().await;
    let outcome = tokio::spawn(behaviour(store, url.clone())).await;
    remove_sqlite(&url);
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Runs one behaviour on a fresh PostgreSQL database, then drops it (also if it panicked).
pub async fn on_postgres<F, Fut>(behaviour: F)
where
    F: FnOnce(SharedStore, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((store, url)) = fresh_postgres().await else {
        return;
    };
    let outcome = tokio::spawn(behaviour(store, url.clone())).await;
    drop_postgres(&url).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Runs one behaviour on a fresh volatile store (`memory:`); its URL opens another, empty one.
pub async fn on_memory<F, Fut>(behaviour: F)
where
    F: FnOnce(SharedStore, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = "memory:".to_owned();
    let store = store::connect(&url).await.expect("a volatile store opens");
    let outcome = tokio::spawn(behaviour(store, url)).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Runs SQL on the database behind `url` over a connection of its own, bypassing the store:
/// for tests that play a buggy or malicious writer.
pub async fn execute_raw(url: &str, sql: &'static str) -> Result<u64, sqlx::Error> {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let done = sqlx::query(sql).execute(&mut conn).await?;
        let _ = conn.close().await;
        Ok(done.rows_affected())
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let done = sqlx::query(sql).execute(&mut conn).await?;
        let _ = conn.close().await;
        Ok(done.rows_affected())
    }
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn postgres_unreachable(error: &sqlx::Error) {
    // The URL is not printed: it may carry a password.
    let message = format!(
        "PostgreSQL (TEST_POSTGRES_URL, default {DEFAULT_POSTGRES_URL}) is unreachable: {error}"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}; CI is set, so the PostgreSQL tests must run");
    }
    // Written to the stderr handle itself: the test harness captures `eprintln!` of passing
    // tests, which would hide the warning exactly when it matters.
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !!! WARNING: {message}\n\
         !!! SKIPPING the PostgreSQL half of this test (set CI=1 to make this fail).\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    );
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn database_name(url: &str) -> Option<&str> {
    let base = url.split('?').next()?;
    let authority_start = base.find("://")? + 3;
    let slash = base[authority_start..].find('/')?;
    Some(&base[authority_start + slash + 1..])
}
