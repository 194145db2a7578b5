//! Bad input gets a clear 4xx JSON error, changes nothing and never reaches 8x8.

use crate::helpers::{TOKEN, TestApp, appointment, basic, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post_raw(
    app: &TestApp,
    path: &str,
    auth: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header("Authorization", auth)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn nothing_was_recorded(app: &TestApp) {
    let (_, page) = app.list_calls("").await;
    assert_eq!(page["calls"], json!([]));
    assert_eq!(app.simulator_stats().await["callflowRequests"], 0);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let (status, body) = post_raw(
        &app,
        "/api/make-call",
        &basic("admin", TOKEN),
        "application/json",
        b"{\"orderId\": ".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], "malformed JSON");
    assert!(
        body["details"]
            .as_str()
            .unwrap()
            .starts_with("the body is not valid JSON: EOF while parsing")
    );
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn a_json_array_is_a_400() {
    let app = spawn_app().await;
    let (status, body) = post_raw(
        &app,
        "/api/make-call",
        &basic("admin", TOKEN),
        "application/json",
        b"[1, 2]".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"success": false, "error": "malformed JSON", "details": "the body is not valid JSON: expected a JSON object"})
    );
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn a_non_json_content_type_is_a_415() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&appointment("+6591234561")).unwrap();
    let (status, answer) = post_raw(
        &app,
        "/api/make-call",
        &basic("admin", TOKEN),
        "text/plain",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer["error"], "unsupported media type");
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413() {
    let app = spawn_app().await;
    let mut big = appointment("+6591234561");
    big["padding"] = Value::String("x".repeat(1024 * 1024));
    for (path, auth) in [
        ("/api/make-call", basic("admin", TOKEN)),
        ("/api/webhooks/vca", TOKEN.to_owned()),
    ] {
        let (status, answer) = post_raw(
            &app,
            path,
            &auth,
            "application/json",
            serde_json::to_vec(&big).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(
            answer,
            json!({"success": false, "error": "payload too large", "details": "the body is larger than 1 MiB"})
        );
    }
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn every_invalid_field_is_named_in_a_422() {
    let app = spawn_app().await;
    let (status, body) = app
        .make_call(&json!({
            "orderId": "APT 123",
            "customerPhone": "12-34",
            "businessName": "",
            "appointmentTime": "next Tuesday"
        }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({
            "success": false,
            "error": "invalid request",
            "details": "orderId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -; customerPhone: must contain 7 to 15 digits, found 4; businessName: must contain letters or digits; appointmentTime: must be an ISO 8601 date and time with a UTC offset, e.g. 2025-04-20T19:30:00Z (or a local time together with timeZone)",
            "fields": [
                {"field": "orderId", "message": "must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"},
                {"field": "customerPhone", "message": "must contain 7 to 15 digits, found 4"},
                {"field": "businessName", "message": "must contain letters or digits"},
                {"field": "appointmentTime", "message": "must be an ISO 8601 date and time with a UTC offset, e.g. 2025-04-20T19:30:00Z (or a local time together with timeZone)"}
            ]
        })
    );
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn missing_fields_and_wrong_types_are_422s() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({}),
            vec![
                "orderId",
                "customerPhone",
                "businessName",
                "appointmentTime",
            ],
        ),
        (
            json!({"orderId": 5, "customerPhone": 6591234567_u64, "businessName": ["x"], "appointmentTime": null}),
            vec![
                "orderId",
                "customerPhone",
                "businessName",
                "appointmentTime",
            ],
        ),
        (
            {
                let mut body = appointment("+6591234561");
                body["customerPhone"] = json!("+1 234 567 890 123 456");
                body
            },
            vec!["customerPhone"],
        ),
        (
            {
                let mut body = appointment("+6591234561");
                body["staffPhone"] = json!("999");
                body["timeZone"] = json!(42);
                body
            },
            vec!["timeZone", "staffPhone"],
        ),
    ];
    for (body, fields) in cases {
        let (status, answer) = app.make_call(&body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let named: Vec<&str> = answer["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}");
    }
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn a_bad_idempotency_key_is_a_422() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/make-call"))
        .header("Authorization", basic("admin", TOKEN))
        .header("Idempotency-Key", "x".repeat(256))
        .json(&appointment("+6591234561"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.json::<Value>().await.unwrap()["fields"],
        json!([{"field": "Idempotency-Key", "message": "must be 1 to 255 printable ASCII characters"}])
    );
    nothing_was_recorded(&app).await;
}

#[tokio::test]
async fn malformed_webhooks_are_400s_and_missing_fields_422s() {
    let app = spawn_app().await;
    for path in ["/api/webhooks/vca", "/api/webhooks/vss"] {
        let (status, body) =
            post_raw(&app, path, TOKEN, "application/json", b"not json".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["error"], "malformed JSON");
        let (status, _) = post_raw(
            &app,
            path,
            TOKEN,
            "application/json",
            b"\"a string\"".to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    let (status, body) = app
        .post_webhook(
            "/api/webhooks/vca",
            Some(TOKEN),
            &json!({"eventType": "CALL_ACTION", "payload": {"eventId": "e1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "payload");
    assert_eq!(body["fields"][0]["message"], "missing field `sessionId`");
    let (status, body) = app
        .post_webhook(
            "/api/webhooks/vss",
            Some(TOKEN),
            &json!({"eventType": "SESSION_SUMMARY", "payload": {"sessionId": 7}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "payload.sessionId");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"success": false, "error": "not found", "details": "no route for GET /api/nothing-here"})
    );
    let response = app
        .client
        .get(app.url("/api/make-call"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "method not allowed"
    );
}
