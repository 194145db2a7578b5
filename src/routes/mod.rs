//! The HTTP surface: one router per endpoint group, the OpenAPI document generated from the
//! handlers, and the middleware applied once (request id, one log line per request, body limit).

use crate::error::{ErrorBody, FieldError};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub mod calls;
pub mod extract;
pub mod health;
pub mod make_call;
pub mod webhooks;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "callconfirm",
        description = "Appointment-confirmation phone calls over the 8x8 Voice API: place a call, \
                       answer 8x8's webhooks, read the outcome.",
        license(name = "MIT")
    ),
    tags(
        (name = "calls", description = "Place confirmation calls and read their outcomes (Basic auth `admin:{WEBHOOK_AUTH_TOKEN}`)"),
        (name = "webhooks", description = "Called by 8x8: Voice Call Action and Voice Session Summary"),
        (name = "operations", description = "Health"),
    ),
    components(schemas(ErrorBody, FieldError)),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "webhook_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The token itself (as registered with 8x8's httpAuthHeader), `Bearer {token}` \
                 or `Basic base64(admin:{token})`",
            ))),
        );
    }
}

/// The OpenAPI document of every route, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(make_call::make_call))
        .routes(routes!(webhooks::vca))
        .routes(routes!(webhooks::vss))
        .routes(routes!(calls::list_calls))
        .routes(routes!(calls::get_call))
        .routes(routes!(health::health))
}

/// The whole application: API, webhooks, docs, and the middleware around them.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router().split_for_parts();
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| internal_error()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("");
                    // The path only: the query may carry an order id, never a secret, but
                    // there is no reason to log it.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id,
                    )
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1000.0,
                        "request handled"
                    );
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
        .with_state(state)
}

fn error_response(status: StatusCode, error: &str, details: String) -> Response {
    let body = ErrorBody {
        success: false,
        error: error.to_owned(),
        details,
        fields: vec![],
    };
    (status, axum::Json(body)).into_response()
}

async fn not_found(request: Request) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "not found",
        format!("no route for {} {}", request.method(), request.uri().path()),
    )
}

async fn method_not_allowed(request: Request) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

fn internal_error() -> Response {
    tracing::error!("a handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error",
        "an unexpected error occurred; it has been logged".to_owned(),
    )
}
