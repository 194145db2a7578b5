//! One API error type and its JSON form: clients get a clear status and body, internal causes are logged once.

use crate::store::StoreError;
use crate::voice::client::VoiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One bad field of a request, named as the client spelt it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field (or header) at fault, e.g. `customerPhone`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error we answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A short summary, stable enough to match on.
    pub error: String,
    /// A human explanation.
    pub details: String,
    /// For 422: each bad field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong credentials")]
    Unauthorized { basic_realm: bool },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyKeyInProgress,
    #[error(transparent)]
    Voice(#[from] VoiceError),
    #[error("database unavailable: {0}")]
    Store(#[from] StoreError),
    /// A bug: never a client's mistake, never 8x8's.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::IdempotencyKeyInProgress => StatusCode::CONFLICT,
            ApiError::Voice(VoiceError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Voice(_) => StatusCode::BAD_GATEWAY,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (error, details, fields) = match self {
            ApiError::Unauthorized { .. } => (
                "unauthorized",
                "missing or wrong credentials".to_owned(),
                vec![],
            ),
            ApiError::MalformedJson(reason) => (
                "malformed JSON",
                format!("the body is not valid JSON: {reason}"),
                vec![],
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported media type",
                "send the body as JSON with Content-Type: application/json".to_owned(),
                vec![],
            ),
            ApiError::PayloadTooLarge => (
                "payload too large",
                "the body is larger than 1 MiB".to_owned(),
                vec![],
            ),
            ApiError::Validation(fields) => (
                "invalid request",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                fields.clone(),
            ),
            ApiError::NotFound(what) => ("not found", format!("{what} not found"), vec![]),
            ApiError::IdempotencyKeyReused => (
                "idempotency key reused",
                "this Idempotency-Key was first used with a different request body".to_owned(),
                vec![FieldError::new(
                    "Idempotency-Key",
                    "already used with a different request body",
                )],
            ),
            ApiError::IdempotencyKeyInProgress => (
                "idempotency key in progress",
                "the first request with this Idempotency-Key has not finished; retry later"
                    .to_owned(),
                vec![],
            ),
            ApiError::Voice(voice) if voice.is_in_doubt() => (
                "8x8 outcome unknown",
                format!(
                    "{voice}; the call may or may not have been placed and will not be retried \
                     automatically"
                ),
                vec![],
            ),
            ApiError::Voice(voice) => ("8x8 request failed", voice.to_string(), vec![]),
            ApiError::Store(_) => (
                "database unavailable",
                "the call store could not be reached; nothing was changed".to_owned(),
                vec![],
            ),
            ApiError::Internal(_) => (
                "internal error",
                "an unexpected error occurred; it has been logged".to_owned(),
                vec![],
            ),
        };
        ErrorBody {
            success: false,
            error: error.to_owned(),
            details,
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            // Logged once here, at the boundary; the client gets no internal detail.
            ApiError::Store(cause) => tracing::error!(error = %cause, "store failure"),
            ApiError::Voice(cause) => tracing::warn!(error = %cause, "8x8 failure"),
            ApiError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            _ => tracing::debug!(status = status.as_u16(), error = %self, "request refused"),
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let ApiError::Unauthorized { basic_realm: true } = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"callconfirm\""),
            );
        }
        response
    }
}
