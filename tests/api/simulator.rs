//! The 8x8 simulator over real HTTP: callflow validation codes, the Webhooks API, every customer
//! behaviour's session summary, VCA shape and replies, scripted customers, faults and records.
//!
//! The "app" here is a small axum receiver that records webhooks and answers scripted replies:
//! it stands in for 8x8's customer (the external party), not for one of our components.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use callconfirm::voice::simulator::{Simulator, SimulatorConfig, SimulatorHandle, SimulatorTiming};
use chrono::{Duration as ChronoDuration, Utc};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

const API_KEY: &str = "sim-test-key";
const SUBACCOUNT: &str = "callconfirm_test";
const SOURCE: &str = "6568332048";
const VOICE: &str = "en-US-BenjaminRUS";
const APP_AUTH: &str = "Bearer app-webhook-secret";
const PROMPT: &str = "Hello, you have an appointment at Bright Smile Dental tomorrow at 10 AM. Press 1 to confirm or 0 to cancel.";
const REPROMPT: &str = "Sorry, we did not get a valid answer. Press 1 to confirm or 0 to cancel.";
const FAILURE: &str = "Invalid input, please try again";
/// A guard against a hung test, never a way to wait: waits end as soon as the session does.
const WAIT_MS: u64 = 20_000;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

fn test_config() -> SimulatorConfig {
    let mut config = SimulatorConfig::new(API_KEY, SUBACCOUNT);
    config.timing = SimulatorTiming::instant();
    config
}

async fn start_simulator(config: SimulatorConfig) -> (SimulatorHandle, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let handle = Simulator::start(config, listener, shutdown.clone())
        .await
        .unwrap();
    (handle, shutdown)
}

/// What the app answers to one VCA.
#[derive(Debug, Clone)]
enum Reply {
    Json(u16, Value),
    Text(u16, &'static str),
    /// Never answers in time.
    Slow,
}

type Policy = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// One webhook as the app received it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct AppState {
    received: Arc<Mutex<Vec<Received>>>,
    policy: Policy,
}

/// The stand-in app: `/vca` answers by its policy, `/vss` answers `{}`.
struct App {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl App {
    async fn start(policy: Policy, shutdown: &CancellationToken) -> App {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            received: received.clone(),
            policy,
        };
        let router = Router::new()
            .route("/vca", post(app_webhook))
            .route("/vss", post(app_webhook))
            .with_state(state);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        App { url, received }
    }

    /// Every webhook received for one session, in arrival order.
    fn webhooks_for(&self, session_id: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.body["payload"]["sessionId"] == session_id)
            .cloned()
            .collect()
    }

    fn vcas_for(&self, session_id: &str) -> Vec<Value> {
        self.webhooks_for(session_id)
            .into_iter()
            .filter(|r| r.path == "/vca")
            .map(|r| r.body)
            .collect()
    }

    fn vsses_for(&self, session_id: &str) -> Vec<Value> {
        self.webhooks_for(session_id)
            .into_iter()
            .filter(|r| r.path == "/vss")
            .map(|r| r.body)
            .collect()
    }
}

async fn app_webhook(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        body: body.clone(),
    });
    if uri.path() == "/vss" {
        return axum::Json(json!({})).into_response();
    }
    match (state.policy)(&body) {
        Reply::Json(status, value) => {
            (StatusCode::from_u16(status).unwrap(), axum::Json(value)).into_response()
        }
        Reply::Text(status, text) => (StatusCode::from_u16(status).unwrap(), text).into_response(),
        Reply::Slow => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            axum::Json(json!({"callflow": []})).into_response()
        }
    }
}

/// A simulator, an app registered for VCA and VSS, and an HTTP client; all stop on drop.
struct Env {
    sim: SimulatorHandle,
    app: App,
    http: reqwest::Client,
    _stop: DropGuard,
}

impl Env {
    async fn new(config: SimulatorConfig) -> Env {
        Env::with_policy(config, Arc::new(confirmation_policy)).await
    }

    async fn with_policy(config: SimulatorConfig, policy: Policy) -> Env {
        let (sim, shutdown) = start_simulator(config).await;
        let app = App::start(policy, &shutdown).await;
        let env = Env {
            sim,
            app,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            _stop: shutdown.drop_guard(),
        };
        for (kind, path) in [("VCA", "/vca"), ("VSS", "/vss")] {
            let (status, _) = env
                .call(
                    reqwest::Method::POST,
                    "webhooks",
                    Some(json!({
                        "type": kind,
                        "url": format!("{}{path}", env.app.url),
                        "httpAuthHeader": APP_AUTH,
                        "enabled": true,
                    })),
                )
                .await;
            assert_eq!(status, 200);
        }
        env
    }

    fn api(&self, tail: &str) -> String {
        format!(
            "{}/api/v1/subaccounts/{SUBACCOUNT}/{tail}",
            self.sim.base_url()
        )
    }

    /// An authorized call to the 8x8 API; the answer as JSON (`null` if it is not JSON).
    async fn call(&self, method: reqwest::Method, tail: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.api(tail))
            .bearer_auth(API_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn send_callflow(&self, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, "callflows", Some(body.clone()))
            .await
    }

