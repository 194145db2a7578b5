//! `callconfirm register-webhooks` against the simulator: both webhooks registered with the
//! right URLs and a header that both ngrok's basic auth and the app accept.

use crate::helpers::{
    API_KEY, AppOptions, SUBACCOUNT, TOKEN, appointment, simulator_client, spawn_app_with,
    start_simulator,
};
use crate::process;
use serde_json::json;

fn cli_env(simulator_url: &str, webhook_base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("EIGHT_X_EIGHT_BASE_URL", simulator_url.to_owned()),
        ("EIGHT_X_EIGHT_API_KEY", API_KEY.to_owned()),
        ("EIGHT_X_EIGHT_SUBACCOUNT_ID", SUBACCOUNT.to_owned()),
        ("WEBHOOK_AUTH_TOKEN", TOKEN.to_owned()),
        ("WEBHOOK_BASE_URL", webhook_base.to_owned()),
    ]
}

#[tokio::test]
async fn register_webhooks_registers_vca_and_vss_with_the_public_urls() {
    let simulator = start_simulator(|_| {}).await;
    let (code, stdout, stderr) = process::run(
        &["register-webhooks"],
        &cli_env(&simulator.url, "https://clinic.ngrok-free.app/"),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "VCA -> https://clinic.ngrok-free.app/api/webhooks/vca (enabled: true, auth header: set)\n\
         VSS -> https://clinic.ngrok-free.app/api/webhooks/vss (enabled: true, auth header: set)\n"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let listed = simulator_client(&simulator.url)
        .list_webhooks()
        .await
        .unwrap();
    let mut hooks: Vec<_> = listed
        .webhooks
        .iter()
        .map(|hook| serde_json::to_value(hook).unwrap())
        .collect();
    hooks.sort_by_key(|hook| hook["type"].as_str().unwrap().to_owned());
    assert_eq!(
        hooks,
        vec![
            json!({"type": "VCA", "url": "https://clinic.ngrok-free.app/api/webhooks/vca", "enabled": true, "httpAuthHeaderAvailable": true}),
            json!({"type": "VSS", "url": "https://clinic.ngrok-free.app/api/webhooks/vss", "enabled": true, "httpAuthHeaderAvailable": true}),
        ]
    );
}

#[tokio::test]
async fn running_it_twice_replaces_the_webhooks() {
    let simulator = start_simulator(|_| {}).await;
    for base in ["https://old.ngrok-free.app", "https://new.ngrok-free.app"] {
        let (code, _, stderr) =
            process::run(&["register-webhooks"], &cli_env(&simulator.url, base)).await;
        assert_eq!(code, 0, "{stderr}");
    }
    let listed = simulator_client(&simulator.url)
        .list_webhooks()
        .await
        .unwrap();
    let urls: Vec<&str> = listed
        .webhooks
        .iter()
        .map(|hook| hook.url.as_str())
        .collect();
    assert_eq!(listed.webhooks.len(), 2);
    assert!(
        urls.iter()
            .all(|url| url.starts_with("https://new.ngrok-free.app/")),
        "{urls:?}"
    );
}

#[tokio::test]
async fn the_registered_header_is_accepted_by_the_app() {
    let app = spawn_app_with(AppOptions {
        register_webhooks: false,
        ..AppOptions::default()
    })
    .await;
    let (code, _, stderr) = process::run(
        &["register-webhooks"],
        &cli_env(&app.simulator.url, &app.address),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let session_id = app.place(&appointment("+6591234561")).await;
    assert_eq!(app.finished_call(&session_id).await["status"], "confirmed");
}

#[tokio::test]
async fn dry_run_shows_the_requests_without_secrets_and_sends_nothing() {
    let simulator = start_simulator(|_| {}).await;
    let (code, stdout, stderr) = process::run(
        &["register-webhooks", "--dry-run"],
        &cli_env(&simulator.url, "https://clinic.ngrok-free.app"),
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let endpoint = format!(
        "POST {}/api/v1/subaccounts/{SUBACCOUNT}/webhooks",
        simulator.url
    );
    let expected = ["vca", "vss"]
        .map(|kind| {
            format!(
                "{endpoint}\n{{\n  \"enabled\": true,\n  \"httpAuthHeader\": \"Basic <base64 of admin:WEBHOOK_AUTH_TOKEN, redacted>\",\n  \"type\": \"{}\",\n  \"url\": \"https://clinic.ngrok-free.app/api/webhooks/{kind}\"\n}}\n",
                kind.to_uppercase()
            )
        })
        .concat();
    assert_eq!(stdout, expected);
    let listed = simulator_client(&simulator.url)
        .list_webhooks()
        .await
        .unwrap();
    assert!(listed.webhooks.is_empty());
}

#[tokio::test]
async fn missing_variables_are_all_named() {
    let (code, stdout, stderr) = process::run(&["register-webhooks"], &[]).await;
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "missing required environment variables: EIGHT_X_EIGHT_API_KEY, \
             EIGHT_X_EIGHT_SUBACCOUNT_ID, WEBHOOK_AUTH_TOKEN, WEBHOOK_BASE_URL"
        ),
        "{stderr}"
    );
}
