//! 8x8 Voice API wire types: what we send is strict and explicit, what we receive is parsed tolerantly.
//!
//! Shapes follow `CONTRACT.md` (kept beside the fixtures in `tests/fixtures/8x8/`): unknown
//! fields are ignored, enums are open, and every documented DTMF shape is accepted.

use serde::{Deserialize, Serialize, Serializer};
#[allow(unused_imports)] // `json!` is used by the OpenAPI examples.
use serde_json::json;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Callflows (sent by us in Send Callflow and in VCA replies)
// ---------------------------------------------------------------------------------------------

/// One callflow action: `{"action": "...", "params": {...}}`; `hangup` has no params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", content = "params", rename_all = "camelCase")]
pub enum Action {
    MakeCall(MakeCallParams),
    Say(SayParams),
    SayAndCapture(SayAndCaptureParams),
    PlayFile(PlayFileParams),
    Hangup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MakeCallParams {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SayParams {
    pub text: String,
    pub voice_profile: String,
    pub repetition: u8,
    pub speed: Speed,
}

/// Every parameter is sent explicitly: 8x8's own documents disagree on the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SayAndCaptureParams {
    pub prompt_message: String,
    pub voice_profile: String,
    pub repetition: u8,
    pub speed: Speed,
    pub min_digits: u8,
    pub max_digits: u8,
    pub digit_timeout: u32,
    pub overall_timeout: u32,
    pub complete_on_hash: bool,
    pub no_of_tries: u8,
    pub success_message: Option<String>,
    pub failure_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlayFileParams {
    pub file_url: String,
    pub repetition: u8,
}

/// TTS speed, 0.5 to 2. Whole values are written as integers (`1`, not `1.0`) because OAS
/// types `speed` as an integer and the original service sent `1`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = f64, example = 1)]
pub struct Speed(pub f64);

impl Speed {
    pub const NORMAL: Speed = Speed(1.0);
    pub const MIN: f64 = 0.5;
    pub const MAX: f64 = 2.0;

    pub fn is_valid(self) -> bool {
        (Self::MIN..=Self::MAX).contains(&self.0)
    }
}

impl Serialize for Speed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 1e9 {
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

/// The body of Send Callflow: `POST /api/v1/subaccounts/{id}/callflows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallflowRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_action_id: Option<String>,
    pub valid_until: String,
    pub callflow: Vec<Action>,
}

/// Our answer to a VCA webhook: the next actions, and the context 8x8 echoes back next time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcaReply {
    pub client_action_id: String,
    pub callflow: Vec<Action>,
}

// ---------------------------------------------------------------------------------------------
// Send Callflow responses (received)
// ---------------------------------------------------------------------------------------------

/// 8x8's answer to Send Callflow, success or error: only `sessionStatus` and `statusCode`
/// are relied upon; `sessionId` is required when the session was created.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallflowResponse {
    pub session_id: Option<String>,
    pub session_status: Option<String>,
    pub call_flow_request_id: Option<String>,
    pub valid_until: Option<String>,
    pub status_code: Option<IntOrString>,
    pub status_message: Option<String>,
}

impl CallflowResponse {
    /// `sessionStatus == CREATED` with a session id: the only shape that means "placed".
    pub fn created_session(&self) -> Option<&str> {
        match (&self.session_status, &self.session_id) {
            (Some(status), Some(id)) if status == "CREATED" && !id.is_empty() => Some(id),
            _ => None,
        }
    }
}

/// A number that 8x8 sometimes sends as a string (`statusCode: "1001"`, A-19; `errorCode`, A-17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

impl IntOrString {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            IntOrString::Int(n) => Some(*n),
            IntOrString::Str(s) => s.trim().parse().ok(),
        }
    }
}

impl std::fmt::Display for IntOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::Str(s) => f.write_str(s),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// VCA webhook (received)
// ---------------------------------------------------------------------------------------------

/// `{"namespace":"VOICE","eventType":"CALL_ACTION","payload":{...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcaEvent {
    pub namespace: Option<String>,
    pub event_type: Option<String>,
    pub payload: VcaPayload,
}

