//! The subaccount's webhook registrations (one per type, CONTRACT §6) and their delivery to the app over HTTP.

use crate::voice::simulator::record::Delivery;
use crate::voice::wire::WebhookType;
use axum::http::{HeaderValue, header};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// One registered webhook. The auth header is kept to be sent, never to be shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    pub kind: WebhookType,
    pub url: String,
    pub auth_header: Option<String>,
    pub enabled: bool,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field(
                "auth_header",
                &self.auth_header.as_ref().map(|_| "[redacted]"),
            )
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl Registration {
    /// The documented view: the header itself is never returned, only whether there is one.
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind.as_str(),
            "url": self.url,
            "enabled": self.enabled,
            "httpAuthHeaderAvailable": self.auth_header.is_some(),
        })
    }
}

/// Reads a create-webhook body: `type`, `url`, optional `httpAuthHeader`, and `enabled` or its
/// guide spelling `active` (A-11; `enabled` wins when both are given), default true.
/// `None` for anything else, which the API answers with its 422.
pub fn parse_registration(body: &[u8]) -> Option<Registration> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let kind = parse_type(map.get("type")?.as_str()?)?;
    let url = map.get("url")?.as_str()?;
    let parsed = reqwest::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return None;
    }
    let auth_header = match map.get("httpAuthHeader") {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) if value.is_empty() => None,
        // It is sent verbatim as a header, so it must be a valid header value.
        Some(Value::String(value)) => {
            HeaderValue::from_str(value).ok()?;
            Some(value.clone())
        }
        Some(_) => return None,
    };
    let flag = |name: &str| match map.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(Value::Bool(flag)) => Some(Some(*flag)),
        Some(_) => None,
    };
    let enabled = flag("enabled")?.or(flag("active")?).unwrap_or(true);
    Some(Registration {
        kind,
        url: url.to_owned(),
        auth_header,
        enabled,
    })
}

/// `VCA`, `VSS`, `VCS`, `VRU`, `VNU`, exactly as documented.
pub fn parse_type(raw: &str) -> Option<WebhookType> {
    match raw {
        "VCA" => Some(WebhookType::Vca),
        "VSS" => Some(WebhookType::Vss),
        "VCS" => Some(WebhookType::Vcs),
        "VRU" => Some(WebhookType::Vru),
        "VNU" => Some(WebhookType::Vnu),
        _ => None,
    }
}

/// The webhooks of the subaccount, in registration order, one per type.
#[derive(Debug, Default)]
pub struct Registry {
    registrations: Mutex<Vec<Registration>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Registration>> {
        self.registrations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates the webhook of its type, or replaces it: 8x8 keeps one per type (§6.1).
    pub fn upsert(&self, registration: Registration) {
        let mut registrations = self.lock();
        match registrations
            .iter_mut()
            .find(|existing| existing.kind == registration.kind)
        {
            Some(existing) => *existing = registration,
            None => registrations.push(registration),
        }
    }

    pub fn list(&self) -> Vec<Registration> {
        self.lock().clone()
    }

    pub fn remove(&self, kind: WebhookType) -> Option<Registration> {
        let mut registrations = self.lock();
        let index = registrations.iter().position(|r| r.kind == kind)?;
        Some(registrations.remove(index))
    }

    /// Where webhooks of `kind` go: the registration if there is one and it is enabled.
    pub fn target(&self, kind: WebhookType) -> Option<Registration> {
        self.lock()
            .iter()
            .find(|r| r.kind == kind && r.enabled)
            .cloned()
    }
}

/// Posts webhooks to the app.
#[derive(Debug, Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    timeout: Duration,
}

/// Replies longer than this are cut in the record (they are only shown, never parsed again).
const MAX_RECORDED_TEXT: usize = 2000;

impl Deliverer {
    pub fn new(timeout: Duration) -> Self {
        crate::voice::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            // The app is usually on this machine; a proxy from the environment would only
            // get in the way, and 8x8 does not follow redirects to webhooks either.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .user_agent("callconfirm-8x8-simulator")
            .build()
            .unwrap_or_default();
        Deliverer { http, timeout }
    }

    /// POSTs `body` as JSON with `Authorization: <httpAuthHeader>` verbatim (omitted when
    /// none), and reads the app's answer. Never fails: what went wrong is in the result.
    pub async fn post(&self, target: Option<&Registration>, body: &Value) -> Delivery {
        let Some(target) = target else {
            return Delivery::Failed {
                error: "no webhook of this type is registered and enabled".to_owned(),
            };
        };
        let mut request = self
            .http
            .post(&target.url)
            .timeout(self.timeout)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(value) = target
            .auth_header
            .as_deref()
            .and_then(|value| HeaderValue::from_str(value).ok())
        {
            let mut value = value;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Delivery::Failed {
                    error: self.describe(&error),
                };
            }
        };
        let http_status = response.status().as_u16();
        match response.bytes().await {
            Ok(bytes) => Delivery::Answered {
                http_status,
                reply: reply_value(&bytes),
            },
            Err(error) => Delivery::Failed {
                error: self.describe(&error),
            },
        }
    }

    /// A cause without the URL (it may carry a token in its query).
    fn describe(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if error.is_connect() {
            "could not connect to the webhook URL".to_owned()
        } else {
            "the webhook request failed before an answer was read".to_owned()
        }
    }
}

/// The app's answer as recorded: its JSON, or its text when it is not JSON (`null` if empty).
fn reply_value(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(bytes);
        Value::String(text.chars().take(MAX_RECORDED_TEXT).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_accepts_enabled_or_active_and_defaults_to_enabled() {
        let read = |body: Value| parse_registration(body.to_string().as_bytes());
        let guide = read(json!({"active": false, "type": "VCA", "url": "https://app.test/vca"}));
        assert_eq!(guide.map(|r| r.enabled), Some(false));
        let both =
            read(json!({"active": false, "enabled": true, "type": "VSS", "url": "http://a.test/"}));
        assert_eq!(both.map(|r| r.enabled), Some(true));
        let plain =
            read(json!({"type": "VSS", "url": "http://a.test/", "httpAuthHeader": "Bearer x"}));
        assert_eq!(
            plain,
            Some(Registration {
                kind: WebhookType::Vss,
                url: "http://a.test/".into(),
                auth_header: Some("Bearer x".into()),
                enabled: true
            })
        );
        for bad in [
            json!({"type": "XYZ", "url": "http://a.test/"}),
            json!({"type": "VCA"}),
            json!({"type": "VCA", "url": "not a url"}),
            json!({"type": "VCA", "url": "ftp://a.test/"}),
            json!({"type": "VCA", "url": "http://a.test/", "enabled": "yes"}),
            json!({"type": "VCA", "url": "http://a.test/", "httpAuthHeader": "a\nb"}),
            json!(["VCA"]),
        ] {
            assert_eq!(read(bad.clone()), None, "{bad}");
        }
    }
}
