//! callconfirm: appointment-confirmation calls over the 8x8 Voice API.
//!
//! The layout follows the data: `routes` (HTTP) -> `calls` (use cases) -> `ivr` (pure call
//! script) / `sessions` + `store` (state) / `voice` (8x8 client and simulator).

pub mod auth;
pub mod calls;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod ivr;
pub mod registration;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod voice;
