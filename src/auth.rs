//! Who may call us: Basic `admin:{token}` for the API, the token in any of three forms for
//! 8x8's webhooks; every comparison is constant-time. Used as extractors, so no handler can
//! run on an unauthenticated request.

use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The user name of Basic auth, as the original's ngrok setup used.
pub const BASIC_USER: &str = "admin";

/// The accepted `Authorization` header values, precomputed once from the token.
#[derive(Clone)]
pub struct Credentials(Arc<Accepted>);

struct Accepted {
    /// `Basic base64(admin:token)`, what the API requires and what ngrok's basic auth passes on.
    basic: Vec<u8>,
    /// `Bearer token`.
    bearer: Vec<u8>,
    /// The token itself: what 8x8 sends when the webhook was registered with it as `httpAuthHeader`.
    raw: Vec<u8>,
}

impl Credentials {
    pub fn new(token: &SecretString) -> Self {
        let token = token.expose_secret();
        Credentials(Arc::new(Accepted {
            basic: basic_header(BASIC_USER, token).into_bytes(),
            bearer: format!("Bearer {token}").into_bytes(),
            raw: token.as_bytes().to_vec(),
        }))
    }

    /// The API accepts only Basic `admin:{token}`.
    pub fn allows_api(&self, header: Option<&[u8]>) -> bool {
        header.is_some_and(|value| matches_basic(value, &self.0.basic))
    }

    /// Webhooks accept the token itself, `Bearer {token}` or Basic `admin:{token}`.
    pub fn allows_webhook(&self, header: Option<&[u8]>) -> bool {
        let Some(value) = header else { return false };
        // Every form is compared, without short-circuit, so timing tells nothing about which
        // one came close.
        let raw = constant_time_eq(value, &self.0.raw);
        let bearer = bearer_matches(value, &self.0.bearer);
        let basic = matches_basic(value, &self.0.basic);
        raw | bearer | basic
    }
}

/// `Basic base64(user:password)`.
pub fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The scheme is case-insensitive (RFC 9110); the credentials are compared in constant time.
fn matches_basic(value: &[u8], expected: &[u8]) -> bool {
    scheme_insensitive_eq(value, expected, b"basic ")
}

fn bearer_matches(value: &[u8], expected: &[u8]) -> bool {
    scheme_insensitive_eq(value, expected, b"bearer ")
}

fn scheme_insensitive_eq(value: &[u8], expected: &[u8], scheme: &[u8]) -> bool {
    if value.len() < scheme.len() || !value[..scheme.len()].eq_ignore_ascii_case(scheme) {
        return false;
    }
    let credentials = value[scheme.len()..].trim_ascii_start();
    constant_time_eq(credentials, &expected[scheme.len()..])
}

/// The `Authorization` header's bytes, checked by `allows` against the state's credentials.
fn authorize<S>(parts: &Parts, state: &S, allows: fn(&Credentials, Option<&[u8]>) -> bool) -> bool
where
    Credentials: FromRef<S>,
{
    let header = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    allows(&Credentials::from_ref(state), header)
}

/// Proof that the request carried the API's Basic credentials.
pub struct ApiCaller;

impl<S> FromRequestParts<S> for ApiCaller
where
    Credentials: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if authorize(parts, state, Credentials::allows_api) {
            Ok(ApiCaller)
        } else {
            Err(ApiError::Unauthorized { basic_realm: true })
        }
    }
}

/// Proof that a webhook carried the token.
pub struct WebhookCaller;

impl<S> FromRequestParts<S> for WebhookCaller
where
    Credentials: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if authorize(parts, state, Credentials::allows_webhook) {
            Ok(WebhookCaller)
        } else {
            tracing::warn!("webhook refused: missing or wrong Authorization");
            Err(ApiError::Unauthorized { basic_realm: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials::new(&SecretString::from("s3cret-token"))
    }

    #[test]
    fn the_api_accepts_only_basic_admin_token() {
        let c = credentials();
        let basic = basic_header("admin", "s3cret-token");
        assert!(c.allows_api(Some(basic.as_bytes())));
        assert!(c.allows_api(Some(basic.replace("Basic", "basic").as_bytes())));
        assert!(!c.allows_api(None));
        assert!(!c.allows_api(Some(b"s3cret-token")));
        assert!(!c.allows_api(Some(b"Bearer s3cret-token")));
        assert!(!c.allows_api(Some(basic_header("root", "s3cret-token").as_bytes())));
        assert!(!c.allows_api(Some(basic_header("admin", "s3cret-tokeN").as_bytes())));
        assert!(!c.allows_api(Some(b"Basic")));
    }

    #[test]
    fn webhooks_accept_the_token_in_three_forms() {
        let c = credentials();
        assert!(c.allows_webhook(Some(b"s3cret-token")));
        assert!(c.allows_webhook(Some(b"Bearer s3cret-token")));
        assert!(c.allows_webhook(Some(b"bearer s3cret-token")));
        assert!(c.allows_webhook(Some(basic_header("admin", "s3cret-token").as_bytes())));
        assert!(!c.allows_webhook(None));
        assert!(!c.allows_webhook(Some(b"")));
        assert!(!c.allows_webhook(Some(b"s3cret-token ")));
        assert!(!c.allows_webhook(Some(b"Bearer wrong")));
        assert!(!c.allows_webhook(Some(basic_header("admin", "wrong").as_bytes())));
    }
}
