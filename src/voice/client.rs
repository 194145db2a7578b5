//! The 8x8 Voice API client: one reqwest client built once, with timeouts and typed errors.

use crate::voice::wire::{
    CallflowRequest, CallflowResponse, WebhookCreateRequest, WebhookListResponse, WebhookType,
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Where and how to reach 8x8.
#[derive(Debug, Clone)]
pub struct VoiceClientSettings {
    /// `https://voice.8x8.com`; `/api/v1/...` is appended.
    pub base_url: String,
    pub api_key: SecretString,
    pub subaccount_id: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Why a request to 8x8 did not produce what we asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VoiceError {
    /// 8x8 answered with an error (or a body that is not a created session).
    #[error("8x8 answered HTTP {http_status} with statusCode {status_code}: {status_message}")]
    Rejected {
        http_status: u16,
        status_code: String,
        status_message: String,
    },
    /// 8x8 answered something that is not the documented JSON.
    #[error("8x8 answered HTTP {http_status} with an unreadable body: {reason}")]
    BadResponse { http_status: u16, reason: String },
    /// No answer within the configured timeout.
    #[error("8x8 did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be opened: nothing was sent.
    #[error("could not connect to 8x8: {0}")]
    Connect(String),
    /// The request failed after it may have been sent.
    #[error("the request to 8x8 failed: {0}")]
    Transport(String),
}

impl VoiceError {
    /// Whether 8x8 may have acted on the request although we got no usable answer.
    pub fn is_in_doubt(&self) -> bool {
        match self {
            VoiceError::Timeout(_) | VoiceError::Transport(_) => true,
            VoiceError::BadResponse { http_status, .. } => (200..300).contains(http_status),
            VoiceError::Rejected { .. } | VoiceError::Connect(_) => false,
        }
    }
}

/// A successful Send Callflow: the parsed answer and 8x8's body as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct CallflowCreated {
    pub session_id: String,
    pub response: CallflowResponse,
    pub body: Value,
}

/// The thin client for the parts of the 8x8 Voice API this service uses.
#[derive(Debug, Clone)]
pub struct VoiceClient {
    http: reqwest::Client,
    settings: VoiceClientSettings,
}

impl VoiceClient {
    pub fn new(settings: VoiceClientSettings) -> Result<Self, VoiceError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("callconfirm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| VoiceError::Transport(error.to_string()))?;
        Ok(VoiceClient { http, settings })
    }

    pub fn settings(&self) -> &VoiceClientSettings {
        &self.settings
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/api/v1/subaccounts/{}/{tail}",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.subaccount_id
        )
    }

    /// Send Callflow: asks 8x8 to place the call. Only `sessionStatus: CREATED` with a
    /// `sessionId` counts as success, whatever the HTTP status.
    pub async fn send_callflow(
        &self,
        request: &CallflowRequest,
    ) -> Result<CallflowCreated, VoiceError> {
        let response = self
            .http
            .post(self.url("callflows"))
            .bearer_auth(self.settings.api_key.expose_secret())
            .json(request)
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        let http_status = response.status().as_u16();
        let body = self.read_json(response).await?;
        let parsed: CallflowResponse =
            serde_json::from_value(body.clone()).map_err(|error| VoiceError::BadResponse {
                http_status,
                reason: error.to_string(),
            })?;
        match parsed.created_session() {
            Some(session_id) if (200..300).contains(&http_status) => {
                tracing::info!(
                    http_status,
                    session_id,
                    call_flow_request_id = parsed.call_flow_request_id.as_deref().unwrap_or(""),
                    "8x8 created the call session"
                );
                Ok(CallflowCreated {
                    session_id: session_id.to_owned(),
                    response: parsed.clone(),
                    body,
                })
            }
            _ => {
                let error = rejection(http_status, &parsed.status_code, &parsed.status_message);
                tracing::warn!(http_status, error = %error, "8x8 refused the callflow");
                Err(error)
            }
        }
    }

    /// Creates (or, as 8x8 keeps one per type, replaces) a webhook of the subaccount.
    pub async fn create_webhook(
        &self,
        request: &WebhookCreateRequest,
    ) -> Result<WebhookListResponse, VoiceError> {
        let response = self
            .http
            .post(self.url("webhooks"))
            .bearer_auth(self.settings.api_key.expose_secret())
            .json(request)
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        self.webhook_answer(response).await
    }

    pub async fn list_webhooks(&self) -> Result<WebhookListResponse, VoiceError> {
        let response = self
            .http
            .get(self.url("webhooks"))
            .bearer_auth(self.settings.api_key.expose_secret())
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        self.webhook_answer(response).await
    }

    pub async fn delete_webhook(&self, kind: WebhookType) -> Result<Value, VoiceError> {
        let response = self
            .http
            .delete(self.url(&format!("webhooks/{}", kind.as_str())))
            .bearer_auth(self.settings.api_key.expose_secret())
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        let http_status = response.status().as_u16();
        let body = self.read_json(response).await?;
        if (200..300).contains(&http_status) {
            Ok(body)
        } else {
            Err(rejection_from_value(http_status, &body))
        }
    }

    async fn webhook_answer(
        &self,
        response: reqwest::Response,
    ) -> Result<WebhookListResponse, VoiceError> {
        let http_status = response.status().as_u16();
        let body = self.read_json(response).await?;
        if !(200..300).contains(&http_status) {
            return Err(rejection_from_value(http_status, &body));
        }
        parse(http_status, body)
    }

    async fn read_json(&self, response: reqwest::Response) -> Result<Value, VoiceError> {
        let http_status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.classify(error))?;
        if bytes.is_empty() && !(200..300).contains(&http_status) {
            // 8x8 documents several errors without a body (CONTRACT §6.1).
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|error| VoiceError::BadResponse {
            http_status,
            reason: format!("not JSON ({error})"),
        })
    }

    fn classify(&self, error: reqwest::Error) -> VoiceError {
        if error.is_timeout() {
            VoiceError::Timeout(self.settings.request_timeout)
        } else if error.is_connect() {
            VoiceError::Connect(without_url(&error))
        } else {
            VoiceError::Transport(without_url(&error))
        }
    }
}

fn parse<T: DeserializeOwned>(http_status: u16, body: Value) -> Result<T, VoiceError> {
    serde_json::from_value(body).map_err(|error| VoiceError::BadResponse {
        http_status,
        reason: error.to_string(),
    })
}

fn rejection(
    http_status: u16,
    status_code: &Option<crate::voice::wire::IntOrString>,
    status_message: &Option<String>,
) -> VoiceError {
    VoiceError::Rejected {
        http_status,
        status_code: status_code
            .as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string),
        status_message: status_message
            .clone()
            .unwrap_or_else(|| "no statusMessage".to_owned()),
    }
}

fn rejection_from_value(http_status: u16, body: &Value) -> VoiceError {
    let status_code = body
        .get("statusCode")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let status_message = body
        .get("statusMessage")
        .and_then(Value::as_str)
        .map(str::to_owned);
    rejection(http_status, &status_code, &status_message)
}

/// reqwest's error text contains the URL, which contains the subaccount id; keep the cause only.
fn without_url(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut last = None;
    while let Some(cause) = source {
        last = Some(cause.to_string());
        source = cause.source();
    }
    last.unwrap_or_else(|| "unknown transport error".to_owned())
}

/// reqwest is built without a default TLS crypto provider so that only `ring` is compiled in;
/// the process-wide default must be installed once before any client is built.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only means another part of the process installed one first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
