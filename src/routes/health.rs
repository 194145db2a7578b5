//! `GET /health`: liveness for Docker's HEALTHCHECK and load balancers.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `healthy` when the service answers.
    #[schema(example = "healthy")]
    status: &'static str,
}

/// The service is up.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The service is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "healthy" })
}
