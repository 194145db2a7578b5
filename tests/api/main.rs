//! The integration tests: one binary, one module per area.

mod databases;
mod store;
