//! The benchmark's command line (after `cargo bench --bench vca --`), each option also
//! settable through a `BENCH_*` environment variable.

use clap::{Parser, ValueEnum};

/// Benchmark of callconfirm's VCA webhook path against a bare axum handler.
#[derive(Debug, Parser)]
#[command(name = "vca")]
pub struct Options {
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,

    /// What to measure.
    #[arg(long, env = "BENCH_MODE", value_enum, default_value = "throughput")]
    pub mode: Mode,

    /// The app's store(s), comma-separated; each runs in turn on a fresh one. The default
    /// judges both issues' throughput targets: issue 2's on the port's volatile store, issue
    /// 4's on SQLite.
    #[arg(
        long,
        env = "BENCH_DB",
        value_enum,
        value_delimiter = ',',
        default_value = "memory,sqlite"
    )]
    pub db: Vec<Db>,

    /// Server (and database) where `--db postgres` creates, then drops, its own database.
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,

    /// throughput: live sessions driven in the measured run (two VCAs each).
    #[arg(long, env = "BENCH_SESSIONS", default_value_t = 20_000)]
    pub sessions: usize,

    /// throughput: extra sessions driven first, unmeasured, on both servers (warm-up).
    #[arg(long, env = "BENCH_WARMUP", default_value_t = 20_000)]
    pub warmup: usize,

    /// throughput: runs the whole measurement this many times in a row, each with a fresh
    /// database, app, simulator and bare handler, and counts the runs that met each target.
    #[arg(long, env = "BENCH_REPEAT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    /// Concurrent keep-alive connections (requests in flight).
    #[arg(long, env = "BENCH_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,

    /// memory: live sessions whose resident memory is measured.
    #[arg(long, env = "BENCH_LIVE_SESSIONS", default_value_t = 100_000)]
    pub live_sessions: usize,

    /// churn: calls placed and completed (make-call, VCA 1, VSS).
    #[arg(long, env = "BENCH_CALLS", default_value_t = 1_000_000)]
    pub calls: usize,

    /// churn: the app's resident memory is sampled after every this many completed calls.
    #[arg(long, env = "BENCH_SAMPLE_EVERY", default_value_t = 100_000)]
    pub sample_every: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Requests/s and latency of VCAs, app beside the bare handler.
    Throughput,
    /// Resident memory per live session.
    Memory,
    /// Resident memory over many completed calls.
    Churn,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Throughput => "throughput",
            Mode::Memory => "memory",
            Mode::Churn => "churn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Db {
    /// The volatile store (`DATABASE_URL=memory:`): the port's sessions kept in memory only.
    Memory,
    /// A fresh SQLite file in the temporary directory (the app's default store).
    Sqlite,
    /// A fresh database on the `--postgres-url` server.
    Postgres,
}

impl Db {
    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Db::Memory => "volatile store (memory:)",
            Db::Sqlite => "SQLite (file, WAL)",
            Db::Postgres => "PostgreSQL",
        }
    }
}

impl Options {
    /// How many calls the mode places and later reads back: the volatile store is told to
    /// keep that many (it forgets its oldest finished calls past its bound). `None` for the
    /// churn mode, which shows the store's default bound at work.
    pub fn calls_kept(&self) -> Option<usize> {
        match self.mode {
            Mode::Throughput => Some(self.warmup + 3 * self.sessions),
            Mode::Memory => Some(crate::memory::WARM_UP_CALLS + self.live_sessions),
            Mode::Churn => None,
        }
    }
}
