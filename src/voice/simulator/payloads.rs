//! The JSON the simulated platform sends: Send Callflow answers, VCA and VSS webhooks, in 8x8's documented shapes (CONTRACT §2.4-§2.5, §3.2, §4).

use crate::voice::simulator::codes::{Rejection, SessionError};
use crate::voice::simulator::numbers::country_code;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The reference id of the caller-ID virtual number, as 8x8 reports it on outbound legs.
pub const SOURCE_REF_ID: &str = "simulator-virtual-number";

/// `2024-05-16T04:12:11.217Z`: VCA timestamps, `validUntil`.
pub fn timestamp_millis(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2026-01-13T08:26:58Z`: VSS times have no milliseconds in every example.
pub fn timestamp_seconds(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// HTTP 200 to Send Callflow. `validUntil` is echoed when the request had one; 8x8 documents
/// no default, so none is invented.
pub fn callflow_created(
    session_id: &str,
    call_flow_request_id: &str,
    valid_until: Option<DateTime<Utc>>,
) -> Value {
    let mut body = json!({
        "sessionId": session_id,
        "sessionStatus": "CREATED",
        "callFlowRequestId": call_flow_request_id,
        "statusCode": 1,
        "statusMessage": "Created",
    });
    if let Some(until) = valid_until {
        body["validUntil"] = json!(timestamp_millis(until));
    }
    body
}

/// The `CallflowErrorResponse` body of every refused Send Callflow.
pub fn callflow_error(call_flow_request_id: &str, status_code: i64, message: &str) -> Value {
    json!({
        "sessionStatus": "NOT_CREATED",
        "callFlowRequestId": call_flow_request_id,
        "statusCode": status_code,
        "statusMessage": message,
    })
}

pub fn callflow_rejected(call_flow_request_id: &str, rejection: &Rejection) -> Value {
    callflow_error(call_flow_request_id, rejection.code, &rejection.message)
}

/// One call leg of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub call_id: String,
    /// `+`-prefixed.
    pub source: String,
    /// `+`-prefixed.
    pub destination: String,
    pub initiated: DateTime<Utc>,
    pub connected: Option<DateTime<Utc>>,
    pub disconnected: Option<DateTime<Utc>>,
    /// `COMPLETED`, `NO_ANSWER`, `BUSY`, `FAILED` or `ERROR` (the no-coverage example).
    pub status: &'static str,
}

impl Leg {
    fn duration_at(&self, at: DateTime<Utc>) -> i64 {
        self.connected
            .map_or(0, |connected| (at - connected).num_seconds().max(0))
    }

    fn to_vss_json(&self, ended_at: DateTime<Utc>) -> Value {
        let disconnected = self.disconnected.unwrap_or(ended_at);
        let mut leg = json!({
            "callId": self.call_id,
            "callDirection": "OUTBOUND",
            "callType": "PSTN",
            "initiatedTimestamp": timestamp_seconds(self.initiated),
            "disconnectedTimestamp": timestamp_seconds(disconnected),
            "source": self.source,
            "destination": self.destination,
            "sourceFormat": "MSISDN",
            "destinationFormat": "MSISDN",
            "sourceCountryCode": country_code(&self.source),
            "destinationCountryCode": country_code(&self.destination),
            "sourceRefId": SOURCE_REF_ID,
            "callStatus": self.status,
            "callDuration": self.duration_at(disconnected),
        });
        // Legs that never connected have neither a connected time nor a call quality.
        if let Some(connected) = self.connected {
            leg["connectedTimestamp"] = json!(timestamp_seconds(connected));
            leg["callQuality"] = json!({ "mos": 4.5, "packetLossRate": 0, "jitter": 20 });
        }
        leg
    }
}

/// What one VCA webhook reports.
#[derive(Debug, Clone)]
pub struct VcaFacts<'a> {
    pub event_id: &'a str,
    pub session_id: &'a str,
    pub sub_account_id: &'a str,
    /// The customer's leg (callA).
    pub leg: &'a Leg,
    /// The captured digits; `None` when nothing was captured.
    pub dtmf: Option<&'a str>,
    /// The `clientActionId` of the app's previous reply (absent on the first VCA).
    pub client_action_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// The VCA webhook in the current documented shape (VCA-G; fixture `vca-dtmf-1.json`).
pub fn vca(facts: &VcaFacts<'_>) -> Value {
    let leg = facts.leg;
    let mut payload = json!({
        "eventId": facts.event_id,
        "callId": leg.call_id,
        "sessionId": facts.session_id,
        "subAccountId": facts.sub_account_id,
        "callStatus": "ACTION_COMPLETED",
        "callDirection": "OUTBOUND",
        "callType": "PSTN",
        "source": leg.source,
        "destination": leg.destination,
        "sourceFormat": "MSISDN",
        "destinationFormat": "MSISDN",
        "sourceCountryCode": country_code(&leg.source),
        "destinationCountryCode": country_code(&leg.destination),
        "sourceRefId": SOURCE_REF_ID,
        // Outbound: the destination is not one of our virtual numbers (VCA-G).
        "destinationRefId": null,
        "callDuration": leg.duration_at(facts.at),
        "eventData": { "dtmf": facts.dtmf },
        "sipCode": 200,
        "timestamp": timestamp_millis(facts.at),
    });
    if let Some(id) = facts.client_action_id {
        payload["clientActionId"] = json!(id);
    }
    json!({
        "namespace": "VOICE",
        "eventType": "CALL_ACTION",
        "description": "Action request of a call",
        "payload": payload,
    })
}

/// What one VSS webhook reports.
#[derive(Debug, Clone)]
pub struct VssFacts<'a> {
    pub session_id: &'a str,
    pub sub_account_id: &'a str,
    pub session_status: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub last_action: &'a str,
    /// callA, then callB when a second leg was dialled.
    pub legs: &'a [Leg],
    pub client_request_id: Option<&'a str>,
    pub error: Option<SessionError>,
}

/// The VSS webhook in the VSS-IVR shape, schema version 5.
pub fn vss(facts: &VssFacts<'_>) -> Value {
    let mut details = serde_json::Map::new();
    for (name, leg) in ["callA", "callB"].iter().zip(facts.legs) {
        details.insert((*name).to_owned(), leg.to_vss_json(facts.end));
    }
    let mut payload = json!({
        "sessionId": facts.session_id,
        "subAccountId": facts.sub_account_id,
        "sessionStatus": facts.session_status,
        "startTime": timestamp_seconds(facts.start),
        "endTime": timestamp_seconds(facts.end),
        "lastAction": facts.last_action,
        "callCount": facts.legs.len(),
        "details": details,
    });
    if let Some(id) = facts.client_request_id {
        payload["clientRequestId"] = json!(id);
    }
    if let Some(error) = facts.error {
        payload["errorDetails"] = json!({ "errorMsg": error.message(), "errorCode": error.code() });
    }
    json!({
        "payload": payload,
        "namespace": "VOICE",
        "eventType": "SESSION_SUMMARY",
        "description": "Summary of a completed call session",
        "version": 5,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::wire::{VcaEvent, VssEvent};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn leg() -> Leg {
        Leg {
            call_id: "627e25f1-133a-11ef-b08c-e33c09483244".into(),
            source: "+6568888888".into(),
            destination: "+6598888888".into(),
            initiated: at("2024-05-16T04:12:00.000Z"),
            connected: Some(at("2024-05-16T04:12:01.000Z")),
            disconnected: None,
            status: "COMPLETED",
        }
    }

    #[test]
    fn a_vca_has_the_documented_shape_and_the_app_reads_it() {
        let leg = leg();
        let body = vca(&VcaFacts {
            event_id: "77e6a667-133a-11ef-9dd4-e911cc6fc82f",
            session_id: "a4fad4b3-b388-12ee-b217-2fb8260fcf59",
            sub_account_id: "account_x",
            leg: &leg,
            dtmf: Some("1"),
            client_action_id: Some("ivr1_level1"),
            at: at("2024-05-16T04:12:11.217Z"),
        });
        let mut documented: Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/8x8/vca-dtmf-1.json"))
                .unwrap();
        // The simulator's own values where the doc shows placeholders.
        documented["payload"]["sourceRefId"] = json!(SOURCE_REF_ID);
        documented["payload"]["destinationRefId"] = Value::Null;
        documented["payload"]["callDuration"] = json!(10);
        assert_eq!(body, documented);
        let parsed: VcaEvent = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.payload.dtmf().as_deref(), Some("1"));
    }

    #[test]
    fn a_vss_has_the_documented_shape_and_the_app_reads_it() {
        let leg = leg();
        let body = vss(&VssFacts {
            session_id: "s",
            sub_account_id: "8x8_test",
            session_status: "COMPLETED",
            start: at("2024-05-16T04:12:00.000Z"),
            end: at("2024-05-16T04:12:17.000Z"),
            last_action: "HANGUP",
            legs: std::slice::from_ref(&leg),
            client_request_id: None,
            error: None,
        });
        let parsed: VssEvent = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(parsed.version, Some(5));
        let call_a = parsed.payload.leg("callA").unwrap();
        assert_eq!(call_a.call_status.as_deref(), Some("COMPLETED"));
        assert_eq!(
            body["payload"]["details"]["callA"]["callDuration"],
            json!(16)
        );
    }
}
