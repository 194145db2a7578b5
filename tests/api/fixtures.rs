//! Every documented 8x8 payload (tests/fixtures/8x8/, copied from 8x8's docs with their
//! sources in SOURCES.md) is parsed by our types.

use callconfirm::domain::{SessionOutcome, customer_answered};
use callconfirm::voice::wire::{
    CallflowResponse, SessionStatus, VcaEvent, VssEvent, WebhookListResponse,
};
use serde_json::Value;
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/8x8")
}

fn fixtures(prefix: &str) -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".json"))
        .map(|name| {
            let text = std::fs::read_to_string(fixture_dir().join(&name)).unwrap();
            let value = serde_json::from_str(&text).unwrap();
            (name, value)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!found.is_empty(), "no fixtures named {prefix}*");
    found
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_dir().join(name)).unwrap()).unwrap()
}

#[test]
fn every_vca_fixture_parses_and_yields_its_dtmf() {
    let expected = [
        ("vca-call-received-number-masking.json", None),
        (
            "vca-dtmf-1-advanced-ivr-eventdata-legacy-doc.json",
            Some("1"),
        ),
        ("vca-dtmf-1.json", Some("1")),
        (
            "vca-dtmf-3-legacy-toplevel-advanced-ivr-level3.json",
            Some("3"),
        ),
        ("vca-dtmf-3-legacy-toplevel-simple-ivr.json", Some("3")),
        (
            "vca-eventdata-map-dtmf-asr-official-page-snapshot.json",
            Some("7534"),
        ),
        ("vca-eventdata-string-thirdparty.json", Some("1")),
    ];
    let found: Vec<(String, Option<String>)> = fixtures("vca-")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("vca-response"))
        .map(|(name, value)| {
            let event: VcaEvent =
                serde_json::from_value(value).unwrap_or_else(|error| panic!("{name}: {error}"));
            (name, event.payload.dtmf())
        })
        .collect();
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(name, dtmf)| (name.to_string(), dtmf.map(str::to_owned)))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn the_inferred_no_input_shapes_yield_no_dtmf() {
    for (name, value) in fixtures("inferred-vca-") {
        let event: VcaEvent = serde_json::from_value(value).unwrap();
        assert_eq!(event.payload.dtmf(), None, "{name}");
    }
}

#[test]
fn every_vss_fixture_parses_into_an_outcome() {
    let found: Vec<(String, String, Option<i64>, bool)> = fixtures("vss-")
        .into_iter()
        .filter(|(name, _)| !name.contains("fragment"))
        .map(|(name, value)| {
            let event: VssEvent =
                serde_json::from_value(value).unwrap_or_else(|error| panic!("{name}: {error}"));
            let outcome = SessionOutcome::from_summary(&event.payload);
            let code = outcome.error_details.as_ref().and_then(|e| e.error_code);
            (
                name,
                outcome.session_status,
                code,
                customer_answered(&event.payload),
            )
        })
        .collect();
    let expected = [
        ("vss-ivr-busy.json", "BUSY", None, true),
        ("vss-ivr-completed-bridged.json", "COMPLETED", None, true),
        ("vss-ivr-completed-hangup.json", "COMPLETED", None, true),
        (
            "vss-ivr-outbound-sayandcapture-completed-thirdparty.json",
            "COMPLETED",
            None,
            true,
        ),
        ("vss-nm-completed.json", "COMPLETED", None, true),
        (
            "vss-nm-error-2004-play-tts.json",
            "ERROR",
            Some(-2004),
            false,
        ),
        ("vss-vm-completed.json", "COMPLETED", None, true),
        ("vss-vm-error-2004.json", "ERROR", Some(-2004), false),
        (
            "vss-vm-error-legacy-2005-mismatch.json",
            "ERROR",
            Some(-2005),
            false,
        ),
    ]
    .map(|(name, status, code, answered)| (name.to_owned(), status.to_owned(), code, answered));
    assert_eq!(found, expected);
}

#[test]
fn the_capital_c_leg_and_string_null_ref_are_read() {
    let event: VssEvent = serde_json::from_value(fixture("vss-vm-completed.json")).unwrap();
    let leg = event.payload.leg("callA").unwrap();
    assert_eq!(leg.call_status.as_deref(), Some("COMPLETED"));
    assert_eq!(
        SessionOutcome::from_summary(&event.payload).call_duration,
        Some(13)
    );
}

#[test]
fn the_third_party_error_details_fragment_parses() {
    let value = fixture("vss-errordetails-2003-fragment-thirdparty.json");
    let details: callconfirm::voice::wire::ErrorDetails =
        serde_json::from_value(value["errorDetails"].clone()).unwrap();
    assert_eq!(details.error_code.unwrap().as_i64(), Some(-2003));
}

#[test]
fn every_callflow_response_fixture_parses() {
    for (name, value) in fixtures("callflow-created-") {
        let response: CallflowResponse = serde_json::from_value(value).unwrap();
        assert!(response.created_session().is_some(), "{name}");
    }
    for (name, value) in fixtures("callflow-error-") {
        let response: CallflowResponse = serde_json::from_value(value).unwrap();
        assert_eq!(response.created_session(), None, "{name}");
        assert_eq!(
            response.session_status.as_deref(),
            Some("NOT_CREATED"),
            "{name}"
        );
        assert!(response.status_code.unwrap().as_i64().is_some(), "{name}");
    }
}

#[test]
fn every_webhook_api_fixture_parses() {
    for name in [
        "webhook-create-response.json",
        "webhook-get-response-oas.json",
        "webhook-get-response-vca-vss.json",
    ] {
        let response: WebhookListResponse = serde_json::from_value(fixture(name)).unwrap();
        assert!(!response.webhooks.is_empty(), "{name}");
    }
    let error: WebhookListResponse =
        serde_json::from_value(fixture("webhook-create-error-422-assembled.json")).unwrap();
    assert_eq!(error.status_code.unwrap().as_i64(), Some(1001));
}

#[test]
fn the_vcs_fixture_is_not_mistaken_for_an_action() {
    let value = fixture("vcs-call-status-call-received.json");
    assert_eq!(value["eventType"], "CALL_STATUS");
    let event: VcaEvent = serde_json::from_value(value).unwrap();
    assert_eq!(event.payload.dtmf(), None);
}

#[test]
fn session_status_spellings_in_the_docs_normalise() {
    for (raw, expected) in [
        ("NO ANSWER", SessionStatus::NoAnswer),
        ("CANCELLED", SessionStatus::Canceled),
        ("CANCELED", SessionStatus::Canceled),
    ] {
        assert_eq!(SessionStatus::parse(raw), expected);
    }
}