#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcaPayload {
    pub event_id: Option<String>,
    pub call_id: Option<String>,
    pub session_id: String,
    pub sub_account_id: Option<String>,
    pub call_status: Option<String>,
    pub source: Option<String>,
    pub destination: Option<String>,
    /// Object (`{"dtmf": "1"}`), bare string, or absent/null (CONTRACT §3.4).
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({"dtmf": "1"}))]
    pub event_data: Value,
    /// Legacy shape S4: `dtmf` directly in the payload.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub dtmf: Value,
    pub timestamp: Option<String>,
    pub client_action_id: Option<String>,
}

impl VcaPayload {
    /// The digits the customer pressed, or `None` for "no input" (CONTRACT §3.4 order).
    pub fn dtmf(&self) -> Option<String> {
        extract_dtmf(&self.event_data, &self.dtmf)
    }
}

/// Extracts DTMF from every documented shape, in the order CONTRACT §3.4 recommends:
/// `eventData.dtmf` (object), `eventData` as a string (JSON object inside, or the digits
/// themselves), then legacy `payload.dtmf`. Null and empty strings mean no input; numbers are
/// accepted defensively.
pub fn extract_dtmf(event_data: &Value, legacy_dtmf: &Value) -> Option<String> {
    let from_event_data = match event_data {
        Value::Object(map) => map.get("dtmf").and_then(digits_of),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map.get("dtmf").and_then(digits_of),
            _ => digits_of(event_data),
        },
        _ => None,
    };
    from_event_data.or_else(|| digits_of(legacy_dtmf))
}

fn digits_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// VSS webhook (received)
// ---------------------------------------------------------------------------------------------

/// `{"namespace":"VOICE","eventType":"SESSION_SUMMARY","payload":{...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VssEvent {
    pub namespace: Option<String>,
    pub event_type: Option<String>,
    pub version: Option<i64>,
    pub payload: VssPayload,
}

#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VssPayload {
    pub session_id: String,
    pub sub_account_id: Option<String>,
    pub session_status: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub last_action: Option<String>,
    pub call_count: Option<i64>,
    pub client_request_id: Option<String>,
    pub error_details: Option<ErrorDetails>,
    /// Legs by name: `callA`, `CallA`, `callB`... (A-13: the case varies).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub details: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails {
    pub error_code: Option<IntOrString>,
    pub error_msg: Option<String>,
}

/// One call leg of a session summary; every field optional.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLeg {
    pub call_id: Option<String>,
    pub call_direction: Option<String>,
    pub connected_timestamp: Option<String>,
    pub call_status: Option<String>,
    pub call_duration: Option<NumberOrString>,
}

/// `callDuration` is documented as String but sent as an integer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum NumberOrString {
    Number(f64),
    Str(String),
}

impl NumberOrString {
    pub fn as_seconds(&self) -> Option<i64> {
        match self {
            NumberOrString::Number(n) => Some(*n as i64),
            NumberOrString::Str(s) => s.trim().parse::<f64>().ok().map(|n| n as i64),
        }
    }
}

impl VssPayload {
    /// The leg named `name` (`"callA"`), whatever the case of its key.
    pub fn leg(&self, name: &str) -> Option<CallLeg> {
        self.details
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| serde_json::from_value(value.clone()).ok())
    }

    /// The session status normalised: upper case, `_` for spaces, `CANCELED`.
    pub fn normalized_status(&self) -> SessionStatus {
        SessionStatus::parse(self.session_status.as_deref().unwrap_or(""))
    }
}

/// 8x8's final session status, open for values the docs did not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    Completed,
    NoAnswer,
    Busy,
    Failed,
    Canceled,
    Error,
    Other(String),
}

