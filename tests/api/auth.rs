//! The authentication matrix: the API wants Basic `admin:{token}`; webhooks want the token
//! itself, `Bearer {token}` or Basic `admin:{token}`; everything else is a JSON 401.

use crate::helpers::{TOKEN, appointment, basic, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn unauthorized() -> Value {
    json!({
        "success": false,
        "error": "unauthorized",
        "details": "missing or wrong credentials"
    })
}

#[tokio::test]
async fn the_api_refuses_every_credential_but_basic_admin_token() {
    let app = spawn_app().await;
    let refused: [Option<String>; 7] = [
        None,
        Some(basic("admin", "wrong-token")),
        Some(basic("root", TOKEN)),
        Some(TOKEN.to_owned()),
        Some(format!("Bearer {TOKEN}")),
        Some("Basic not-base64!".to_owned()),
        Some(String::new()),
    ];
    for auth in refused {
        for (method, path) in [
            ("POST", "/api/make-call"),
            ("GET", "/api/calls"),
            ("GET", "/api/calls/abc"),
        ] {
            let mut request = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .json(&appointment("+6591234561"));
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {auth:?}"
            );
            assert_eq!(
                response.headers()["www-authenticate"],
                "Basic realm=\"callconfirm\""
            );
            assert_eq!(response.json::<Value>().await.unwrap(), unauthorized());
        }
    }
    assert_eq!(app.simulator_stats().await["callflowRequests"], 0);
}

#[tokio::test]
async fn the_api_accepts_basic_admin_token() {
    let app = spawn_app().await;
    let (status, _) = app.make_call(&appointment("+6591234561")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = app.list_calls("").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["calls"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn webhooks_refuse_missing_and_wrong_tokens() {
    let app = spawn_app().await;
    let event = json!({"eventType": "SESSION_SUMMARY", "payload": {"sessionId": "s-1", "sessionStatus": "COMPLETED"}});
    let refused: [Option<String>; 6] = [
        None,
        Some("wrong-token".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(basic("admin", "wrong")),
        Some(basic("root", TOKEN)),
        Some(format!("{TOKEN}x")),
    ];
    for path in ["/api/webhooks/vca", "/api/webhooks/vss"] {
        for auth in &refused {
            let (status, body) = app.post_webhook(path, auth.as_deref(), &event).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {auth:?}");
            assert_eq!(body, unauthorized());
        }
    }
}

#[tokio::test]
async fn webhooks_accept_the_token_bearer_and_basic_forms() {
    let app = spawn_app().await;
    let event = json!({"eventType": "SESSION_SUMMARY", "payload": {"sessionId": "never-placed", "sessionStatus": "COMPLETED"}});
    for auth in [
        TOKEN.to_owned(),
        format!("Bearer {TOKEN}"),
        basic("admin", TOKEN),
    ] {
        let (status, body) = app
            .post_webhook("/api/webhooks/vss", Some(&auth), &event)
            .await;
        assert_eq!(status, StatusCode::OK, "with {auth}");
        assert_eq!(body, json!({"status": "ok"}));
    }
}
