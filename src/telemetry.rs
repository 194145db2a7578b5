//! The tracing subscriber: human-readable or JSON lines, `RUST_LOG` honoured.
//!
//! Nothing here logs request headers or bodies: spans carry the method, the path (never the
//! query) and the request id; phone numbers are masked where they are logged.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The filter when `RUST_LOG` is unset: our own events at info, noisy dependencies at warn.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,reqwest=warn";

/// Installs the global subscriber writing to `writer` (stdout in production). Colours only
/// when `colours` (the output is a terminal): escape codes in files and `docker logs` are noise.
pub fn init<W>(format: LogFormat, writer: W, colours: bool)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(colours)
        .with_target(false);
    // A second init (tests that build several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
