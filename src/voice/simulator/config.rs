//! What a simulator instance is configured with: its credentials, voice profiles, timing and scripted customers.

use crate::voice::simulator::customer::CustomerScript;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// Everything a simulator needs to behave like one 8x8 subaccount.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// The bearer key Send Callflow and the Webhooks API accept.
    pub api_key: String,
    /// The one subaccount this simulator knows; any other id answers 404.
    pub subaccount_id: String,
    /// The accepted `voiceProfile` values; anything else is refused with -1002.
    pub voice_profiles: Vec<String>,
    pub timing: SimulatorTiming,
    /// How long the simulator waits for the app's answer to a VCA (or VSS) webhook.
    /// 8x8 documents no value; CONTRACT A-22 suggests 5 s.
    pub vca_timeout: Duration,
    /// Scripted customers by destination (digits only); they override the last-digit table.
    pub customers: HashMap<String, CustomerScript>,
    /// Echo the Send Callflow request's top-level `clientActionId` on the first VCA.
    /// 8x8 documents no such echo, so it is off by default.
    pub echo_initial_client_action_id: bool,
    /// Strict mode: a missing `overallTimeout` beside `digitTimeout` is -1005 and
    /// unknown action parameters are -1009. Off by default, as 8x8's own OAS example 1 omits
    /// `overallTimeout`.
    pub strict: bool,
    /// Which documented defaults an omitted capture parameter takes.
    pub capture_defaults: CaptureDefaults,
    /// How many session records the inspection API keeps; the oldest ended ones are dropped.
    pub max_recorded_sessions: usize,
}

impl SimulatorConfig {
    /// A simulator for one subaccount with every documented voice profile, realistic timing,
    /// a 5 s VCA timeout and no scripted customers.
    pub fn new(api_key: impl Into<String>, subaccount_id: impl Into<String>) -> Self {
        SimulatorConfig {
            api_key: api_key.into(),
            subaccount_id: subaccount_id.into(),
            voice_profiles: default_voice_profiles(),
            timing: SimulatorTiming::realistic(),
            vca_timeout: Duration::from_secs(5),
            customers: HashMap::new(),
            echo_initial_client_action_id: false,
            strict: false,
            capture_defaults: CaptureDefaults::Guide,
            max_recorded_sessions: 1000,
        }
    }
}

impl fmt::Debug for SimulatorConfig {
    // Written by hand so that the API key never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("api_key", &"[redacted]")
            .field("subaccount_id", &self.subaccount_id)
            .field("voice_profiles", &self.voice_profiles.len())
            .field("timing", &self.timing)
            .field("vca_timeout", &self.vca_timeout)
            .field("customers", &self.customers.len())
            .field(
                "echo_initial_client_action_id",
                &self.echo_initial_client_action_id,
            )
            .field("strict", &self.strict)
            .field("capture_defaults", &self.capture_defaults)
            .field("max_recorded_sessions", &self.max_recorded_sessions)
            .finish()
    }
}

/// How long the simulated world takes. Zero everywhere in tests; about a second per step in
/// demos, so that a whole call plays out in a few seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulatorTiming {
    /// The phone rings this long before it is answered (or found busy, unanswered, failed).
    pub ring: Duration,
    /// One spoken prompt (a `say`, a played file, a capture prompt) takes this long.
    pub prompt: Duration,
    /// The customer takes this long to press keys after a prompt.
    pub answer: Duration,
    /// A capture try in which the customer presses nothing times out after this long
    /// (stands for `digitTimeout`/`overallTimeout`, compressed).
    pub silence: Duration,
    /// Two bridged parties talk this long before hanging up.
    pub talk: Duration,
}

impl SimulatorTiming {
    /// No delays at all: for tests.
    pub fn instant() -> Self {
        SimulatorTiming {
            ring: Duration::ZERO,
            prompt: Duration::ZERO,
            answer: Duration::ZERO,
            silence: Duration::ZERO,
            talk: Duration::ZERO,
        }
    }

    /// Short but perceptible delays: a demo call finishes within a few seconds.
    pub fn realistic() -> Self {
        SimulatorTiming {
            ring: Duration::from_millis(1000),
            prompt: Duration::from_millis(1500),
            answer: Duration::from_millis(500),
            silence: Duration::from_millis(1500),
            talk: Duration::from_millis(2000),
        }
    }
}

/// The defaults an omitted `sayAndCapture` parameter takes: 8x8's OAS and its guide disagree
/// on every one of them (CONTRACT A-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureDefaults {
    /// The call-action-handling guide: maxDigits 25, overallTimeout 30000, noOfTries 3,
    /// completeOnHash true. CONTRACT A-6 recommends this one for the simulator.
    #[default]
    Guide,
    /// The OAS: maxDigits 1, overallTimeout 5000, noOfTries 1, completeOnHash true.
    Oas,
}

impl CaptureDefaults {
    pub(crate) fn max_digits(self) -> u64 {
        match self {
            CaptureDefaults::Guide => 25,
            CaptureDefaults::Oas => 1,
        }
    }

    pub(crate) fn overall_timeout_ms(self) -> u64 {
        match self {
            CaptureDefaults::Guide => 30_000,
            CaptureDefaults::Oas => 5_000,
        }
    }

    pub(crate) fn no_of_tries(self) -> u64 {
        match self {
            CaptureDefaults::Guide => 3,
            CaptureDefaults::Oas => 1,
        }
    }
}

/// Every voice profile named in 8x8's documents (CONTRACT §5), then the defaults the app
/// uses for its languages.
pub fn default_voice_profiles() -> Vec<String> {
    [
        "en-GB-Emma",
        "en-US-Standard-A",
        "da-DK-Naja",
        "en-US-Neural2-C",
        "en-US-BenjaminRUS",
        "en-US-ZiraRUS",
        "en-IE-EmilyNeural",
        "en-US-Jenny",
        "ar-EG-Hoda",
        "ar-EG-SalmaNeural",
        "ca-ES-HerenaRUS",
        "es-ES-HelenaRUS",
        "fr-FR-HortenseRUS",
        "de-DE-HeddaRUS",
        "zh-CN-HuihuiRUS",
        "ja-JP-HarukaRUS",
        "en-GB-HazelRUS",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}
