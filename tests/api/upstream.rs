//! 8x8 refusing, failing, answering garbage or not answering: a clear 5xx naming the cause,
//! and the call recorded as `not_placed` (nothing exists) or `unknown` (it may exist).

use crate::helpers::{
    AppOptions, TestApp, appointment, arm_simulator_fault, spawn_app, spawn_app_with,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The only call of the app, as listed, with its status and failure.
async fn the_call(app: &TestApp) -> (String, String) {
    let (_, page) = app.list_calls("").await;
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{page}");
    (
        calls[0]["status"].as_str().unwrap().to_owned(),
        calls[0]["failure"].as_str().unwrap_or("").to_owned(),
    )
}

fn failure(error: &str, details: &str) -> Value {
    json!({"success": false, "error": error, "details": details})
}

#[tokio::test]
async fn a_wrong_api_key_is_a_502_naming_8x8s_401() {
    let app = spawn_app_with(AppOptions {
        env: vec![("EIGHT_X_EIGHT_API_KEY", "not-the-key".to_owned())],
        register_webhooks: false,
        ..AppOptions::default()
    })
    .await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let details = "8x8 answered HTTP 401 with statusCode 401: Authentication header not found or token invalid";
    assert_eq!(body, failure("8x8 request failed", details));
    assert_eq!(
        the_call(&app).await,
        ("not_placed".to_owned(), details.to_owned())
    );
}

#[tokio::test]
async fn an_unknown_subaccount_is_a_502_naming_8x8s_404() {
    let app = spawn_app_with(AppOptions {
        env: vec![("EIGHT_X_EIGHT_SUBACCOUNT_ID", "nobody_here".to_owned())],
        register_webhooks: false,
        ..AppOptions::default()
    })
    .await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        failure(
            "8x8 request failed",
            "8x8 answered HTTP 404 with statusCode 404: SubAccount not found by Id : nobody_here"
        )
    );
    assert_eq!(the_call(&app).await.0, "not_placed");
}

#[tokio::test]
async fn a_callflow_refusal_is_a_502_naming_the_code_and_message() {
    let app = spawn_app().await;
    arm_simulator_fault(
        &app.simulator.url,
        json!({"status": 422, "body": {
            "sessionStatus": "NOT_CREATED", "callFlowRequestId": "c6e6dee5-3846-11ef-9e95-b903e2ed7273",
            "statusCode": -1013, "statusMessage": "Invalid Callflow : First action should be a MakeCall action"
        }}),
    )
    .await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        failure(
            "8x8 request failed",
            "8x8 answered HTTP 422 with statusCode -1013: Invalid Callflow : First action should be a MakeCall action"
        )
    );
    assert_eq!(the_call(&app).await.0, "not_placed");
}

#[tokio::test]
async fn an_internal_error_of_8x8_is_a_502() {
    let app = spawn_app().await;
    arm_simulator_fault(&app.simulator.url, json!({"status": 500})).await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        failure(
            "8x8 request failed",
            "8x8 answered HTTP 500 with statusCode 500: Internal server error"
        )
    );
    assert_eq!(the_call(&app).await.0, "not_placed");
}

#[tokio::test]
async fn garbage_from_8x8_is_a_502_and_the_call_is_in_doubt() {
    let app = spawn_app().await;
    arm_simulator_fault(&app.simulator.url, json!({"garbage": true})).await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "8x8 outcome unknown");
    let details = body["details"].as_str().unwrap();
    assert!(
        details.starts_with("8x8 answered HTTP 200 with an unreadable body: not JSON"),
        "{details}"
    );
    assert!(details.ends_with(
        "; the call may or may not have been placed and will not be retried automatically"
    ));
    // A 200 that cannot be read may hide a created session: never dial again.
    assert_eq!(the_call(&app).await.0, "unknown");
}

#[tokio::test]
async fn an_8x8_that_does_not_answer_in_time_is_a_504_and_the_call_is_in_doubt() {
    let app = spawn_app_with(AppOptions {
        env: vec![("EIGHT_X_EIGHT_TIMEOUT_MS", "300".to_owned())],
        ..AppOptions::default()
    })
    .await;
    arm_simulator_fault(&app.simulator.url, json!({"delayMs": 2000})).await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        failure(
            "8x8 outcome unknown",
            "8x8 did not answer within 300ms; the call may or may not have been placed and will not be retried automatically"
        )
    );
    assert_eq!(
        the_call(&app).await,
        (
            "unknown".to_owned(),
            "8x8 did not answer within 300ms".to_owned()
        )
    );
}

#[tokio::test]
async fn an_unreachable_8x8_is_a_502_and_nothing_was_placed() {
    let app = spawn_app_with(AppOptions {
        env: vec![("EIGHT_X_EIGHT_BASE_URL", "http://127.0.0.1:9".to_owned())],
        register_webhooks: false,
        ..AppOptions::default()
    })
    .await;
    let (status, body) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "8x8 request failed");
    assert!(
        body["details"]
            .as_str()
            .unwrap()
            .starts_with("could not connect to 8x8: "),
        "{body}"
    );
    assert_eq!(the_call(&app).await.0, "not_placed");
}
