//! Request extractors whose rejections are our JSON errors: a body is JSON, at most 1 MiB,
//! and an object; anything else is a clear 4xx, never a 500.

use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
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
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::MalformedJson("the body could not be read".into()),
                })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(object @ Value::Object(_)) => match nul_character_at(&object, "") {
                // PostgreSQL cannot store NUL in text or JSON, and no field needs one: refuse
                // it here rather than fail at the database with a 5xx.
                Some(field) => Err(ApiError::Validation(vec![FieldError::new(
                    field,
                    "must not contain NUL characters",
                )])),
                None => Ok(JsonObject(object)),
            },
            Ok(_) => Err(ApiError::MalformedJson("expected a JSON object".into())),
            Err(error) => Err(ApiError::MalformedJson(error.to_string())),
        }
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
