//! The one integration-test binary: each module tests one part of callconfirm over real HTTP on loopback.

mod simulator;