    async fn send_raw_callflow(&self, body: &'static str) -> (u16, Value) {
        let response = self
            .http
            .post(self.api("callflows"))
            .bearer_auth(API_KEY)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// Places a call that must be accepted; returns its session id.
    async fn place(&self, body: &Value) -> String {
        let (status, created) = self.send_callflow(body).await;
        assert_eq!(status, 200, "{created}");
        created["sessionId"].as_str().unwrap().to_owned()
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        tail: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/_simulator/{tail}", self.sim.base_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    /// The session's record once it has ended (the VSS has been delivered by then).
    async fn ended_session(&self, session_id: &str) -> Value {
        let (status, record) = self
            .admin(
                reqwest::Method::GET,
                &format!("sessions/{session_id}?waitMs={WAIT_MS}"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(record["state"], "ended", "{record}");
        record
    }

    /// Places a call, waits for its end, and returns the one VSS the app received.
    async fn play(&self, body: &Value) -> (String, Value) {
        let session_id = self.place(body).await;
        self.ended_session(&session_id).await;
        let vsses = self.app.vsses_for(&session_id);
        assert_eq!(vsses.len(), 1, "{vsses:?}");
        (session_id, vsses[0].clone())
    }
}

async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

// ---------------------------------------------------------------------------------------------
// Callflows and expectations
// ---------------------------------------------------------------------------------------------

fn valid_until() -> String {
    (Utc::now() + ChronoDuration::hours(1))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn make_call(destination: &str) -> Value {
    json!({"action": "makeCall", "params": {"source": SOURCE, "destination": destination}})
}

fn capture(prompt: &str) -> Value {
    json!({"action": "sayAndCapture", "params": {
        "promptMessage": prompt, "voiceProfile": VOICE, "repetition": 1, "speed": 1,
        "minDigits": 1, "maxDigits": 1, "digitTimeout": 10000, "overallTimeout": 10000,
        "completeOnHash": false, "noOfTries": 2, "successMessage": null, "failureMessage": FAILURE
    }})
}

fn say(text: &str) -> Value {
    json!({"action": "say", "params": {"text": text, "voiceProfile": VOICE, "repetition": 1, "speed": 1}})
}

/// The confirmation call the app places: makeCall, then the menu.
fn appointment(destination: &str) -> Value {
    json!({
        "validUntil": valid_until(),
        "clientActionId": "order-1",
        "clientRequestId": "request-1",
        "callflow": [make_call(destination), capture(PROMPT)],
    })
}

/// A callflow whose second action is `action` (for validation cases).
fn with_second(action: Value) -> Value {
    json!({"validUntil": valid_until(), "callflow": [make_call("+6591230001"), action]})
}

fn closing(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({"clientActionId": "closing", "callflow": [say(text), {"action": "hangup"}]}),
    )
}

/// The app's usual answers: 1 confirms, 0 cancels, nothing says goodbye, any other key re-asks.
fn confirmation_policy(vca: &Value) -> Reply {
    match vca["payload"]["eventData"]["dtmf"].as_str() {
        Some("1") => closing("Thank you for confirming."),
        Some("0") => closing("Your appointment is cancelled."),
        None => closing("We did not hear from you. Goodbye."),
        Some(_) => Reply::Json(
            200,
            json!({"clientActionId": "reprompt", "callflow": [capture(REPROMPT)]}),
        ),
    }
}

/// Replaces ids, times and durations with placeholders so whole payloads can be compared.
fn redacted(mut value: Value) -> Value {
    fn redact(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    match key.as_str() {
                        "sessionId" | "callId" | "eventId" | "callFlowRequestId" | "errorId" => {
                            *field = json!("<id>")
                        }
                        "startTime"
                        | "endTime"
                        | "initiatedTimestamp"
                        | "connectedTimestamp"
                        | "disconnectedTimestamp"
                        | "timestamp"
                        | "at"
                        | "createdAt" => *field = json!("<time>"),
                        "callDuration" => *field = json!("<seconds>"),
                        _ => redact(field),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(redact),
            _ => {}
        }
    }
    redact(&mut value);
    value
}

fn answered_leg(destination: &str) -> Value {
    json!({
        "callId": "<id>", "callDirection": "OUTBOUND", "callType": "PSTN",
        "initiatedTimestamp": "<time>", "connectedTimestamp": "<time>", "disconnectedTimestamp": "<time>",
        "source": format!("+{SOURCE}"), "destination": destination,
        "sourceFormat": "MSISDN", "destinationFormat": "MSISDN",
        "sourceCountryCode": "SG", "destinationCountryCode": "SG",
        "sourceRefId": "simulator-virtual-number",
        "callStatus": "COMPLETED", "callDuration": "<seconds>",
        "callQuality": {"mos": 4.5, "packetLossRate": 0, "jitter": 20}
    })
}

fn unanswered_leg(destination: &str, status: &str) -> Value {
    json!({
        "callId": "<id>", "callDirection": "OUTBOUND", "callType": "PSTN",
        "initiatedTimestamp": "<time>", "disconnectedTimestamp": "<time>",
        "source": format!("+{SOURCE}"), "destination": destination,
        "sourceFormat": "MSISDN", "destinationFormat": "MSISDN",
        "sourceCountryCode": "SG", "destinationCountryCode": "SG",
        "sourceRefId": "simulator-virtual-number",
        "callStatus": status, "callDuration": "<seconds>"
    })
}

/// A redacted VSS of the appointment call (which carries clientRequestId `request-1`).
fn summary(status: &str, last_action: &str, legs: &[Value], error: Option<(i64, &str)>) -> Value {
    let mut details = serde_json::Map::new();
    for (name, leg) in ["callA", "callB"].iter().zip(legs) {
        details.insert((*name).to_owned(), leg.clone());
    }
    let mut payload = json!({
        "sessionId": "<id>", "subAccountId": SUBACCOUNT, "sessionStatus": status,
        "startTime": "<time>", "endTime": "<time>", "lastAction": last_action,
        "callCount": legs.len(), "clientRequestId": "request-1", "details": details,
    });
    if let Some((code, message)) = error {
        payload["errorDetails"] = json!({"errorCode": code, "errorMsg": message});
    }
    json!({
        "payload": payload, "namespace": "VOICE", "eventType": "SESSION_SUMMARY",
        "description": "Summary of a completed call session", "version": 5
    })
}

fn dtmfs(vcas: &[Value]) -> Vec<Value> {
    vcas.iter()
        .map(|vca| vca["payload"]["eventData"]["dtmf"].clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Send Callflow validation
// ---------------------------------------------------------------------------------------------

fn error_body(response: &Value, code: i64, message: &str) -> Value {
    json!({
        "sessionStatus": "NOT_CREATED",
        "callFlowRequestId": response["callFlowRequestId"],
        "statusCode": code,
        "statusMessage": message,
    })
}

#[tokio::test]
async fn every_validation_code_answers_its_documented_body_and_status() {
    let env = Env::new(test_config()).await;
    let entry = |detail: &str| format!("Invalid call flow entry provided. {detail}");
    let capture_with = |extra: Value| {
        let mut action = json!({"action": "sayAndCapture", "params": {
            "promptMessage": "Press 1", "voiceProfile": VOICE}});
        for (key, value) in extra.as_object().unwrap() {
            action["params"][key] = value.clone();
        }
        with_second(action)
    };
    let past = (Utc::now() - ChronoDuration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let past_millis = (Utc::now() - ChronoDuration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let too_long = "a".repeat(3001);
    let unknown_action =
        "$.callflow[1].action should be one of: makeCall,say,sayAndCapture,playFile,hangup";
    let special = "Invalid Callflow Content: Some special characters are invalid/unaccepted";

    let cases: Vec<(&str, Value, u16, i64, String)> = vec![
        (
            "first action is a say",
            json!({"callflow": [say("Hi"), make_call("+6591230001")]}),
            422,
            -1013,
            "Invalid Callflow : First action should be a MakeCall action".into(),
        ),
        (
            "empty callflow",
            json!({"callflow": []}),
            422,
            -1013,
            "Invalid Callflow : First action should be a MakeCall action".into(),
        ),
        (
            "waitForDigits",
            with_second(json!({"action": "waitForDigits", "params": {}})),
            400,
            -1007,
            unknown_action.into(),
        ),
        (
            "record",
            with_second(json!({"action": "record", "params": {}})),
            400,
            -1007,
            unknown_action.into(),
        ),
        (
            "transfer",
            with_second(json!({"action": "transfer", "params": {}})),
            400,
            -1007,
            unknown_action.into(),
        ),
        (
            "connect",
            with_second(json!({"action": "connect", "params": {}})),
            400,
            -1007,
            unknown_action.into(),
        ),
        (
            "amd",
            with_second(json!({"action": "amd", "params": {}})),
            400,
            -1007,
            unknown_action.into(),
        ),
        (
            "the documented missing text",
            json!({"callflow": [{"action": "say", "params": {"voiceProfile": VOICE}}]}),
            400,
            -1009,
            entry("$.callflow[0].params.text: is missing but it is required"),
        ),
        (
            "missing promptMessage",
            with_second(json!({"action": "sayAndCapture", "params": {"voiceProfile": VOICE}})),
            400,
            -1009,
            entry("$.callflow[1].params.promptMessage: is missing but it is required"),
        ),
        (
            "missing params",
            with_second(json!({"action": "say"})),
            400,
            -1009,
            entry("$.callflow[1].params: is missing but it is required"),
        ),
        (
            "missing action",
            with_second(json!({"params": {}})),
            400,
            -1009,
            entry("$.callflow[1].action: is missing but it is required"),
        ),
        (
            "callflow not an array",
            json!({"callflow": {"action": "makeCall"}}),
            400,
            -1009,
            entry("$.callflow: object found, array expected"),
        ),
        (
            "text too long",
            with_second(
                json!({"action": "say", "params": {"text": too_long, "voiceProfile": VOICE}}),
            ),
            400,
            -1009,
            entry("$.callflow[1].params.text: may only be 3000 characters long"),
        ),
        (
            "prompt too long",
            capture_with(json!({"promptMessage": "b".repeat(3001)})),
            400,
            -1009,
            entry("$.callflow[1].params.promptMessage: may only be 3000 characters long"),
        ),
        (
            "repetition 4",
            with_second(
                json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "repetition": 4}}),
            ),
            400,
            -1009,
            entry("$.callflow[1].params.repetition: must have a maximum value of 3"),
        ),
        (
            "repetition 0",
            with_second(
                json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "repetition": 0}}),
            ),
            400,
            -1009,
            entry("$.callflow[1].params.repetition: must have a minimum value of 1"),
        ),
        (
            "capture repetition 4",
            capture_with(json!({"repetition": 4})),
            400,
            -1009,
            entry("$.callflow[1].params.repetition: must have a maximum value of 3"),
        ),
        (
            "speed 2.5",
            with_second(
                json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "speed": 2.5}}),
            ),
            400,
            -1009,
            entry("$.callflow[1].params.speed: must have a maximum value of 2"),
        ),
        (
            "speed 0.4",
            capture_with(json!({"speed": 0.4})),
            400,
            -1009,
            entry("$.callflow[1].params.speed: must have a minimum value of 0.5"),
        ),
        (
            "speed as text",
            with_second(
                json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "speed": "fast"}}),
            ),
            400,
            -1009,
            entry("$.callflow[1].params.speed: string found, number expected"),
        ),
        (
            "maxDigits 26",
            capture_with(json!({"maxDigits": 26})),
            400,
            -1009,
            entry("$.callflow[1].params.maxDigits: must have a maximum value of 25"),
        ),
        (
            "bad fileUrl",
            with_second(json!({"action": "playFile", "params": {"fileUrl": "wave.mp3"}})),
            400,
            -1009,
            entry("$.callflow[1].params.fileUrl: does not match the uri pattern ^https?://"),
        ),
        (
            "validUntil not a date",
            json!({"validUntil": "tomorrow", "callflow": [make_call("+6591230001")]}),
            400,
            -1009,
            entry("$.validUntil: does not match the date-time pattern"),
        ),
        (
            "unknown voice",
            with_second(
                json!({"action": "say", "params": {"text": "Hi", "voiceProfile": "xx-XX-Nobody"}}),
            ),
            400,
            -1002,
            "Speech profile or language parameter invalid".into(),
        ),
        (
            "minDigits without maxDigits",
            capture_with(json!({"minDigits": 1})),
            400,
            -1003,
            "Valid maxDigits required when minDigits provided".into(),
        ),
        (
            "minDigits above maxDigits",
            capture_with(json!({"minDigits": 3, "maxDigits": 2})),
            400,
            -1003,
            "Valid maxDigits required when minDigits provided".into(),
        ),
        (
            "invalid overallTimeout beside digitTimeout",
            capture_with(json!({"digitTimeout": 5000, "overallTimeout": 0})),
            400,
            -1005,
            "Valid overallTimeout is required when digitTimeout provided".into(),
        ),
        (
            "overallTimeout below digitTimeout",
            capture_with(json!({"digitTimeout": 10000, "overallTimeout": 5000})),
            400,
            -1006,
            "OverallTimeout should be greater than digitTimeout".into(),
        ),
        (
            "completeOnHash false without maxDigits",
            capture_with(json!({"completeOnHash": false})),
            400,
            -1008,
            "Valid maxDigits is required when completeOnHash is false".into(),
        ),
        (
            "three makeCalls",
            json!({"callflow": [make_call("+6591230001"), make_call("+6591230011"), make_call("+6591230021")]}),
            422,
            -1010,
            "Some actions are provided beyond the allowed count".into(),
        ),
        (
            "hangup in the middle",
            json!({"callflow": [make_call("+6591230001"), {"action": "hangup"}, say("Hi")]}),
            422,
            -1012,
            "Invalid Callflow : Incorrect use of action Hangup".into(),
        ),
        (
            "two hangups",
            json!({"callflow": [make_call("+6591230001"), {"action": "hangup"}, {"action": "hangup"}]}),
            422,
            -1012,
            "Invalid Callflow : Incorrect use of action Hangup".into(),
        ),
        (
            "validUntil past",
            json!({"validUntil": past, "callflow": [make_call("+6591230001")]}),
            422,
            -1015,
            "The validity period of the call flow request has expired".into(),
        ),
        (
            "validUntil past with ms",
            json!({"validUntil": past_millis, "callflow": [make_call("+6591230001")]}),
            422,
            -1015,
            "The validity period of the call flow request has expired".into(),
        ),
        (
            "source not a number",
            json!({"callflow": [{"action": "makeCall", "params": {"source": "{{Virtual Number}}", "destination": "+6591230001"}}]}),
            422,
            -1014,
            "Source or caller ID is not allowed".into(),
        ),
        (
            "markup",
            with_second(say("Hello <break time=\"3s\"/> there")),
            400,
            -1016,
            special.into(),
        ),
        (
            "control character",
            with_second(say("Hello\u{0007}")),
            400,
            -1016,
            special.into(),
        ),
        (
            "newline in a failure message",
            capture_with(json!({"failureMessage": "Try\nagain"})),
            400,
            -1016,
            special.into(),
        ),
        (
            "short destination",
            with_second(say("Hi"))
                .tap(|b| b["callflow"][0]["params"]["destination"] = json!("12345")),
            400,
            -1017,
            "Invalid MSISDN format in Destination".into(),
        ),
        (
            "leading zero",
            json!({"callflow": [make_call("+0591178965")]}),
            400,
            -1017,
            "Invalid MSISDN format in Destination".into(),
        ),
        (
            "placeholder destination",
            json!({"callflow": [make_call("{{Number to Call}}")]}),
            400,
            -1017,
            "Invalid MSISDN format in Destination".into(),
        ),
    ];

    for (case, body, http_status, code, message) in cases {
        let (status, response) = env.send_callflow(&body).await;
        assert_eq!(
            (status, &response),
            (http_status, &error_body(&response, code, &message)),
            "case: {case}"
        );
        let request_id = response["callFlowRequestId"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(request_id).is_ok(), "case: {case}");
    }

    let (status, response) = env.send_raw_callflow("{\"callflow\": [").await;
    assert_eq!(
        (status, &response),
        (
            400,
            &error_body(&response, -1001, "Invalid JSON request body")
        )
    );
    let (status, response) = env.send_raw_callflow("[1, 2]").await;
    assert_eq!(
        (status, &response),
        (
            400,
            &error_body(&response, -1001, "Invalid JSON request body")
        )
    );

    // Nothing refused was played.
    let (_, sessions) = env.admin(reqwest::Method::GET, "sessions", None).await;
    assert_eq!(sessions, json!({"count": 0, "sessions": []}));
}

