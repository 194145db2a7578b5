//! `POST /api/make-call` end to end: the whole callflow 8x8 receives, the whole replies it
//! gets to its webhooks, the answer the client gets, and the call as `GET /api/calls` shows it.

use crate::helpers::APPOINTMENT_ACTION_ID as BASE;
use crate::helpers::APPOINTMENT_PROMPT as PROMPT;
use crate::helpers::say_and_hangup;
use crate::helpers::{TestApp, appointment, ended_session, spawn_app};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn capture(client_action_id: &str, text: &str) -> Value {
    json!({
        "clientActionId": client_action_id,
        "callflow": [{"action": "sayAndCapture", "params": {
            "promptMessage": text, "voiceProfile": "en-US-BenjaminRUS", "repetition": 2, "speed": 1,
            "minDigits": 1, "maxDigits": 1, "digitTimeout": 10000, "overallTimeout": 10000,
            "completeOnHash": false, "noOfTries": 2, "successMessage": null,
            "failureMessage": "Invalid input, please try again"
        }}]
    })
}

/// The simulator's events of one session, once it ended.
async fn session_events(app: &TestApp, session_id: &str) -> Vec<Value> {
    let record = ended_session(&app.client, &app.simulator.url, session_id).await;
    record["events"].as_array().unwrap().clone()
}

/// The replies the app gave to the session's VCA webhooks, in order.
fn vca_replies(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|event| event["event"] == "webhook" && event["type"] == "VCA")
        .map(|event| event["reply"].clone())
        .collect()
}

#[tokio::test]
async fn the_callflow_sent_to_8x8_is_the_original_one() {
    let app = spawn_app().await;
    let before = Utc::now();
    let (status, answer) = app.make_call(&appointment("+65 9123 4561")).await;
    assert_eq!(status, StatusCode::OK);
    let session_id = answer["data"]["sessionId"].as_str().unwrap();
    let events = session_events(&app, session_id).await;
    assert_eq!(events[0]["event"], "callflow_request");
    let sent = &events[0]["body"];
    let valid_until = DateTime::parse_from_rfc3339(sent["validUntil"].as_str().unwrap()).unwrap();
    let hour_ahead = (valid_until.to_utc() - before).num_seconds();
    assert!(
        (3598..=3602).contains(&hour_ahead),
        "validUntil {valid_until} is not now + 1 h"
    );
    assert_eq!(
        sent,
        &json!({
            "clientActionId": BASE,
            "validUntil": sent["validUntil"],
            "callflow": [
                {"action": "makeCall", "params": {"source": "6568332048", "destination": "6591234561"}},
                capture(BASE, PROMPT)["callflow"][0]
            ]
        })
    );
    assert!(sent["validUntil"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        sent["validUntil"].as_str().unwrap().len(),
        "2025-04-20T19:30:00Z".len()
    );
}

#[tokio::test]
async fn the_answer_is_8x8s_response_with_our_call_id() {
    let app = spawn_app().await;
    let (status, answer) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::OK);
    let data = &answer["data"];
    assert_eq!(
        answer,
        json!({
            "success": true,
            "callId": answer["callId"],
            "data": {
                "sessionId": data["sessionId"],
                "sessionStatus": "CREATED",
                "callFlowRequestId": data["callFlowRequestId"],
                "validUntil": data["validUntil"],
                "statusCode": 1,
                "statusMessage": "Created"
            }
        })
    );
    assert!(
        answer["callId"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .is_ok()
    );
}

#[tokio::test]
async fn a_confirmation_gets_thanks_and_a_hangup() {
    let app = spawn_app().await;
    let session_id = app.place(&appointment("+6591234561")).await;
    let events = session_events(&app, &session_id).await;
    assert_eq!(
        vca_replies(&events),
        vec![say_and_hangup(
            "Thank you for confirming. We look forward to seeing you at your appointment time."
        )]
    );
}

#[tokio::test]
async fn a_cancellation_gets_its_acknowledgement_and_a_hangup() {
    let app = spawn_app().await;
    let session_id = app.place(&appointment("+6591234560")).await;
    let events = session_events(&app, &session_id).await;
    assert_eq!(
        vca_replies(&events),
        vec![say_and_hangup(
            "Your appointment has been cancelled. Thank you for letting us know."
        )]
    );
}

#[tokio::test]
async fn no_input_is_reprompted_once_with_an_apology_then_goodbye() {
    let app = spawn_app().await;
    let session_id = app.place(&appointment("+6591234564")).await;
    let replies = vca_replies(&session_events(&app, &session_id).await);
    assert_eq!(replies.len(), 2, "{replies:?}");
    let apology = replies[0]["callflow"][0]["params"]["promptMessage"]
        .as_str()
        .unwrap()
        .strip_suffix(PROMPT)
        .expect("the re-prompt ends with the original prompt")
        .trim()
        .to_owned();
    assert!(!apology.is_empty());
    assert_eq!(
        replies[0],
        capture(&format!("{BASE}.main.2"), &format!("{apology} {PROMPT}"))
    );
    assert_eq!(replies[1]["clientActionId"], BASE);
    assert_eq!(replies[1]["callflow"][1], json!({"action": "hangup"}));
    assert_eq!(replies[1]["callflow"][0]["action"], "say");
}

#[tokio::test]
async fn the_call_is_shown_with_its_outcome_and_timeline() {
    let app = spawn_app().await;
    let (_, answer) = app.make_call(&appointment("+6591234561")).await;
    let session_id = answer["data"]["sessionId"].as_str().unwrap();
    let call = app.finished_call(session_id).await;
    let timeline = call["timeline"].as_array().unwrap();
    let at = |index: usize| timeline[index]["at"].clone();
    assert_eq!(
        call,
        json!({
            "callId": answer["callId"],
            "sessionId": session_id,
            "orderId": "APT123",
            "status": "confirmed",
            "digits": "1",
            "session": {
                "sessionStatus": "COMPLETED",
                "lastAction": "HANGUP",
                "errorDetails": null,
                "callDuration": call["session"]["callDuration"],
                "startTime": call["session"]["startTime"],
                "endTime": call["session"]["endTime"],
                "callCount": 1
            },
            "customerPhone": "+65****4561",
            "clientActionId": BASE,
            "callFlowRequestId": answer["data"]["callFlowRequestId"],
            "template": "default",
            "language": "en-US",
            "step": "done",
            "promptsPlayed": 1,
            "appointmentTime": "2025-04-20T19:30:00Z",
            "businessName": "Bright Smile Dental",
            "failure": null,
            "createdAt": at(0),
            "updatedAt": at(3),
            "timeline": [
                {"at": at(0), "from": null, "to": "placing", "event": "placing", "effect": null, "digits": null},
                {"at": at(1), "from": "placing", "to": "pending", "event": "placed", "effect": null, "digits": null},
                {"at": at(2), "from": "pending", "to": "confirmed", "event": "vca", "effect": "confirmed", "digits": "1"},
                {"at": at(3), "from": "confirmed", "to": "confirmed", "event": "vss", "effect": "session_ended", "digits": null}
            ]
        })
    );
    // The same call by our id.
    let (status, by_id) = app.get_call(answer["callId"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, call);
}

#[tokio::test]
async fn an_unknown_call_is_a_404() {
    let app = spawn_app().await;
    let (status, body) = app.get_call("no-such-session").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"success": false, "error": "not found", "details": "call no-such-session not found"})
    );
}
