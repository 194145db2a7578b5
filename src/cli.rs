//! The command line: serve (the default), run the simulator alone, register webhooks, check health.

use clap::{Args, Parser, Subcommand};

/// Appointment-confirmation calls over the 8x8 Voice API.
///
/// With no command, serves the API and webhooks on PORT (default 5678), configured by the
/// environment and `.env` (see .env.example).
#[derive(Debug, Parser)]
#[command(name = "callconfirm", version)]
pub struct Cli {
    /// Use the built-in 8x8 simulator instead of 8x8 (no credentials needed; nobody is dialled).
    #[arg(long, global = true)]
    pub simulate: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run only the 8x8 simulator, for tests and demos.
    Simulator(SimulatorArgs),
    /// Register (or replace) the VCA and VSS webhooks of the subaccount with 8x8.
    RegisterWebhooks {
        /// Show the requests without sending them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the OpenAPI document of the HTTP API (the one served at /openapi.json).
    Openapi,
    /// Exit 0 if the service on this machine answers GET /health (for Docker's HEALTHCHECK).
    Healthcheck {
        /// The URL to check; default http://127.0.0.1:$PORT/health.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// Address to listen on.
    #[arg(long, env = "SIMULATOR_HOST", default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "SIMULATOR_PORT", default_value_t = 8088)]
    pub port: u16,
    /// The bearer key the simulator accepts.
    #[arg(long, env = "SIMULATOR_API_KEY", default_value = crate::config::simulated::API_KEY)]
    pub api_key: String,
    /// The subaccount id the simulator serves.
    #[arg(long, env = "SIMULATOR_SUBACCOUNT_ID", default_value = crate::config::simulated::SUBACCOUNT_ID)]
    pub subaccount: String,
    /// `instant` (no delays, for tests) or `realistic` (ringing and speaking take a moment).
    #[arg(long, env = "SIMULATOR_TIMING", default_value = "realistic")]
    pub timing: String,
    /// Scripted customers: `DEST=KEYS;DEST=KEYS`, e.g. `+15550001=9,1`.
    #[arg(long, env = "SIMULATOR_CUSTOMERS")]
    pub customers: Option<String>,
    /// Accepted voice profiles, comma-separated (default: CONTRACT §5's and callconfirm's).
    #[arg(long, env = "SIMULATOR_VOICE_PROFILES", value_delimiter = ',')]
    pub voice_profiles: Vec<String>,
    /// How long the simulator waits for a VCA reply before ending the session in error.
    #[arg(long, env = "SIMULATOR_VCA_TIMEOUT_MS", default_value_t = 5000)]
    pub vca_timeout_ms: u64,
}
