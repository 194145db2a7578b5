//! Everything about 8x8: the wire types, the API client, and the simulator of the platform.

pub mod client;
pub mod simulator;
pub mod wire;
