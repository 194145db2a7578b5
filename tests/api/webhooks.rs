//! VCA and VSS webhooks sent to the app directly, for calls the simulator keeps ringing, so
//! that each documented payload shape and each delivery order can be played by the test.

use crate::helpers::APPOINTMENT_ACTION_ID as BASE;
use crate::helpers::say_and_hangup;
use crate::helpers::{AppOptions, TOKEN, TestApp, appointment, spawn_app_with};
use callconfirm::voice::simulator::SimulatorTiming;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// An app whose simulated customers take a minute to answer: the test plays 8x8's part.
async fn app_with_ringing_calls() -> TestApp {
    spawn_app_with(AppOptions {
        configure_simulator: Box::new(|config| {
            config.timing = SimulatorTiming {
                ring: Duration::from_secs(60),
                ..SimulatorTiming::instant()
            };
        }),
        ..AppOptions::default()
    })
    .await
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/8x8")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A documented VCA payload re-addressed to `session_id`, with a fresh event id.
fn vca(name: &str, session_id: &str, event_id: &str) -> Value {
    let mut event = fixture(name);
    event["payload"]["sessionId"] = json!(session_id);
    event["payload"]["eventId"] = json!(event_id);
    // The first VCA of a session carries no clientActionId (CONTRACT A-4).
    event["payload"]
        .as_object_mut()
        .unwrap()
        .remove("clientActionId");
    event
}

fn vss(name: &str, session_id: &str) -> Value {
    let mut event = fixture(name);
    event["payload"]["sessionId"] = json!(session_id);
    event
}

const CONFIRMED: &str =
    "Thank you for confirming. We look forward to seeing you at your appointment time.";

#[tokio::test]
async fn every_documented_dtmf_shape_is_understood() {
    let app = app_with_ringing_calls().await;
    let shapes = [
        ("vca-dtmf-1.json", "confirmed", Some("1")),
        (
            "vca-dtmf-1-advanced-ivr-eventdata-legacy-doc.json",
            "confirmed",
            Some("1"),
        ),
        (
            "vca-eventdata-string-thirdparty.json",
            "confirmed",
            Some("1"),
        ),
        (
            "vca-dtmf-3-legacy-toplevel-simple-ivr.json",
            "pending",
            Some("3"),
        ),
        ("inferred-vca-no-input-dtmf-null.json", "pending", None),
        ("inferred-vca-no-input-eventdata-null.json", "pending", None),
    ];
    for (index, (name, status, digits)) in shapes.into_iter().enumerate() {
        let session_id = app.place(&appointment(&format!("+659123456{index}"))).await;
        let (code, reply) = app
            .post_webhook(
                "/api/webhooks/vca",
                Some(TOKEN),
                &vca(name, &session_id, &format!("ev-{index}")),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{name}");
        let (_, call) = app.get_call(&session_id).await;
        assert_eq!(call["status"], status, "{name}");
        assert_eq!(call["digits"], json!(digits), "{name}");
        if status == "confirmed" {
            assert_eq!(reply, say_and_hangup(CONFIRMED), "{name}");
        } else {
            // A wrong key or no input: the same prompt again, after an apology.
            assert_eq!(reply["clientActionId"], format!("{BASE}.main.2"), "{name}");
            let prompt = reply["callflow"][0]["params"]["promptMessage"]
                .as_str()
                .unwrap();
            assert!(prompt.starts_with("Sorry"), "{name}: {prompt}");
            assert!(
                prompt.ends_with("If you wish to cancel, press zero."),
                "{name}: {prompt}"
            );
        }
    }
}

#[tokio::test]
async fn a_vca_for_a_session_never_placed_gets_an_apology_and_nothing_is_recorded() {
    let app = app_with_ringing_calls().await;
    let (status, reply) = app
        .post_webhook(
            "/api/webhooks/vca",
            Some(TOKEN),
            &vca("vca-dtmf-1.json", "forged-session", "ev-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reply,
        json!({
            "clientActionId": "unknown-session",
            "callflow": [
                {"action": "say", "params": {
                    "text": "Sorry, we could not find your appointment. Goodbye.",
                    "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1
                }},
                {"action": "hangup"}
            ]
        })
    );
    let (_, page) = app.list_calls("").await;
    assert_eq!(page["calls"], json!([]));
    let (status, _) = app.get_call("forged-session").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_redelivered_vca_gets_the_same_answer_and_changes_nothing() {
    let app = app_with_ringing_calls().await;
    let session_id = app.place(&appointment("+6591234564")).await;
    let wrong_key = vca(
        "vca-dtmf-3-legacy-toplevel-simple-ivr.json",
        &session_id,
        "ev-wrong",
    );
    let (_, first) = app
        .post_webhook("/api/webhooks/vca", Some(TOKEN), &wrong_key)
        .await;
    for _ in 0..3 {
        let (status, again) = app
            .post_webhook("/api/webhooks/vca", Some(TOKEN), &wrong_key)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, first);
    }
    let (_, call) = app.get_call(&session_id).await;
    assert_eq!(call["promptsPlayed"], 2);
    assert_eq!(call["digits"], "3");
    assert_eq!(call["timeline"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn every_documented_vss_is_accepted() {
    let app = app_with_ringing_calls().await;
    let summaries = [
        ("vss-ivr-completed-bridged.json", "no_response"),
        ("vss-ivr-busy.json", "no_response"),
        ("vss-ivr-completed-hangup.json", "no_response"),
        (
            "vss-ivr-outbound-sayandcapture-completed-thirdparty.json",
            "no_response",
        ),
        ("vss-nm-completed.json", "no_response"),
        ("vss-nm-error-2004-play-tts.json", "unreachable"),
        ("vss-vm-completed.json", "no_response"),
        ("vss-vm-error-2004.json", "unreachable"),
        ("vss-vm-error-legacy-2005-mismatch.json", "unreachable"),
    ];
    for (index, (name, status)) in summaries.into_iter().enumerate() {
        let session_id = app.place(&appointment(&format!("+659123457{index}"))).await;
        let event = vss(name, &session_id);
        let (code, body) = app
            .post_webhook("/api/webhooks/vss", Some(TOKEN), &event)
            .await;
        assert_eq!(
            (code, body),
            (StatusCode::OK, json!({"status": "ok"})),
            "{name}"
        );
        let (_, call) = app.get_call(&session_id).await;
        assert_eq!(call["status"], status, "{name}");
        assert_eq!(
            call["session"]["sessionStatus"], event["payload"]["sessionStatus"],
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_summary_never_overwrites_a_confirmation_and_duplicates_are_harmless() {
    let app = app_with_ringing_calls().await;
    let session_id = app.place(&appointment("+6591234561")).await;
    app.post_webhook(
        "/api/webhooks/vca",
        Some(TOKEN),
        &vca("vca-dtmf-1.json", &session_id, "ev-1"),
    )
    .await;
    let summary = vss("vss-ivr-completed-hangup.json", &session_id);
    for _ in 0..3 {
        let (status, _) = app
            .post_webhook("/api/webhooks/vss", Some(TOKEN), &summary)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, call) = app.get_call(&session_id).await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(
        call["session"],
        json!({
            "sessionStatus": "COMPLETED", "lastAction": "HANGUP", "errorDetails": null,
            "callDuration": 16, "startTime": "2026-01-13T08:31:51Z", "endTime": "2026-01-13T08:32:08Z",
            "callCount": 1
        })
    );
    let events: Vec<&str> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["placing", "placed", "vca", "vss"]);
}

#[tokio::test]
async fn a_key_arriving_after_the_summary_is_not_lost() {
    let app = app_with_ringing_calls().await;
    let session_id = app.place(&appointment("+6591234561")).await;
    let mut summary = vss("vss-vm-error-2004.json", &session_id);
    summary["payload"]["sessionStatus"] = json!("NO_ANSWER");
    app.post_webhook("/api/webhooks/vss", Some(TOKEN), &summary)
        .await;
    let (_, call) = app.get_call(&session_id).await;
    assert_eq!(call["status"], "unreachable");
    app.post_webhook(
        "/api/webhooks/vca",
        Some(TOKEN),
        &vca("vca-dtmf-1.json", &session_id, "ev-late"),
    )
    .await;
    let (_, call) = app.get_call(&session_id).await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["digits"], "1");
}

#[tokio::test]
async fn a_summary_sent_to_the_vca_url_is_routed_by_its_event_type() {
    let app = app_with_ringing_calls().await;
    let session_id = app.place(&appointment("+6591234561")).await;
    let (status, body) = app
        .post_webhook(
            "/api/webhooks/vca",
            Some(TOKEN),
            &vss("vss-ivr-busy.json", &session_id),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (_, call) = app.get_call(&session_id).await;
    assert_eq!(call["session"]["sessionStatus"], "BUSY");
    let (status, body) = app
        .post_webhook(
            "/api/webhooks/vss",
            Some(TOKEN),
            &fixture("vcs-call-status-call-received.json"),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
}
