//! The 8x8 Voice platform simulator. PLACEHOLDER API until the real simulator lands.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default)]
pub struct CustomerScript;

#[derive(Debug, Clone)]
pub struct SimulatorTiming;

impl SimulatorTiming {
    pub fn instant() -> Self {
        SimulatorTiming
    }
    pub fn realistic() -> Self {
        SimulatorTiming
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub api_key: String,
    pub subaccount_id: String,
    pub voice_profiles: Vec<String>,
    pub timing: SimulatorTiming,
    pub vca_timeout: Duration,
    pub customers: HashMap<String, CustomerScript>,
    pub echo_initial_client_action_id: bool,
}

impl SimulatorConfig {
    pub fn new(api_key: impl Into<String>, subaccount_id: impl Into<String>) -> Self {
        SimulatorConfig {
            api_key: api_key.into(),
            subaccount_id: subaccount_id.into(),
            voice_profiles: vec![],
            timing: SimulatorTiming,
            vca_timeout: Duration::from_secs(5),
            customers: HashMap::new(),
            echo_initial_client_action_id: false,
        }
    }
}

pub fn parse_customer_scripts(_spec: &str) -> Result<HashMap<String, CustomerScript>, String> {
    Ok(HashMap::new())
}

pub struct Simulator;

pub struct SimulatorHandle {
    addr: SocketAddr,
}

impl SimulatorHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Simulator {
    pub async fn start(
        _config: SimulatorConfig,
        listener: tokio::net::TcpListener,
        _shutdown: CancellationToken,
    ) -> std::io::Result<SimulatorHandle> {
        Ok(SimulatorHandle {
            addr: listener.local_addr()?,
        })
    }
}
