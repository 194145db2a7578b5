//! The 8x8 Voice platform simulator: a real HTTP server that validates callflows, plays calls out with simulated customers, and sends VCA/VSS webhooks.
//!
//! It serves 8x8's Send Callflow, speech-profiles and Webhooks API for one subaccount, plus its
//! own inspection endpoints under `/_simulator`. `callconfirm --simulate`, the standalone
//! `callconfirm simulator` command and the integration tests all run this same server.
//!
//! Module map: [`config`] (settings), [`validate`] (+ `fields`, `codes`: every callflow rule),
//! `platform` (the session engine), [`customer`] (behaviours), `webhooks` (registrations and
//! delivery), `payloads` (the JSON 8x8 sends), `record` (what happened, for inspection),
//! `api` and `admin` (the routes), `faults` (injected Send Callflow failures).

mod admin;
mod api;
pub mod codes;
pub mod config;
pub mod customer;
mod faults;
mod fields;
mod numbers;
mod payloads;
mod platform;
mod profiles;
mod record;
mod state;
pub mod validate;
mod webhooks;

pub use config::{CaptureDefaults, SimulatorConfig, SimulatorTiming, default_voice_profiles};
pub use customer::{CustomerInput, CustomerScript, parse_customer_scripts};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use state::Shared;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The simulator server.
pub struct Simulator;

impl Simulator {
    /// Serves on an already-bound listener until `shutdown` is cancelled. Session tasks stop
    /// with it too.
    pub async fn start(
        config: SimulatorConfig,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<SimulatorHandle> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, shutdown.clone()));
        let app = router(shared);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        });
        tracing::info!(%addr, "8x8 simulator listening");
        Ok(SimulatorHandle { addr, server })
    }
}

fn router(shared: Arc<Shared>) -> Router {
    api::router()
        .merge(admin::router())
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({ "error": "no such endpoint on the 8x8 simulator" })),
            )
                .into_response()
        })
        .with_state(shared)
}

/// A running simulator: where it listens, and a way to wait for it to stop.
#[derive(Debug)]
pub struct SimulatorHandle {
    addr: SocketAddr,
    server: JoinHandle<std::io::Result<()>>,
}

impl SimulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port`: the base URL to give the 8x8 client (it appends `/api/v1/...`).
    /// A wildcard bind address is reported as loopback, which is where a local client finds it.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Waits until the server has stopped (after the shutdown token is cancelled).
    pub async fn stopped(self) -> std::io::Result<()> {
        match self.server.await {
            Ok(result) => result,
            Err(join_error) => Err(std::io::Error::other(join_error)),
        }
    }
}
