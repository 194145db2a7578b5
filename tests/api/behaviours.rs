//! End to end against the simulator: each of the ten simulated customers reaches the right
//! status, on the default store (SQLite) and on the volatile one (`memory:`).

use crate::helpers::{AppOptions, appointment, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Places a call to a number ending in `digit` and returns the finished call.
async fn call_customer_ending_in(digit: char) -> Value {
    let app = spawn_app().await;
    let session_id = app
        .place(&appointment(&format!("+65912345{digit}{digit}")))
        .await;
    app.finished_call(&session_id).await
}

fn timeline_effects(call: &Value) -> Vec<String> {
    call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{}:{}->{}:{}",
                entry["event"].as_str().unwrap(),
                entry["from"].as_str().unwrap_or("-"),
                entry["to"].as_str().unwrap(),
                entry["effect"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[tokio::test]
async fn a_customer_who_presses_1_is_confirmed() {
    let call = call_customer_ending_in('1').await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["digits"], "1");
    assert_eq!(call["session"]["sessionStatus"], "COMPLETED");
    assert_eq!(call["session"]["lastAction"], "HANGUP");
    assert_eq!(
        timeline_effects(&call),
        vec![
            "placing:-->placing:-",
            "placed:placing->pending:-",
            "vca:pending->confirmed:confirmed",
            "vss:confirmed->confirmed:session_ended",
        ]
    );
}

#[tokio::test]
async fn a_customer_who_presses_0_is_cancelled() {
    let call = call_customer_ending_in('0').await;
    assert_eq!(call["status"], "cancelled");
    assert_eq!(call["digits"], "0");
    assert_eq!(call["session"]["sessionStatus"], "COMPLETED");
}

#[tokio::test]
async fn a_customer_who_never_answers_is_unreachable() {
    let call = call_customer_ending_in('2').await;
    assert_eq!(call["status"], "unreachable");
    assert_eq!(call["digits"], Value::Null);
    assert_eq!(call["session"]["sessionStatus"], "NO_ANSWER");
}

#[tokio::test]
async fn a_busy_customer_is_unreachable() {
    let call = call_customer_ending_in('3').await;
    assert_eq!(call["status"], "unreachable");
    assert_eq!(call["session"]["sessionStatus"], "BUSY");
}

#[tokio::test]
async fn a_customer_who_presses_nothing_is_reprompted_then_no_response() {
    let call = call_customer_ending_in('4').await;
    assert_eq!(call["status"], "no_response");
    assert_eq!(call["digits"], Value::Null);
    assert_eq!(call["promptsPlayed"], 2);
    assert_eq!(
        timeline_effects(&call),
        vec![
            "placing:-->placing:-",
            "placed:placing->pending:-",
            "vca:pending->pending:reprompted",
            "vca:pending->no_response:gave_up",
            "vss:no_response->no_response:session_ended",
        ]
    );
}

#[tokio::test]
async fn a_customer_who_presses_7_then_1_is_confirmed_after_one_reprompt() {
    let call = call_customer_ending_in('5').await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["digits"], "71");
    assert_eq!(call["promptsPlayed"], 2);
}

#[tokio::test]
async fn a_failed_call_is_unreachable() {
    let call = call_customer_ending_in('6').await;
    assert_eq!(call["status"], "unreachable");
    assert_eq!(call["session"]["sessionStatus"], "FAILED");
}

#[tokio::test]
async fn a_customer_who_hangs_up_during_the_prompt_is_no_response() {
    let call = call_customer_ending_in('7').await;
    assert_eq!(call["status"], "no_response");
    assert_eq!(call["session"]["sessionStatus"], "COMPLETED");
    assert_eq!(call["session"]["lastAction"], "SAY_AND_CAPTURE");
}

#[tokio::test]
async fn a_customer_without_coverage_is_unreachable_with_8x8s_error() {
    let call = call_customer_ending_in('8').await;
    assert_eq!(call["status"], "unreachable");
    assert_eq!(call["session"]["sessionStatus"], "ERROR");
    assert_eq!(
        call["session"]["errorDetails"],
        json!({"errorCode": -2004, "errorMsg": "No coverage available for requested area"})
    );
}

#[tokio::test]
async fn webhooks_delivered_twice_cause_one_transition_each() {
    let call = call_customer_ending_in('9').await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["digits"], "1");
    assert_eq!(
        timeline_effects(&call),
        vec![
            "placing:-->placing:-",
            "placed:placing->pending:-",
            "vca:pending->confirmed:confirmed",
            "vss:confirmed->confirmed:session_ended",
        ]
    );
}

/// The port's own configuration (sessions kept in memory only): the same ten outcomes.
#[tokio::test]
async fn every_customer_reaches_the_same_status_on_the_volatile_store() {
    let app = spawn_app_with(AppOptions {
        database_url: Some("memory:".into()),
        ..AppOptions::default()
    })
    .await;
    let mut sessions = Vec::new();
    for digit in '0'..='9' {
        let phone = format!("+65912345{digit}{digit}");
        sessions.push((digit, app.place(&appointment(&phone)).await));
    }
    let mut outcomes = Vec::new();
    for (digit, session_id) in &sessions {
        let call = app.finished_call(session_id).await;
        outcomes.push((
            *digit,
            call["status"].as_str().unwrap().to_owned(),
            call["digits"].clone(),
            call["session"]["sessionStatus"]
                .as_str()
                .unwrap()
                .to_owned(),
            timeline_effects(&call).len(),
        ));
    }
    let expected = [
        ('0', "cancelled", json!("0"), "COMPLETED", 4),
        ('1', "confirmed", json!("1"), "COMPLETED", 4),
        ('2', "unreachable", Value::Null, "NO_ANSWER", 3),
        ('3', "unreachable", Value::Null, "BUSY", 3),
        ('4', "no_response", Value::Null, "COMPLETED", 5),
        ('5', "confirmed", json!("71"), "COMPLETED", 5),
        ('6', "unreachable", Value::Null, "FAILED", 3),
        ('7', "no_response", Value::Null, "COMPLETED", 3),
        ('8', "unreachable", Value::Null, "ERROR", 3),
        // Every webhook delivered twice: still one transition each.
        ('9', "confirmed", json!("1"), "COMPLETED", 4),
    ]
    .map(|(digit, status, digits, session, entries)| {
        (
            digit,
            status.to_owned(),
            digits,
            session.to_owned(),
            entries,
        )
    });
    assert_eq!(outcomes, expected);
}
