//! Request extractors whose rejections are our JSON errors: a body is JSON, at most 1 MiB,
//! and an object; anything else is a clear 4xx, never a 500.

use crate::domain::JsonText;
use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The largest body we read; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON object body, kept as parsed (always a `Value::Object`).
pub struct JsonObject(pub Value);

impl JsonObject {
    pub fn into_map(self) -> Map<String, Value> {
        match self.0 {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(request, state).await?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(object @ Value::Object(_)) => {
                refuse_nul_characters(&object)?;
                Ok(JsonObject(object))
            }
            Ok(_) => Err(not_an_object()),
            Err(error) => Err(ApiError::MalformedJson(error.to_string())),
        }
    }
}

/// A JSON object body kept as its text: the webhooks, which are stored as 8x8 sent them and
/// read into their types straight from the text ([`typed_text`]), never as a `Value` tree.
/// The same checks as [`JsonObject`].
pub struct JsonObjectText(pub JsonText);

impl<S: Send + Sync> FromRequest<S> for JsonObjectText {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_body(request, state).await?;
        let json = JsonText::from_slice(&bytes)
            .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
        if !json.as_str().starts_with('{') {
            return Err(not_an_object());
        }
        // A NUL can only be written `\u0000` in JSON text: the tree is built only when that
        // appears, to name the field (or to find it was an escaped backslash after all).
        if json.as_str().contains("\\u0000") {
            refuse_nul_characters(&json.to_value())?;
        }
        Ok(JsonObjectText(json))
    }
}

/// The body of a request that says it is JSON (or says nothing), at most [`MAX_BODY_BYTES`].
async fn json_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    let content_type_ok = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|value| {
            let mime = value.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json")
                || mime.to_ascii_lowercase().ends_with("+json")
        });
    if !content_type_ok {
        return Err(ApiError::UnsupportedMediaType);
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::MalformedJson("the body could not be read".into()),
        })
}

fn not_an_object() -> ApiError {
    ApiError::MalformedJson("expected a JSON object".into())
}

/// PostgreSQL cannot store NUL in text or JSON, and no field needs one: refuse it here
/// rather than fail at the database with a 5xx.
fn refuse_nul_characters(object: &Value) -> Result<(), ApiError> {
    match nul_character_at(object, "") {
        Some(field) => Err(ApiError::Validation(vec![FieldError::new(
            field,
            "must not contain NUL characters",
        )])),
        None => Ok(()),
    }
}

/// The path (`payload.eventId`) of the first string or key containing a NUL character.
fn nul_character_at(value: &Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_character_at(item, &format!("{path}[{index}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(key))
            } else {
                nul_character_at(item, &join(key))
            }
        }),
        _ => None,
    }
}

/// Deserializes an already-parsed object into `T`, naming the offending field on failure.
pub fn typed<T: DeserializeOwned>(object: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(object).map_err(|error| {
        let field = error.path().to_string();
        ApiError::Validation(vec![FieldError::new(field, error.into_inner().to_string())])
    })
}

/// Deserializes JSON text into `T`, naming the offending field on failure, in the same words
/// as [`typed`] (without the line and column, which say nothing to the sender of one line).
///
/// The path is tracked only once the plain deserialization has failed (the same text fails
/// the same way): tracking it costs a wrapper around every value, on every webhook.
pub fn typed_text<'a, T: Deserialize<'a>>(json: &'a JsonText) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_str(json.as_str()) {
        return Ok(value);
    }
    let mut text = serde_json::Deserializer::from_str(json.as_str());
    serde_path_to_error::deserialize(&mut text).map_err(|error| {
        let field = error.path().to_string();
        let error = error.into_inner();
        let message = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let message = message
            .strip_suffix(&position)
            .unwrap_or(&message)
            .to_owned();
        ApiError::Validation(vec![FieldError::new(field, message)])
    })
}
