//! The state one simulator instance shares between its HTTP handlers and its session tasks.

use crate::voice::simulator::config::SimulatorConfig;
use crate::voice::simulator::customer::{Behaviour, CustomerScript};
use crate::voice::simulator::faults::Faults;
use crate::voice::simulator::record::{Records, Stats};
use crate::voice::simulator::validate::Rules;
use crate::voice::simulator::webhooks::{Deliverer, Registry};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// Everything behind the simulator's `Arc`. Locks here are `std` mutexes held for a few
/// statements, never across an `.await`.
#[derive(Debug)]
pub struct Shared {
    pub config: SimulatorConfig,
    /// Scripted customers by destination digits: the configured ones, then the admin API's.
    customers: Mutex<HashMap<String, CustomerScript>>,
    pub webhooks: Registry,
    pub records: Records,
    pub stats: Stats,
    pub faults: Faults,
    pub deliverer: Deliverer,
    /// Cancelled when the simulator stops: session tasks and slow handlers end with it.
    pub shutdown: CancellationToken,
}

impl Shared {
    pub fn new(config: SimulatorConfig, shutdown: CancellationToken) -> Self {
        Shared {
            customers: Mutex::new(config.customers.clone()),
            webhooks: Registry::default(),
            records: Records::new(config.max_recorded_sessions),
            stats: Stats::default(),
            faults: Faults::default(),
            deliverer: Deliverer::new(config.vca_timeout),
            shutdown,
            config,
        }
    }

    pub fn rules(&self) -> Rules<'_> {
        Rules {
            voice_profiles: &self.config.voice_profiles,
            strict: self.config.strict,
            capture_defaults: self.config.capture_defaults,
        }
    }

    fn customers(&self) -> std::sync::MutexGuard<'_, HashMap<String, CustomerScript>> {
        self.customers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How the customer at `destination_digits` behaves on a call placed now.
    pub fn behaviour_for(&self, destination_digits: &str) -> Behaviour {
        Behaviour::for_destination(destination_digits, &self.customers())
    }

    pub fn set_customer(&self, destination_digits: String, script: CustomerScript) {
        self.customers().insert(destination_digits, script);
    }

    pub fn remove_customer(&self, destination_digits: &str) -> bool {
        self.customers().remove(destination_digits).is_some()
    }
}
