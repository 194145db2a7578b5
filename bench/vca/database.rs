//! A fresh store per run: a volatile one (nothing to create), a SQLite file in the temporary
//! directory, or a PostgreSQL database created for the run and dropped after it.

use crate::BenchResult;
use crate::options::Db;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// The database the app is started with.
pub struct Database {
    /// The app's `DATABASE_URL`.
    pub url: String,
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The volatile store goes with the app's process.
    Nothing,
    /// The SQLite file (its `-wal` and `-shm` companions go with it).
    File(PathBuf),
    /// The server's own database to connect to, and the database to drop.
    Postgres { admin_url: String, name: String },
}

impl Database {
    /// How the report names it.
    pub fn label(&self) -> &'static str {
        self.db.label()
    }

    /// `calls_kept`: how many calls a volatile store must keep (its default bound if `None`).
    pub async fn prepare(
        db: Db,
        postgres_url: &str,
        calls_kept: Option<usize>,
    ) -> BenchResult<Database> {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis()
        );
        match db {
            Db::Memory => Ok(Database {
                url: match calls_kept {
                    Some(calls) => format!("memory:?max_calls={}", calls.max(1)),
                    None => "memory:".to_owned(),
                },
                db,
                cleanup: Cleanup::Nothing,
            }),
            Db::Sqlite => {
                let path = std::env::temp_dir().join(format!("callconfirm-bench-{unique}.db"));
                Ok(Database {
                    url: format!("sqlite:{}", path.display()),
                    db,
                    cleanup: Cleanup::File(path),
                })
            }
            Db::Postgres => {
                let name = format!("callconfirm_bench_{unique}");
                let mut admin = PgConnection::connect(postgres_url)
                    .await
                    .map_err(|error| format!("cannot connect to PostgreSQL: {error}"))?;
                // The name is ours: letters, digits and underscores only.
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok(Database {
                    url: with_database(postgres_url, &name)?,
                    db,
                    cleanup: Cleanup::Postgres {
                        admin_url: postgres_url.to_owned(),
                        name,
                    },
                })
            }
        }
    }

    /// Bytes the database occupies now (file and WAL, or PostgreSQL's database size); `None`
    /// for the volatile store, which occupies the app's memory.
    pub async fn size_bytes(&self) -> Option<u64> {
        match &self.cleanup {
            Cleanup::Nothing => None,
            Cleanup::File(path) => Some(
                companions(path)
                    .iter()
                    .filter_map(|file| std::fs::metadata(file).ok())
                    .map(|metadata| metadata.len())
                    .sum(),
            ),
            Cleanup::Postgres { admin_url, name } => {
                let mut admin = PgConnection::connect(admin_url).await.ok()?;
                let size: i64 = sqlx::query_scalar("SELECT pg_database_size($1)")
                    .bind(name)
                    .fetch_one(&mut admin)
                    .await
                    .ok()?;
                u64::try_from(size).ok()
            }
        }
    }

    /// Removes the database; problems are reported, not fatal (the figures are already in).
    pub async fn dispose(self) {
        match self.cleanup {
            Cleanup::Nothing => {}
            Cleanup::File(path) => {
                for file in companions(&path) {
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let dropped = async {
                    let mut admin = PgConnection::connect(&admin_url).await?;
                    sqlx::raw_sql(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await?;
                    admin.close().await
                };
                if let Err(error) = dropped.await {
                    eprintln!("vca: could not drop the database {name}: {error}");
                }
            }
        }
    }
}

fn companions(path: &std::path::Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
        .collect()
}

/// `postgres://user@host:port/db?options` with another database name.
fn with_database(url: &str, name: &str) -> BenchResult<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .map(|at| at + 3)
        .ok_or_else(|| format!("{url} is not a postgres:// URL"))?;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut with_name = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        with_name.push('?');
        with_name.push_str(query);
    }
    Ok(with_name)
}