/// `let x = value.tap(|v| ...)`: edits a JSON value in an expression.
trait Tap {
    fn tap(self, edit: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, edit: impl FnOnce(&mut Self)) -> Self {
        edit(&mut self);
        self
    }
}

#[tokio::test]
async fn the_boundaries_the_guides_use_are_accepted() {
    let env = Env::new(test_config()).await;
    let accepted = [
        // Equal digit and overall timeouts: what every 8x8 guide sends.
        with_second(capture(PROMPT)),
        // Integer and float speeds at both ends, repetition 3.
        with_second(
            json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "speed": 0.5, "repetition": 3}}),
        ),
        with_second(
            json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "speed": 2}}),
        ),
        with_second(
            json!({"action": "say", "params": {"text": "Hi", "voiceProfile": VOICE, "speed": 1.5}}),
        ),
        // 3000 characters exactly; callRecording on makeCall; an empty hangup params.
        json!({"callflow": [
            {"action": "makeCall", "params": {"source": SOURCE, "destination": "6591230001", "callRecording": false}},
            say(&"a".repeat(3000)),
            {"action": "hangup", "params": {}}]}),
        // validUntil without milliseconds, clientActionId at the top level.
        json!({"validUntil": (Utc::now() + ChronoDuration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
               "clientActionId": "order-1", "callflow": [make_call("+6591230001")]}),
    ];
    for body in accepted {
        let (status, response) = env.send_callflow(&body).await;
        assert_eq!(status, 200, "{body} -> {response}");
    }
}

