//! Building and running the application: bind the listener (port 0 in tests), open the store,
//! recover from a crash, start the simulator when asked, serve until the shutdown signal.

use crate::auth::Credentials;
use crate::calls::recovery::{self, SweepScope};
use crate::calls::{CallDefaults, CallService};
use crate::config::Settings;
use crate::ivr::{Catalog, CatalogSettings};
use crate::registration;
use crate::state::AppState;
use crate::store::{self, StoreError};
use crate::voice::client::{VoiceClient, VoiceClientSettings, VoiceError};
use crate::voice::simulator::{
    Simulator, SimulatorConfig, SimulatorHandle, SimulatorTiming, parse_customer_scripts,
};
use chrono::Utc;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot set up the 8x8 client: {0}")]
    Voice(#[from] VoiceError),
    #[error("cannot start the simulator: {0}")]
    Simulator(String),
    #[error("invalid templates: {0}")]
    Templates(String),
}

/// A built application: listening, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    simulator: Option<SimulatorHandle>,
    /// Stops the simulator and background tasks once serving has stopped.
    background_stop: CancellationToken,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.listen,
            source,
        })?;
        // Templates are configuration: a broken file stops startup before anything runs.
        let catalog = Catalog::load(&CatalogSettings {
            templates_file: settings.templates_file.clone(),
            default_template: settings.default_template.clone(),
            max_reprompts: settings.max_reprompts,
            max_repeats: settings.max_repeats,
        })
        .map_err(|error| StartupError::Templates(error.to_string()))?;
        let background_stop = CancellationToken::new();

        let mut voice_settings = settings.voice.clone();
        let simulator = match &settings.simulate {
            Some(simulate) => {
                let handle =
                    start_simulator(&voice_settings, simulate, background_stop.child_token())
                        .await?;
                tracing::warn!(
                    simulator = %handle.base_url(),
                    "SIMULATION MODE: calls go to the built-in 8x8 simulator; nobody is dialled"
                );
                voice_settings.base_url = handle.base_url();
                Some(handle)
            }
            None => None,
        };

        let store = store::connect(&settings.database_url).await?;
        if store::is_volatile(&settings.database_url) {
            tracing::warn!(
                "VOLATILE STORE (DATABASE_URL=memory:): calls and outcomes are kept in this \
                 process only and lost when it stops"
            );
        }
        // A SQLite file belongs to this process alone, so every call it left `placing` died
        // with the previous process; on PostgreSQL other instances may still be placing theirs.
        let scope = if settings.database_url.starts_with("sqlite:") {
            SweepScope::All
        } else {
            SweepScope::PastDeadline
        };
        recovery::sweep_in_doubt(&store, scope, Utc::now()).await;

        let voice = VoiceClient::new(voice_settings)?;
        if simulator.is_some() {
            // The simulator calls back this very process; its webhooks are registered the
            // same way `callconfirm register-webhooks` registers them with 8x8.
            let base = format!("http://127.0.0.1:{}", local.port());
            let requests = registration::plan(&base, &settings.webhook_auth_token);
            registration::register(&voice, &requests).await?;
        }

        let calls = Arc::new(CallService::new(
            voice,
            store.clone(),
            catalog,
            settings.outbound_number.clone(),
            CallDefaults {
                staff_phone: settings.staff_phone.clone(),
                callback_phone: settings.callback_phone.clone(),
            },
        ));
        let state = AppState {
            calls,
            credentials: Credentials::new(&settings.webhook_auth_token),
        };
        let background = vec![tokio::spawn(recovery::run_maintenance(
            store,
            background_stop.child_token(),
        ))];
        if let Some(base) = &settings.webhook_base_url {
            tracing::info!(
                vca = %format!("{}/api/webhooks/vca", base.trim_end_matches('/')),
                vss = %format!("{}/api/webhooks/vss", base.trim_end_matches('/')),
                "8x8 webhooks are expected at these URLs"
            );
        }
        tracing::info!(address = %local, "callconfirm listening");
        Ok(Application {
            listener,
            state,
            simulator,
            background_stop,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|addr| addr.port())
            .unwrap_or_default()
    }

    /// The use cases this application serves, shared with its handlers: lets a test (or an
    /// embedding program) look inside, e.g. at how many live sessions are cached.
    pub fn calls(&self) -> Arc<CallService> {
        Arc::clone(&self.state.calls)
    }

    /// The simulator's base URL in `--simulate` mode.
    pub fn simulator_url(&self) -> Option<String> {
        self.simulator.as_ref().map(SimulatorHandle::base_url)
    }

    /// Serves until `shutdown` is cancelled, letting requests in flight finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let router = crate::routes::router(self.state);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        self.background_stop.cancel();
        for task in self.background {
            let _ = task.await;
        }
        tracing::info!("callconfirm stopped");
        served
    }
}

async fn start_simulator(
    voice: &VoiceClientSettings,
    simulate: &crate::config::SimulateSettings,
    stop: CancellationToken,
) -> Result<SimulatorHandle, StartupError> {
    let mut config = SimulatorConfig::new(voice.api_key.expose_secret(), &voice.subaccount_id);
    config.timing = if simulate.instant {
        SimulatorTiming::instant()
    } else {
        SimulatorTiming::realistic()
    };
    if let Some(spec) = &simulate.customers {
        config.customers = parse_customer_scripts(spec)
            .map_err(|error| StartupError::Simulator(format!("SIMULATOR_CUSTOMERS: {error}")))?;
    }
    let listener = TcpListener::bind(("127.0.0.1", simulate.port))
        .await
        .map_err(|error| {
            StartupError::Simulator(format!(
                "cannot listen on 127.0.0.1:{} ({error}); set SIMULATOR_PORT to a free port, or 0",
                simulate.port
            ))
        })?;
    Simulator::start(config, listener, stop)
        .await
        .map_err(|error| StartupError::Simulator(error.to_string()))
}
