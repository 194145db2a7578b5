//! The logs of a real process never contain a token, an API key, an Authorization header or a
//! full phone number, even at debug level.

use crate::helpers::{basic, wait_for_summary};
use crate::process;
use base64::Engine;
use serde_json::{Value, json};

const TOKEN: &str = "tok-SECRET-4242xyz";
const API_KEY: &str = "key-SECRET-9393abc";

#[tokio::test]
async fn no_secret_or_full_phone_number_is_ever_logged() {
    let running = process::start(
        &["--simulate"],
        &[
            ("RUST_LOG", "debug".to_owned()),
            ("SIMULATOR_TIMING", "instant".to_owned()),
            ("SIMULATOR_PORT", "0".to_owned()),
            ("WEBHOOK_AUTH_TOKEN", TOKEN.to_owned()),
            ("EIGHT_X_EIGHT_API_KEY", API_KEY.to_owned()),
            ("DATABASE_URL", crate::databases::fresh_sqlite_url()),
        ],
    );
    let client = reqwest::Client::new();
    let customers = [
        "+6591234561",
        "+6591234570",
        "+6591234574",
        "+6591234578",
        "+6591234579",
    ];
    let mut sessions = Vec::new();
    for phone in customers {
        let answer: Value = client
            .post(format!("{}/api/make-call", running.address))
            .header("Authorization", basic("admin", TOKEN))
            .json(&json!({
                "orderId": "LOG1", "customerPhone": phone, "businessName": "Acme Dental",
                "appointmentTime": "2025-04-20T19:30:00Z", "staffPhone": "+6561115777",
                "callbackPhone": "+6562223333"
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        sessions.push(answer["data"]["sessionId"].as_str().unwrap().to_owned());
    }
    for session_id in &sessions {
        wait_for_summary(&client, &running.address, TOKEN, session_id).await;
    }
    // Refused requests are logged too: a wrong token and a forged webhook.
    client
        .post(format!("{}/api/make-call", running.address))
        .header("Authorization", basic("admin", "wrong-SECRET-token"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    let output = running.output();
    let forbidden = [
        TOKEN.to_owned(),
        API_KEY.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{TOKEN}")),
        "wrong-SECRET-token".to_owned(),
        "6591234561".to_owned(),
        "6591234570".to_owned(),
        "6591234574".to_owned(),
        "6591234578".to_owned(),
        "6591234579".to_owned(),
        "6561115777".to_owned(),
        "6562223333".to_owned(),
        "authorization".to_owned(),
    ];
    for secret in forbidden {
        let found: Vec<&str> = output
            .lines()
            .filter(|line| line.to_lowercase().contains(&secret.to_lowercase()))
            .collect();
        assert!(
            found.is_empty(),
            "{secret:?} was logged:\n{}",
            found.join("\n")
        );
    }
    // The logs are not empty: the calls were logged, with masked numbers.
    assert!(output.contains("+65****4561"), "{output}");
    assert!(output.contains("\"message\":\"VCA applied\""), "{output}");
}
