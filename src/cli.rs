//! The command line: serve (the default), run the simulator alone, register webhooks, check health.

use crate::voice::simulator::SimulatorTiming;
use clap::{Args, Parser, Subcommand};
use std::time::Duration;

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
    Simulator(Box<SimulatorArgs>),
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
    /// Overrides of single `--timing` delays, in milliseconds. A long `--ring-ms` keeps every
    /// call ringing (live, unanswered) for that long, which the benchmark relies on.
    #[command(flatten)]
    pub delays: SimulatorDelays,
}

/// Per-step delays of the simulated world, each replacing the `--timing` preset's value.
#[derive(Debug, Args, Default, Clone, Copy, PartialEq, Eq)]
pub struct SimulatorDelays {
    /// How long the phone rings before it is answered (or found busy, unanswered, failed).
    #[arg(long, env = "SIMULATOR_RING_MS")]
    pub ring_ms: Option<u64>,
    /// How long one spoken prompt (a say, a played file, a capture prompt) takes.
    #[arg(long, env = "SIMULATOR_PROMPT_MS")]
    pub prompt_ms: Option<u64>,
    /// How long the customer takes to press keys after a prompt.
    #[arg(long, env = "SIMULATOR_ANSWER_MS")]
    pub answer_ms: Option<u64>,
    /// How long a capture try without any key lasts before it times out.
    #[arg(long, env = "SIMULATOR_SILENCE_MS")]
    pub silence_ms: Option<u64>,
    /// How long two bridged parties talk before hanging up.
    #[arg(long, env = "SIMULATOR_TALK_MS")]
    pub talk_ms: Option<u64>,
}

impl SimulatorDelays {
    /// `preset` with every delay given here replaced.
    pub fn apply(&self, preset: SimulatorTiming) -> SimulatorTiming {
        let or =
            |value: Option<u64>, default: Duration| value.map_or(default, Duration::from_millis);
        SimulatorTiming {
            ring: or(self.ring_ms, preset.ring),
            prompt: or(self.prompt_ms, preset.prompt),
            answer: or(self.answer_ms, preset.answer),
            silence: or(self.silence_ms, preset.silence),
            talk: or(self.talk_ms, preset.talk),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_delay_replaces_only_its_own_step_of_the_preset() {
        let cli = Cli::try_parse_from([
            "callconfirm",
            "simulator",
            "--timing",
            "instant",
            "--ring-ms",
            "3600000",
            "--talk-ms",
            "250",
        ])
        .unwrap();
        let Some(Command::Simulator(args)) = cli.command else {
            panic!("expected the simulator command");
        };
        assert_eq!(
            args.delays.apply(SimulatorTiming::realistic()),
            SimulatorTiming {
                ring: Duration::from_secs(3600),
                talk: Duration::from_millis(250),
                ..SimulatorTiming::realistic()
            }
        );
    }

    #[test]
    fn without_delays_the_preset_stands() {
        assert_eq!(
            SimulatorDelays::default().apply(SimulatorTiming::instant()),
            SimulatorTiming::instant()
        );
    }
}
