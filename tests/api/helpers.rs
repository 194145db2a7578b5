//! Spawning the real application and the real 8x8 simulator on random loopback ports.

use callconfirm::calls::CallService;
use callconfirm::config::Settings;
use callconfirm::registration;
use callconfirm::startup::Application;
use callconfirm::voice::client::{VoiceClient, VoiceClientSettings};
use callconfirm::voice::simulator::{Simulator, SimulatorConfig, SimulatorTiming};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const API_KEY: &str = "test-api-key";
pub const SUBACCOUNT: &str = "callconfirm-test";
pub const TOKEN: &str = "test-webhook-token";
pub const OUTBOUND: &str = "+6568332048";

/// A running simulator, stopped when dropped.
pub struct TestSimulator {
    pub url: String,
    stop: CancellationToken,
}

impl Drop for TestSimulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn start_simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> TestSimulator {
    let mut config = SimulatorConfig::new(API_KEY, SUBACCOUNT);
    config.timing = SimulatorTiming::instant();
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stop = CancellationToken::new();
    let handle = Simulator::start(config, listener, stop.clone())
        .await
        .unwrap();
    TestSimulator {
        url: handle.base_url(),
        stop,
    }
}

/// How a test wants its application.
pub struct AppOptions {
    /// Extra or overriding environment, e.g. `("EIGHT_X_EIGHT_API_KEY", "wrong")`.
    pub env: Vec<(&'static str, String)>,
    pub configure_simulator: Box<dyn FnOnce(&mut SimulatorConfig) + Send>,
    /// Registers the app's webhooks with the simulator (as `register-webhooks` does).
    pub register_webhooks: bool,
    /// `None`: a fresh SQLite file.
    pub database_url: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            env: Vec::new(),
            configure_simulator: Box::new(|_| {}),
            register_webhooks: true,
            database_url: None,
        }
    }
}

/// The application under test, with its simulator; both stop when dropped.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub simulator: TestSimulator,
    pub database_url: String,
    /// The application's use cases, for looking inside (e.g. its live-session cache).
    pub calls: Arc<CallService>,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        if self.database_url.starts_with("sqlite:") {
            crate::databases::remove_sqlite(&self.database_url);
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let simulator = start_simulator(options.configure_simulator).await;
    let database_url = match options.database_url {
        Some(url) => url,
        None => crate::databases::fresh_sqlite_url(),
    };
    let mut env: HashMap<&str, String> = HashMap::from([
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", "0".to_owned()),
        ("EIGHT_X_EIGHT_API_KEY", API_KEY.to_owned()),
        ("EIGHT_X_EIGHT_SUBACCOUNT_ID", SUBACCOUNT.to_owned()),
        ("OUTBOUND_PHONE_NUMBER", OUTBOUND.to_owned()),
        ("WEBHOOK_AUTH_TOKEN", TOKEN.to_owned()),
        ("EIGHT_X_EIGHT_BASE_URL", simulator.url.clone()),
        ("EIGHT_X_EIGHT_TIMEOUT_MS", "2000".to_owned()),
        ("DATABASE_URL", database_url.clone()),
    ]);
    env.extend(options.env);
    let settings = Settings::from_lookup(|name| env.get(name).cloned(), false).unwrap();
    let application = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let calls = application.calls();
    let stop = CancellationToken::new();
    tokio::spawn(application.run_until_stopped(stop.clone()));

    if options.register_webhooks {
        let requests = registration::plan(&address, &SecretString::from(TOKEN));
        registration::register(&simulator_client(&simulator.url), &requests)
            .await
            .unwrap();
    }
    TestApp {
        address,
        client: reqwest::Client::new(),
        simulator,
        database_url,
        calls,
        stop,
    }
}

/// A client of the simulator with the test's credentials.
pub fn simulator_client(url: &str) -> VoiceClient {
    VoiceClient::new(VoiceClientSettings {
        base_url: url.to_owned(),
        api_key: SecretString::from(API_KEY),
        subaccount_id: SUBACCOUNT.to_owned(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

pub fn basic(user: &str, password: &str) -> String {
    callconfirm::auth::basic_header(user, password)
}

/// The standard make-call body for a customer number.
/// The clientActionId 8x8 gets for [`appointment`] (the default template's base).
pub const APPOINTMENT_ACTION_ID: &str = "APT123_20250420_1930_Bright_Smile_Dental";
/// What the customer first hears for [`appointment`] with the default template.
pub const APPOINTMENT_PROMPT: &str = "Hello, you have an appointment at Bright Smile Dental on April 20th, 2025 at 7:30 PM. Will you be arriving on time? If yes, press one. If you wish to cancel, press zero.";

/// The default template's final answer to a webhook for [`appointment`]: say `text`, hang up.
pub fn say_and_hangup(text: &str) -> Value {
    json!({
        "clientActionId": APPOINTMENT_ACTION_ID,
        "callflow": [
            {"action": "say", "params": {"text": text, "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1}},
            {"action": "hangup"}
        ]
    })
}

pub fn appointment(phone: &str) -> Value {
    json!({
        "orderId": "APT123",
        "customerPhone": phone,
        "businessName": "Bright Smile Dental",
        "appointmentTime": "2025-04-20T19:30:00Z"
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn make_call(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/api/make-call"))
            .header("Authorization", basic("admin", TOKEN))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Places a call that 8x8 accepts and returns its session id.
    pub async fn place(&self, body: &Value) -> String {
        let (status, answer) = self.make_call(body).await;
        assert_eq!(status, StatusCode::OK, "make-call failed: {answer}");
        answer["data"]["sessionId"].as_str().unwrap().to_owned()
    }

    pub async fn get_call(&self, id: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(&format!("/api/calls/{id}")))
            .header("Authorization", basic("admin", TOKEN))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn list_calls(&self, query: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(&format!("/api/calls{query}")))
            .header("Authorization", basic("admin", TOKEN))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Waits until 8x8's session summary has been recorded for the call.
    pub async fn finished_call(&self, session_id: &str) -> Value {
        wait_for_summary(&self.client, &self.address, TOKEN, session_id).await
    }

    pub async fn post_webhook(
        &self,
        path: &str,
        auth: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn simulator_stats(&self) -> Value {
        self.client
            .get(format!("{}/_simulator/stats", self.simulator.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Polls `GET /api/calls/{id}` until the session summary is recorded (the simulator plays the
/// call out asynchronously); gives up after 15 s.
pub async fn wait_for_summary(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    session_id: &str,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let call: Value = client
            .get(format!("{address}/api/calls/{session_id}"))
            .header("Authorization", basic("admin", token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !call["session"].is_null() {
            return call;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no session summary for {session_id}: {call}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The simulator's record of a session (`GET /_simulator/sessions/{id}`) once the call has
/// ended; the simulator holds the request up to 15 s until it does.
pub async fn ended_session(
    client: &reqwest::Client,
    simulator_url: &str,
    session_id: &str,
) -> Value {
    let record: Value = client
        .get(format!(
            "{simulator_url}/_simulator/sessions/{session_id}?waitMs=15000"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["state"], "ended", "{record:#}");
    record
}

/// Makes the simulator's next Send Callflow answers fail as `fault` says
/// (`POST /_simulator/faults`, e.g. `{"status": 500}` or `{"delayMs": 2000}`).
pub async fn arm_simulator_fault(simulator_url: &str, fault: Value) {
    let response = reqwest::Client::new()
        .post(format!("{simulator_url}/_simulator/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
}
