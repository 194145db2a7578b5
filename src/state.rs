//! The state every handler receives: the use cases and the credentials, cloned cheaply per request.

use crate::auth::Credentials;
use crate::calls::CallService;
use axum::extract::FromRef;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub calls: Arc<CallService>,
    pub credentials: Credentials,
}

impl FromRef<AppState> for Credentials {
    fn from_ref(state: &AppState) -> Self {
        state.credentials.clone()
    }
}
