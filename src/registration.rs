//! Registering the VCA and VSS webhooks of the subaccount with 8x8's Webhooks API.
//!
//! The `httpAuthHeader` is Basic `admin:{WEBHOOK_AUTH_TOKEN}`: ngrok's basic auth in front of
//! the app accepts it, and so does the app itself.

use crate::auth::{BASIC_USER, basic_header};
use crate::voice::client::{VoiceClient, VoiceError};
use crate::voice::wire::{WebhookCreateRequest, WebhookInfo, WebhookType};
use secrecy::{ExposeSecret, SecretString};

/// The two webhooks callconfirm needs, pointing at `{base}/api/webhooks/vca|vss`.
pub fn plan(webhook_base_url: &str, token: &SecretString) -> Vec<WebhookCreateRequest> {
    let base = webhook_base_url.trim_end_matches('/');
    let header = basic_header(BASIC_USER, token.expose_secret());
    [(WebhookType::Vca, "vca"), (WebhookType::Vss, "vss")]
        .into_iter()
        .map(|(kind, path)| WebhookCreateRequest {
            kind,
            url: format!("{base}/api/webhooks/{path}"),
            http_auth_header: Some(header.clone()),
            enabled: true,
        })
        .collect()
}

/// A request as shown to people: the header is redacted.
pub fn describe(request: &WebhookCreateRequest) -> serde_json::Value {
    let mut shown = serde_json::to_value(request).unwrap_or_default();
    if request.http_auth_header.is_some() {
        shown["httpAuthHeader"] = "Basic <base64 of admin:WEBHOOK_AUTH_TOKEN, redacted>".into();
    }
    shown
}

/// Registers each webhook, replacing one of the same type: 8x8 keeps one per type, and does
/// not document whether creating over an existing one replaces it, so a refused create is
/// followed by a delete and a second create. Returns the webhooks 8x8 then lists.
pub async fn register(
    client: &VoiceClient,
    requests: &[WebhookCreateRequest],
) -> Result<Vec<WebhookInfo>, VoiceError> {
    for request in requests {
        if let Err(first) = client.create_webhook(request).await {
            if !matches!(first, VoiceError::Rejected { .. }) {
                return Err(first);
            }
            tracing::info!(
                kind = request.kind.as_str(),
                "replacing the existing webhook"
            );
            match client.delete_webhook(request.kind).await {
                Ok(_)
                | Err(VoiceError::Rejected {
                    http_status: 404, ..
                }) => {}
                Err(error) => return Err(error),
            }
            client.create_webhook(request).await?;
        }
        tracing::info!(kind = request.kind.as_str(), url = %request.url, "webhook registered");
    }
    let listed = client.list_webhooks().await?;
    Ok(listed
        .webhooks
        .into_iter()
        .filter(|hook| requests.iter().any(|r| r.kind.as_str() == hook.kind))
        .collect())
}
