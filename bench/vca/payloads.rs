//! The JSON the benchmark sends: make-call requests, and 8x8's VCA and VSS webhooks built
//! from the documented payloads in `tests/fixtures/8x8/`, with fresh ids filled in.
//!
//! A webhook body is serialized once into a template with holes, so that a request costs
//! the load generator a few string copies, not a JSON tree.

use crate::processes::{OUTBOUND, SUBACCOUNT};
use serde_json::{Value, json};
use std::sync::LazyLock;

/// Every customer's number: last digit 2, the simulator's customer who never answers.
pub const CUSTOMER: &str = "+6591230002";

/// A key the menu does not offer: the app asks again and the session stays live.
pub const WRONG_KEY: &str = "7";
/// Confirms the appointment: the session is finished and leaves the app's cache.
pub const CONFIRM_KEY: &str = "1";

/// The body of `POST /api/make-call` for call number `n` of run `run`.
pub fn make_call(run: &str, n: usize) -> String {
    json!({
        "orderId": format!("BENCH-{run}-{n}"),
        "customerPhone": CUSTOMER,
        "businessName": "Bright Smile Dental",
        "customerName": "Alex",
        "appointmentTime": "2026-12-01T09:30:00+08:00",
    })
    .to_string()
}

/// A VCA for `session_id` with the keys pressed; `echoed` is the `clientActionId` of the
/// app's previous reply (8x8 sends none on the first VCA, CONTRACT A-4).
pub fn vca(session_id: &str, dtmf: &str, echoed: Option<&str>) -> String {
    let event_id = uuid::Uuid::new_v4().to_string();
    match echoed {
        None => VCA_FIRST.fill(&[&event_id, session_id, dtmf]),
        Some(action) => VCA_ECHO.fill(&[&event_id, session_id, dtmf, action]),
    }
}

/// The session summary of an answered call that the app hung up.
pub fn vss(session_id: &str) -> String {
    VSS.fill(&[session_id])
}

static VCA_FIRST: LazyLock<Template> = LazyLock::new(|| Template::new(&vca_shape(false)));
static VCA_ECHO: LazyLock<Template> = LazyLock::new(|| Template::new(&vca_shape(true)));
static VSS: LazyLock<Template> = LazyLock::new(|| Template::new(&vss_shape()));

/// `vca-dtmf-1.json` as the simulator fills it for an outbound call of ours.
fn vca_shape(echo: bool) -> Value {
    let mut body: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/8x8/vca-dtmf-1.json"))
            .expect("the VCA fixture is JSON");
    let payload = &mut body["payload"];
    payload["eventId"] = hole(0);
    payload["sessionId"] = hole(1);
    payload["eventData"]["dtmf"] = hole(2);
    payload["subAccountId"] = json!(SUBACCOUNT);
    payload["source"] = json!(OUTBOUND);
    payload["destination"] = json!(CUSTOMER);
    payload["destinationRefId"] = Value::Null;
    match payload.as_object_mut() {
        Some(fields) if !echo => {
            fields.remove("clientActionId");
        }
        _ => payload["clientActionId"] = hole(3),
    }
    body
}

/// `vss-ivr-completed-hangup.json` turned into our outbound call.
fn vss_shape() -> Value {
    let mut body: Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/8x8/vss-ivr-completed-hangup.json"
    ))
    .expect("the VSS fixture is JSON");
    let payload = &mut body["payload"];
    payload["sessionId"] = hole(0);
    payload["subAccountId"] = json!(SUBACCOUNT);
    let leg = &mut payload["details"]["callA"];
    leg["callDirection"] = json!("OUTBOUND");
    leg["source"] = json!(OUTBOUND);
    leg["destination"] = json!(CUSTOMER);
    body
}

fn hole(index: usize) -> Value {
    json!(format!("\u{1}{index}\u{1}"))
}

/// A serialized JSON document with string values left out: `pieces[0] value0 pieces[1] ...`.
struct Template {
    pieces: Vec<String>,
    holes: Vec<usize>,
}

impl Template {
    fn new(shape: &Value) -> Template {
        let text = shape.to_string();
        let mut pieces = Vec::new();
        let mut holes = Vec::new();
        let mut rest = text.as_str();
        // serde_json writes the marker character as \u0001, inside the string's quotes.
        while let Some(start) = rest.find("\"\\u0001") {
            let after = &rest[start + 7..];
            let end = after.find("\\u0001\"").expect("a hole is closed");
            pieces.push(rest[..start].to_owned());
            holes.push(after[..end].parse().expect("a hole is numbered"));
            rest = &after[end + 7..];
        }
        pieces.push(rest.to_owned());
        Template { pieces, holes }
    }

    /// The document with `values[n]` (as JSON strings) in hole `n`.
    fn fill(&self, values: &[&str]) -> String {
        let mut text = String::with_capacity(1024);
        for (piece, &hole) in self.pieces.iter().zip(&self.holes) {
            text.push_str(piece);
            text.push_str(&Value::from(values[hole]).to_string());
        }
        text.push_str(self.pieces.last().map_or("", String::as_str));
        text
    }
}