impl SessionStatus {
    pub fn parse(raw: &str) -> SessionStatus {
        let normalized = raw.trim().to_ascii_uppercase().replace([' ', '-'], "_");
        match normalized.as_str() {
            "COMPLETED" => SessionStatus::Completed,
            "NO_ANSWER" => SessionStatus::NoAnswer,
            "BUSY" => SessionStatus::Busy,
            "FAILED" => SessionStatus::Failed,
            "CANCELED" | "CANCELLED" => SessionStatus::Canceled,
            "ERROR" => SessionStatus::Error,
            _ => SessionStatus::Other(normalized),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            SessionStatus::Completed => "COMPLETED",
            SessionStatus::NoAnswer => "NO_ANSWER",
            SessionStatus::Busy => "BUSY",
            SessionStatus::Failed => "FAILED",
            SessionStatus::Canceled => "CANCELED",
            SessionStatus::Error => "ERROR",
            SessionStatus::Other(other) => other,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks API (CONTRACT §6)
// ---------------------------------------------------------------------------------------------

/// The webhook types 8x8 knows; we register VCA and VSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WebhookType {
    Vca,
    Vss,
    Vcs,
    Vru,
    Vnu,
}

impl WebhookType {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookType::Vca => "VCA",
            WebhookType::Vss => "VSS",
            WebhookType::Vcs => "VCS",
            WebhookType::Vru => "VRU",
            WebhookType::Vnu => "VNU",
        }
    }
}

/// `POST /api/v1/subaccounts/{id}/webhooks`. We send `enabled` (the OAS contract, A-11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCreateRequest {
    #[serde(rename = "type")]
    pub kind: WebhookType,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_auth_header: Option<String>,
    pub enabled: bool,
}

/// One registered webhook as 8x8 reports it; the header itself is never returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub enabled: Option<bool>,
    pub http_auth_header_available: Option<bool>,
}

/// The list/create response: `{subAccountId, count, webhooks, statusCode, statusMessage}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookListResponse {
    pub sub_account_id: Option<String>,
    pub count: Option<i64>,
    #[serde(default)]
    pub webhooks: Vec<WebhookInfo>,
    pub status_code: Option<IntOrString>,
    pub status_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hangup_serializes_without_params() {
        assert_eq!(
            serde_json::to_value(Action::Hangup).unwrap(),
            json!({"action": "hangup"})
        );
    }

    #[test]
    fn whole_speed_is_an_integer_and_fractional_speed_a_float() {
        assert_eq!(serde_json::to_value(Speed(1.0)).unwrap(), json!(1));
        assert_eq!(serde_json::to_value(Speed(1.5)).unwrap(), json!(1.5));
    }

    #[test]
    fn dtmf_is_found_in_every_documented_shape() {
        let cases = [
            (json!({"dtmf": "1"}), Value::Null, Some("1")),
            (
                json!({"dtmf": "7534", "asrCaptured": "hi"}),
                Value::Null,
                Some("7534"),
            ),
            (json!("1"), Value::Null, Some("1")),
            (json!("{\"dtmf\":\"0\"}"), Value::Null, Some("0")),
            (Value::Null, json!("3"), Some("3")),
            (json!({"dtmf": null}), Value::Null, None),
            (json!({"dtmf": ""}), Value::Null, None),
            (Value::Null, Value::Null, None),
            (json!({"dtmf": 1}), Value::Null, Some("1")),
            (json!({}), json!("5"), Some("5")),
        ];
        for (event_data, legacy, expected) in cases {
            assert_eq!(
                extract_dtmf(&event_data, &legacy).as_deref(),
                expected,
                "eventData={event_data} dtmf={legacy}"
            );
        }
    }

    #[test]
    fn session_status_spellings_are_normalised() {
        assert_eq!(SessionStatus::parse("NO ANSWER"), SessionStatus::NoAnswer);
        assert_eq!(SessionStatus::parse("cancelled"), SessionStatus::Canceled);
        assert_eq!(
            SessionStatus::parse("COMPLETED_UNSUBSCRIBED"),
            SessionStatus::Other("COMPLETED_UNSUBSCRIBED".into())
        );
    }

    #[test]
    fn created_session_needs_created_and_an_id() {
        let created: CallflowResponse = serde_json::from_value(json!({
            "sessionId": "s1", "sessionStatus": "CREATED", "statusCode": 1
        }))
        .unwrap();
        assert_eq!(created.created_session(), Some("s1"));
        let refused: CallflowResponse = serde_json::from_value(json!({
            "sessionStatus": "NOT_CREATED", "statusCode": -1002
        }))
        .unwrap();
        assert_eq!(refused.created_session(), None);
        assert_eq!(refused.status_code.unwrap().as_i64(), Some(-1002));
    }
}