#[tokio::test]
async fn a_created_session_answers_the_documented_success_body() {
    let env = Env::new(test_config()).await;
    let until = "2099-08-01T09:00:00Z";
    let body = json!({"validUntil": until, "callflow": [make_call("+6591230001")]});
    let (status, response) = env.send_callflow(&body).await;
    assert_eq!(status, 200);
    assert_eq!(
        response,
        json!({
            "sessionId": response["sessionId"],
            "sessionStatus": "CREATED",
            "callFlowRequestId": response["callFlowRequestId"],
            "validUntil": "2099-08-01T09:00:00.000Z",
            "statusCode": 1,
            "statusMessage": "Created",
        })
    );
    assert!(uuid::Uuid::parse_str(response["sessionId"].as_str().unwrap()).is_ok());
    assert!(uuid::Uuid::parse_str(response["callFlowRequestId"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn strict_mode_refuses_a_digit_timeout_without_an_overall_timeout() {
    let mut config = test_config();
    config.strict = true;
    let env = Env::new(config).await;
    let body = with_second(json!({"action": "sayAndCapture", "params": {
        "promptMessage": "Press 1", "voiceProfile": VOICE, "minDigits": 1, "maxDigits": 1, "digitTimeout": 5000}}));
    let (status, response) = env.send_callflow(&body).await;
    assert_eq!(
        (status, &response),
        (
            400,
            &error_body(
                &response,
                -1005,
                "Valid overallTimeout is required when digitTimeout provided"
            )
        )
    );
}

#[tokio::test]
async fn a_wrong_key_gets_401_and_a_wrong_subaccount_404() {
    let env = Env::new(test_config()).await;
    let body = appointment("+6591230001");
    let callflows = |subaccount: &str| {
        format!(
            "{}/api/v1/subaccounts/{subaccount}/callflows",
            env.sim.base_url()
        )
    };

    for request in [
        env.http.post(callflows(SUBACCOUNT)).json(&body),
        env.http
            .post(callflows(SUBACCOUNT))
            .bearer_auth("wrong-key")
            .json(&body),
        env.http
            .post(callflows(SUBACCOUNT))
            .header(header::AUTHORIZATION, API_KEY)
            .json(&body),
    ] {
        let (status, response) = read(request.send().await.unwrap()).await;
        assert_eq!(
            (status, &response),
            (
                401,
                &error_body(
                    &response,
                    401,
                    "Authentication header not found or token invalid"
                )
            )
        );
    }

    let request = env
        .http
        .post(callflows("8x8_Testing"))
        .bearer_auth(API_KEY)
        .json(&body);
    let (status, response) = read(request.send().await.unwrap()).await;
    assert_eq!(
        (status, &response),
        (
            404,
            &error_body(&response, 404, "SubAccount not found by Id : 8x8_Testing")
        )
    );

    // The other endpoints answer the same checks with a small JSON body.
    let base = env.sim.base_url();
    for url in [
        format!("{base}/api/v1/subaccounts/{SUBACCOUNT}/webhooks"),
        format!("{base}/api/v1/subaccounts/{SUBACCOUNT}/speech-profiles"),
    ] {
        let (status, response) = read(
            env.http
                .get(&url)
                .bearer_auth("wrong")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, response),
            (
                401,
                json!({"statusCode": 401, "statusMessage": "API key not found or invalid"})
            )
        );
    }
    let (status, response) = read(
        env.http
            .get(format!("{base}/api/v1/subaccounts/other_account/webhooks"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, response),
        (
            404,
            json!({"statusCode": 404, "statusMessage": "Resource not found"})
        )
    );
}

#[tokio::test]
async fn every_documented_callflow_request_is_accepted_once_its_numbers_are_dialable() {
    let env = Env::new(test_config()).await;
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/8x8");
    let mut names: Vec<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("callflow-request-") && name.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");

    for name in names {
        let mut body: Value =
            serde_json::from_str(&std::fs::read_to_string(directory.join(&name)).unwrap()).unwrap();
        // The documents date from 2024 (their validUntil is past: -1015), and two use
        // `{{placeholders}}` for numbers (-1017 / -1014).
        if body.get("validUntil").is_some() {
            body["validUntil"] = json!(valid_until());
        }
        let make_call = &mut body["callflow"][0]["params"];
        for (field, replacement) in [("source", SOURCE), ("destination", "+6591230001")] {
            let number = make_call[field].as_str().unwrap();
            if number.contains('{') {
                make_call[field] = json!(replacement);
            }
        }
        let (status, response) = env.send_callflow(&body).await;
        assert_eq!(
            (status, response["sessionStatus"].clone()),
            (200, json!("CREATED")),
            "{name}: {response}"
        );
    }
}

#[tokio::test]
async fn speech_profiles_list_the_configured_voices_in_the_documented_shape() {
    let mut config = test_config();
    config.voice_profiles = vec!["en-US-Standard-A".into(), "da-DK-Naja".into()];
    let env = Env::new(config).await;
    let (status, response) = env
        .call(reqwest::Method::GET, "speech-profiles", None)
        .await;
    let documented: Value = serde_json::from_str(include_str!(
        "../fixtures/8x8/speech-profiles-response.json"
    ))
    .unwrap();
    assert_eq!((status, response), (200, documented));
}

// ---------------------------------------------------------------------------------------------
// Webhooks API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_webhooks_api_creates_lists_replaces_and_deletes_one_webhook_per_type() {
    let (sim, shutdown) = start_simulator(test_config()).await;
    let _stop = shutdown.drop_guard();
    let env_http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!(
        "{}/api/v1/subaccounts/{SUBACCOUNT}/webhooks",
        sim.base_url()
    );
    let post = |body: Value| {
        let request = env_http.post(&url).bearer_auth(API_KEY).json(&body);
        async move { read(request.send().await.unwrap()).await }
    };

    let created = post(json!({"active": true, "type": "VCA", "url": "https://app.test/vca", "httpAuthHeader": "Bearer s3cr3t"})).await;
    assert_eq!(
        created,
        (
            200,
            json!({"subAccountId": SUBACCOUNT, "count": 1, "webhooks": [
                {"type": "VCA", "url": "https://app.test/vca", "enabled": true, "httpAuthHeaderAvailable": true}
            ], "statusCode": 0, "statusMessage": "ok"})
        )
    );
    let (status, _) =
        post(json!({"type": "VSS", "url": "https://app.test/vss", "enabled": false})).await;
    assert_eq!(status, 200);
    // Creating VCA again replaces it (one webhook per type).
    let (status, _) = post(json!({"type": "VCA", "url": "https://app.test/vca2"})).await;
    assert_eq!(status, 200);

    let listed = read(
        env_http
            .get(&url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        listed,
        (
            200,
            json!({"subAccountId": SUBACCOUNT, "count": 2, "webhooks": [
                {"type": "VCA", "url": "https://app.test/vca2", "enabled": true, "httpAuthHeaderAvailable": false},
                {"type": "VSS", "url": "https://app.test/vss", "enabled": false, "httpAuthHeaderAvailable": false},
            ], "statusCode": 0, "statusMessage": "ok"})
        )
    );

    let deleted = read(
        env_http
            .delete(format!("{url}/VSS"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        deleted,
        (
            200,
            json!({"subAccountId": SUBACCOUNT, "type": "VSS", "url": "https://app.test/vss",
                   "enabled": false, "httpAuthHeaderAvailable": false,
                   "statusCode": 0, "statusMessage": "deleted"})
        )
    );
    let deleted_again = read(
        env_http
            .delete(format!("{url}/VSS"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        deleted_again,
        (
            404,
            json!({"statusCode": 404, "statusMessage": "Resource not found"})
        )
    );

    for bad in [
        json!({"type": "XYZ", "url": "https://app.test/"}),
        json!({"type": "VCA"}),
        json!({"type": "VCA", "url": "not a url"}),
        json!({"type": "VCA", "url": "https://app.test/", "active": "yes"}),
    ] {
        let (status, response) = post(bad.clone()).await;
        assert_eq!(
            (status, redacted(response.clone())),
            (
                422,
                json!({"errorId": "<id>", "statusCode": "1001",
                       "statusMessage": "Invalid JSON request body", "timestamp": "<time>"})
            ),
            "{bad}"
        );
        assert!(uuid::Uuid::parse_str(response["errorId"].as_str().unwrap()).is_ok());
        assert!(
            chrono::DateTime::parse_from_rfc3339(response["timestamp"].as_str().unwrap()).is_ok()
        );
    }
    let (status, _) = read(
        env_http
            .delete(format!("{url}/XYZ"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    // Nothing the bad requests sent changed the list.
    let (_, listed) = read(
        env_http
            .get(&url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["count"], 1);
}

// ---------------------------------------------------------------------------------------------
// Sessions: behaviours, VCA, VSS
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_last_digit_behaviour_reaches_its_session_summary() {
    let env = Env::new(test_config()).await;
    let hangup_leg = |d: &str| vec![answered_leg(d)];
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        (
            "+6591230001",
            summary("COMPLETED", "HANGUP", &hangup_leg("+6591230001"), None),
            vec![json!("1")],
        ),
        (
            "+6591230000",
            summary("COMPLETED", "HANGUP", &hangup_leg("+6591230000"), None),
            vec![json!("0")],
        ),
        (
            "+6591230002",
            summary(
                "NO_ANSWER",
                "MAKE_CALL",
                &[unanswered_leg("+6591230002", "NO_ANSWER")],
                None,
            ),
            vec![],
        ),
        (
            "+6591230003",
            summary(
                "BUSY",
                "MAKE_CALL",
                &[unanswered_leg("+6591230003", "BUSY")],
                None,
            ),
            vec![],
        ),
        (
            "+6591230004",
            summary("COMPLETED", "HANGUP", &hangup_leg("+6591230004"), None),
            vec![Value::Null],
        ),
        (
            "+6591230005",
            summary("COMPLETED", "HANGUP", &hangup_leg("+6591230005"), None),
            vec![json!("7"), json!("1")],
        ),
        (
            "+6591230006",
            summary(
                "FAILED",
                "MAKE_CALL",
                &[unanswered_leg("+6591230006", "FAILED")],
                None,
            ),
            vec![],
        ),
        (
            "+6591230007",
            summary(
                "COMPLETED",
                "SAY_AND_CAPTURE",
                &hangup_leg("+6591230007"),
                None,
            ),
            vec![],
        ),
        (
            "+6591230008",
            summary(
                "ERROR",
                "MAKE_CALL",
                &[unanswered_leg("+6591230008", "ERROR")],
                Some((-2004, "No coverage available for requested area")),
            ),
            vec![],
        ),
    ];
    for (destination, expected_vss, expected_dtmfs) in cases {
        let (session_id, vss) = env.play(&appointment(destination)).await;
        assert_eq!(vss["payload"]["sessionId"], json!(session_id));
        assert_eq!(redacted(vss), expected_vss, "destination {destination}");
        assert_eq!(
            dtmfs(&env.app.vcas_for(&session_id)),
            expected_dtmfs,
            "destination {destination}"
        );
    }

    // 9 presses 1, and every webhook comes twice with the same eventId.
    let session_id = env.place(&appointment("+6591230009")).await;
    env.ended_session(&session_id).await;
    let vcas = env.app.vcas_for(&session_id);
    assert_eq!(dtmfs(&vcas), vec![json!("1"), json!("1")]);
    assert_eq!(vcas[0], vcas[1]);
    let vsses = env.app.vsses_for(&session_id);
    assert_eq!(vsses.len(), 2);
    assert_eq!(vsses[0], vsses[1]);
    assert_eq!(
        redacted(vsses[0].clone()),
        summary("COMPLETED", "HANGUP", &hangup_leg("+6591230009"), None)
    );
    // Both VCA replies are in the record.
    let record = env.ended_session(&session_id).await;
    let vca_events: Vec<&Value> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "webhook" && e["type"] == "VCA")
        .collect();
    assert_eq!(vca_events.len(), 2);
    assert!(
        vca_events
            .iter()
            .all(|e| e["httpStatus"] == 200 && e["reply"]["clientActionId"] == "closing")
    );
}

#[tokio::test]
async fn a_vca_carries_every_documented_field_and_the_auth_header_verbatim() {
    let env = Env::new(test_config()).await;
    let session_id = env.place(&appointment("+6591230001")).await;
    env.ended_session(&session_id).await;
    let webhooks = env.app.webhooks_for(&session_id);
    assert_eq!(webhooks.len(), 2);
    for webhook in &webhooks {
        assert_eq!(webhook.authorization.as_deref(), Some(APP_AUTH));
        assert_eq!(webhook.content_type.as_deref(), Some("application/json"));
    }
    let vca = &webhooks[0].body;
    assert_eq!(vca["payload"]["sessionId"], json!(session_id));
    let event_id = vca["payload"]["eventId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(event_id).is_ok());
    let timestamp = vca["payload"]["timestamp"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok());
    assert_eq!(
        timestamp.len(),
        "2024-05-16T04:12:11.217Z".len(),
        "{timestamp}"
    );
    assert_eq!(
        redacted(vca.clone()),
        json!({
            "namespace": "VOICE",
            "eventType": "CALL_ACTION",
            "description": "Action request of a call",
            "payload": {
                "eventId": "<id>", "callId": "<id>", "sessionId": "<id>",
                "subAccountId": SUBACCOUNT,
                "callStatus": "ACTION_COMPLETED", "callDirection": "OUTBOUND", "callType": "PSTN",
                "source": "+6568332048", "destination": "+6591230001",
                "sourceFormat": "MSISDN", "destinationFormat": "MSISDN",
                "sourceCountryCode": "SG", "destinationCountryCode": "SG",
                "sourceRefId": "simulator-virtual-number", "destinationRefId": null,
                "callDuration": "<seconds>",
                "eventData": {"dtmf": "1"},
                "sipCode": 200,
                "timestamp": "<time>"
            }
        })
    );
    // The VCA's callId is callA's.
    let vss = &webhooks[1].body;
    assert_eq!(
        vca["payload"]["callId"],
        vss["payload"]["details"]["callA"]["callId"]
    );
    // What the app's own parser reads from it.
    let parsed: callconfirm::voice::wire::VcaEvent = serde_json::from_value(vca.clone()).unwrap();
    assert_eq!(parsed.payload.dtmf().as_deref(), Some("1"));
    assert_eq!(parsed.payload.client_action_id, None);
}

#[tokio::test]
async fn the_first_vca_has_no_client_action_id_and_the_next_echoes_the_reply() {
    let env = Env::new(test_config()).await;
    let session_id = env.place(&appointment("+6591230005")).await;
    env.ended_session(&session_id).await;
    let vcas = env.app.vcas_for(&session_id);
    assert_eq!(vcas.len(), 2);
    assert!(
        vcas[0]["payload"].get("clientActionId").is_none(),
        "{}",
        vcas[0]
    );
    assert_eq!(vcas[1]["payload"]["clientActionId"], "reprompt");

    let mut config = test_config();
    config.echo_initial_client_action_id = true;
    let env = Env::new(config).await;
    let session_id = env.place(&appointment("+6591230005")).await;
    env.ended_session(&session_id).await;
    let vcas = env.app.vcas_for(&session_id);
    assert_eq!(vcas[0]["payload"]["clientActionId"], "order-1");
    assert_eq!(vcas[1]["payload"]["clientActionId"], "reprompt");
}

#[tokio::test]
async fn an_invalid_a_failed_or_a_slow_reply_ends_the_session_with_error_2003() {
    let mut config = test_config();
    config.vca_timeout = Duration::from_millis(300);
    // The reply is chosen by the destination's 7th digit.
    let policy: Policy = Arc::new(|vca: &Value| {
        let destination = vca["payload"]["destination"].as_str().unwrap_or("");
        match destination.chars().nth(7) {
            Some('1') => Reply::Json(
                200,
                json!({"callflow": [{"action": "transfer", "params": {}}]}),
            ),
            Some('2') => Reply::Json(500, json!({"error": "boom"})),
            Some('3') => Reply::Slow,
            Some('4') => Reply::Text(200, "OK"),
            Some('5') => Reply::Json(200, json!({"clientActionId": "x"})),
            _ => Reply::Json(
                200,
                json!({"callflow": [
                {"action": "makeCall", "params": {"source": SOURCE, "destination": "6531589338"}},
                {"action": "makeCall", "params": {"source": SOURCE, "destination": "6531589339"}}]}),
            ),
        }
    });
    let env = Env::with_policy(config, policy).await;
    let error = summary(
        "ERROR",
        "SAY_AND_CAPTURE",
        &[answered_leg("+6591231001")],
        Some((-2003, "The call flow provided is invalid")),
    );
    let mut sessions = Vec::new();
    for (destination, reason) in [
        (
            "+6591231001",
            json!(
                "-1007 $.callflow[0].action should be one of: makeCall,say,sayAndCapture,playFile,hangup"
            ),
        ),
        ("+6591232001", json!("the app answered HTTP 500")),
        ("+6591233001", Value::Null),
        ("+6591234001", json!("-1001 Invalid JSON request body")),
        (
            "+6591235001",
            json!(
                "-1009 Invalid call flow entry provided. $.callflow: is missing but it is required"
            ),
        ),
        (
            "+6591236001",
            json!("-1010 Some actions are provided beyond the allowed count"),
        ),
    ] {
        let (session_id, vss) = env.play(&appointment(destination)).await;
        let mut expected = error.clone();
        expected["payload"]["details"]["callA"]["destination"] = json!(destination);
        assert_eq!(redacted(vss), expected, "{destination}");
        let record = env.ended_session(&session_id).await;
        let rejected: Vec<Value> = events_named(&record, "reply_rejected")
            .into_iter()
            .map(|e| e["reason"].clone())
            .collect();
        let expected_reasons = if reason.is_null() {
            vec![]
        } else {
            vec![reason]
        };
        assert_eq!(rejected, expected_reasons, "{destination}");
        sessions.push(record);
    }
    // The slow one: the VCA delivery itself failed.
    let slow_vca = events_named(&sessions[2], "webhook")[0].clone();
    assert_eq!(slow_vca["type"], "VCA");
    assert_eq!(slow_vca["error"], "no answer within 300 ms");
}

fn events_named(record: &Value, name: &str) -> Vec<Value> {
    record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == name)
        .cloned()
        .collect()
}

#[tokio::test]
async fn without_a_vca_webhook_the_call_still_plays_and_ends_with_error_2003() {
    let env = Env::new(test_config()).await;
    let (status, _) = env
        .call(reqwest::Method::DELETE, "webhooks/VCA", None)
        .await;
    assert_eq!(status, 200);
    let (_, vss) = env.play(&appointment("+6591230001")).await;
    assert_eq!(
        redacted(vss),
        summary(
            "ERROR",
            "SAY_AND_CAPTURE",
            &[answered_leg("+6591230001")],
            Some((-2003, "The call flow provided is invalid"))
        )
    );
}

#[tokio::test]
async fn an_empty_callflow_reply_hangs_up_and_completes() {
    let policy: Policy = Arc::new(|_: &Value| Reply::Json(200, json!({"callflow": []})));
    let env = Env::with_policy(test_config(), policy).await;
    let (session_id, vss) = env.play(&appointment("+6591230001")).await;
    assert_eq!(
        redacted(vss),
        summary(
            "COMPLETED",
            "SAY_AND_CAPTURE",
            &[answered_leg("+6591230001")],
            None
        )
    );
    let record = env.ended_session(&session_id).await;
    let hangups: Vec<&Value> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "hangup")
        .collect();
    assert_eq!(hangups.len(), 1);
    assert_eq!(hangups[0]["by"], "platform");
}

#[tokio::test]
async fn a_make_call_reply_bridges_the_staff_and_reports_both_legs() {
    let policy: Policy = Arc::new(|_: &Value| {
        Reply::Json(
            200,
            json!({"clientActionId": "transfer", "callflow": [
                say("Please hold while we connect you."),
                {"action": "makeCall", "params": {"source": SOURCE, "destination": "6531589338"}},
            ]}),
        )
    });
    let env = Env::with_policy(test_config(), policy).await;
    let (session_id, vss) = env.play(&appointment("+6591230001")).await;
    let staff = answered_leg("+6531589338");
    assert_eq!(
        redacted(vss),
        summary(
            "COMPLETED",
            "MAKE_CALL",
            &[answered_leg("+6591230001"), staff],
            None
        )
    );
    let record = env.ended_session(&session_id).await;
    let bridged: Vec<&Value> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "bridged")
        .collect();
    assert_eq!(bridged.len(), 1);
    assert_eq!(bridged[0]["destination"], "+65****9338");
}

#[tokio::test]
async fn scripted_customers_from_config_and_from_the_admin_api_press_their_keys() {
    let mut config = test_config();
    // A scripted destination always answers, even one ending in 2 (never answers).
    config.customers =
        callconfirm::voice::simulator::parse_customer_scripts("+6591230002=9,1").unwrap();
    let env = Env::new(config).await;
    let (session_id, vss) = env.play(&appointment("+6591230002")).await;
    assert_eq!(
        dtmfs(&env.app.vcas_for(&session_id)),
        vec![json!("9"), json!("1")]
    );
    assert_eq!(vss["payload"]["sessionStatus"], "COMPLETED");
    let record = env.ended_session(&session_id).await;
    assert_eq!(record["behaviour"], "scripted: 9,1");

    // Set at runtime: 0 then 1 at a number that is otherwise busy.
    let (status, body) = env
        .admin(
            reqwest::Method::PUT,
            "customers/+6591230003",
            Some(json!({"keys": "0,1"})),
        )
        .await;
    assert_eq!((status, body), (204, Value::Null));
    let (session_id, _) = env.play(&appointment("+6591230003")).await;
    // 0 is a decision for the app's policy: the call ends after the first key.
    assert_eq!(dtmfs(&env.app.vcas_for(&session_id)), vec![json!("0")]);

    // `none` then `hangup`: the customer hangs up during the second prompt; no VCA.
    let (status, _) = env
        .admin(
            reqwest::Method::PUT,
            "customers/6591230003",
            Some(json!({"keys": "none, hangup"})),
        )
        .await;
    assert_eq!(status, 204);
    let (session_id, vss) = env.play(&appointment("+6591230003")).await;
    assert!(env.app.vcas_for(&session_id).is_empty());
    assert_eq!(
        redacted(vss),
        summary(
            "COMPLETED",
            "SAY_AND_CAPTURE",
            &[answered_leg("+6591230003")],
            None
        )
    );

    // Deleted: back to the last-digit behaviour (3 is busy).
    let (status, _) = env
        .admin(reqwest::Method::DELETE, "customers/+6591230003", None)
        .await;
    assert_eq!(status, 204);
    let (_, vss) = env.play(&appointment("+6591230003")).await;
    assert_eq!(vss["payload"]["sessionStatus"], "BUSY");
    let (status, _) = env
        .admin(reqwest::Method::DELETE, "customers/+6591230003", None)
        .await;
    assert_eq!(status, 404);

    for (body, error) in [
        (
            json!({"keys": "9,x"}),
            "\"x\" is not a customer input: use keys (0-9, *, #), none or hangup",
        ),
        (json!({"keys": 9}), "keys must be a string like \"9,1\""),
    ] {
        let (status, response) = env
            .admin(reqwest::Method::PUT, "customers/+6591230003", Some(body))
            .await;
        assert_eq!((status, response), (400, json!({"error": error})));
    }
    let (status, response) = env
        .admin(
            reqwest::Method::PUT,
            "customers/123",
            Some(json!({"keys": "1"})),
        )
        .await;
    assert_eq!(
        (status, response),
        (
            400,
            json!({"error": "the destination must be a phone number of 7 to 15 digits"})
        )
    );
}

#[tokio::test]
async fn the_session_record_shows_what_happened_in_order() {
    let env = Env::new(test_config()).await;
    let session_id = env.place(&appointment("+6591230005")).await;
    let record = env.ended_session(&session_id).await;

    let events: Vec<String> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let name = e["event"].as_str().unwrap();
            match name {
                "dialled" => format!(
                    "dialled {} {}",
                    e["leg"].as_str().unwrap(),
                    e["destination"].as_str().unwrap()
                ),
                "answered" => format!("answered {}", e["leg"].as_str().unwrap()),
                "heard" => format!("heard {}", e["text"].as_str().unwrap()),
                "pressed" => format!("pressed {}", e["keys"].as_str().unwrap()),
                "webhook" => format!(
                    "webhook {} {} -> {}",
                    e["type"].as_str().unwrap(),
                    e["body"]["payload"]["eventData"]["dtmf"],
                    e["httpStatus"]
                ),
                "hangup" => format!("hangup by {}", e["by"].as_str().unwrap()),
                "ended" => format!("ended {}", e["sessionStatus"].as_str().unwrap()),
                other => other.to_owned(),
            }
        })
        .collect();
    assert_eq!(
        events,
        vec![
            "callflow_request".to_owned(),
            "dialled callA +65****0005".into(),
            "answered callA".into(),
            format!("heard {PROMPT}"),
            "pressed 7".into(),
            "webhook VCA \"7\" -> 200".into(),
            format!("heard {REPROMPT}"),
            "pressed 1".into(),
            "webhook VCA \"1\" -> 200".into(),
            "heard Thank you for confirming.".into(),
            "hangup by app".into(),
            "webhook VSS null -> 200".into(),
            "ended COMPLETED".into(),
        ]
    );
    // The request as received, and the VSS that was sent.
    let request = &record["events"][0]["body"];
    assert_eq!(request["callflow"][1], capture(PROMPT));
    assert_eq!(record["vss"], env.app.vsses_for(&session_id)[0]);
    assert_eq!(
        redacted(record.clone())
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "events" | "vss"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<serde_json::Map<_, _>>(),
        json!({
            "sessionId": "<id>", "callFlowRequestId": "<id>", "destination": "+65****0005",
            "behaviour": "presses 7 then 1", "createdAt": "<time>",
            "state": "ended", "sessionStatus": "COMPLETED"
        })
        .as_object()
        .unwrap()
        .clone()
    );

    // A silent customer hears the failure message between tries, not after the last one.
    let session_id = env.place(&appointment("+6591230004")).await;
    let record = env.ended_session(&session_id).await;
    let heard_and_pressed: Vec<String> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| match e["event"].as_str().unwrap() {
            "heard" => Some(format!("heard {}", e["text"].as_str().unwrap())),
            "no_input" => Some("no_input".to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        heard_and_pressed,
        vec![
            format!("heard {PROMPT}"),
            "no_input".into(),
            format!("heard {FAILURE}"),
            format!("heard {PROMPT}"),
            "no_input".into(),
            "heard We did not hear from you. Goodbye.".into(),
        ]
    );

    // Summaries list the newest first; an unknown session is a JSON 404.
    let (_, sessions) = env.admin(reqwest::Method::GET, "sessions", None).await;
    assert_eq!(sessions["count"], 2);
    assert_eq!(sessions["sessions"][0]["sessionId"], json!(session_id));
    let (status, body) = env.admin(reqwest::Method::GET, "sessions/nope", None).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "no session with this id"}))
    );

    // The overview names the subaccount and the behaviour of every last digit.
    let overview = env
        .http
        .get(format!("{}/_simulator", env.sim.base_url()))
        .send()
        .await
        .unwrap();
    let (status, overview) = read(overview).await;
    assert_eq!(status, 200);
    assert_eq!(overview["subAccountId"], SUBACCOUNT);
    assert_eq!(
        overview["customersByLastDigit"].as_object().unwrap().len(),
        10
    );
}

// ---------------------------------------------------------------------------------------------
// Faults and counters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn faults_make_the_next_send_callflow_requests_fail_and_still_count() {
    let env = Env::new(test_config()).await;
    let body = appointment("+6591230001");

    let (status, armed) = env
        .admin(
            reqwest::Method::POST,
            "faults",
            Some(json!({"times": 2, "status": 503})),
        )
        .await;
    assert_eq!(
        (status, armed),
        (
            200,
            json!({"times": 2, "status": 503, "body": null, "garbage": false, "delayMs": 0})
        )
    );
    for _ in 0..2 {
        let (status, response) = env.send_callflow(&body).await;
        assert_eq!(
            (status, &response),
            (503, &error_body(&response, 503, "Service Unavailable"))
        );
    }
    let (status, _) = env.send_callflow(&body).await;
    assert_eq!(status, 200);

    env.admin(
        reqwest::Method::POST,
        "faults",
        Some(json!({"times": 1, "status": 500, "body": {"anything": [1, 2]}})),
    )
    .await;
    assert_eq!(
        env.send_callflow(&body).await,
        (500, json!({"anything": [1, 2]}))
    );

    env.admin(
        reqwest::Method::POST,
        "faults",
        Some(json!({"garbage": true})),
    )
    .await;
    let response = env
        .http
        .post(env.api("callflows"))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    // Late: the client gives up, yet the call was placed (the "in doubt" case).
    env.admin(
        reqwest::Method::POST,
        "faults",
        Some(json!({"times": 1, "delayMs": 3000})),
    )
    .await;
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = impatient
        .post(env.api("callflows"))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");

    env.admin(
        reqwest::Method::POST,
        "faults",
        Some(json!({"times": 5, "status": 500})),
    )
    .await;
    let (status, _) = env.admin(reqwest::Method::DELETE, "faults", None).await;
    assert_eq!(status, 204);
    let (status, _) = env.send_callflow(&body).await;
    assert_eq!(status, 200);

    let (status, response) = env
        .admin(reqwest::Method::POST, "faults", Some(json!({"times": 1})))
        .await;
    assert_eq!(
        (status, response),
        (
            400,
            json!({"error": "give at least one of status, garbage or delayMs"})
        )
    );

    // 2 x 503, 1 ok, 1 x 500, garbage, late, 1 ok = 7 requests; 3 sessions (ok, late, ok).
    let (_, sessions) = env.admin(reqwest::Method::GET, "sessions", None).await;
    for session in sessions["sessions"].as_array().unwrap() {
        env.ended_session(session["sessionId"].as_str().unwrap())
            .await;
    }
    let (_, stats) = env.admin(reqwest::Method::GET, "stats", None).await;
    assert_eq!(
        stats,
        json!({"callflowRequests": 7, "sessionsCreated": 3, "activeSessions": 0,
               "webhooksDelivered": 6, "webhooksFailed": 0})
    );
}

// ---------------------------------------------------------------------------------------------
// The app's own callflows, and shutdown
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_apps_own_client_and_callflows_are_accepted() {
    use callconfirm::domain::PhoneNumber;
    use callconfirm::ivr::callflow;
    use callconfirm::ivr::catalog::{Catalog, ScriptRequest};
    use callconfirm::voice::client::{VoiceClient, VoiceClientSettings};

    let env = Env::new(test_config()).await;
    let source = PhoneNumber::parse(SOURCE).unwrap();
    let script = Catalog::builtin(1)
        .render(&ScriptRequest {
            order_id: "order-42",
            template: None,
            language: None,
            time_zone: None,
            appointment: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:30:00+08:00").unwrap(),
            business_name: "Bright Smile Dental",
            customer_name: None,
            staff_name: None,
            callback_phone: None,
            staff_phone: None,
            source: &source,
        })
        .unwrap();
    let client = VoiceClient::new(VoiceClientSettings {
        base_url: env.sim.base_url(),
        api_key: API_KEY.to_owned().into(),
        subaccount_id: SUBACCOUNT.to_owned(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let request = callflow::initial_request(&script, "6591230001", Utc::now());
    let created = client.send_callflow(&request).await.unwrap();
    let record = env.ended_session(&created.session_id).await;
    assert_eq!(record["sessionStatus"], "COMPLETED");
    assert_eq!(
        dtmfs(&env.app.vcas_for(&created.session_id)),
        vec![json!("1")]
    );

    // The app's closing reply (say + hangup) is a valid VCA reply too, even in strict mode.
    let closing = callconfirm::voice::wire::VcaReply {
        client_action_id: script.client_action_base.clone(),
        callflow: vec![
            callflow::say(&script, &script.texts.confirmed),
            callconfirm::voice::wire::Action::Hangup,
        ],
    };
    let profiles = callconfirm::voice::simulator::default_voice_profiles();
    let rules = callconfirm::voice::simulator::validate::Rules {
        voice_profiles: &profiles,
        strict: true,
        capture_defaults: Default::default(),
    };
    let reply = serde_json::to_vec(&closing).unwrap();
    assert!(callconfirm::voice::simulator::validate::vca_reply(&reply, &rules, 1).is_ok());
}

#[tokio::test]
async fn cancelling_the_token_stops_the_server() {
    let (sim, shutdown) = start_simulator(test_config()).await;
    let url = format!("{}/_simulator/stats", sim.base_url());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    shutdown.cancel();
    sim.stopped().await.unwrap();
    assert!(client.get(&url).send().await.is_err());
}
