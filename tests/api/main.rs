//! The one integration-test binary: the real application, the real simulator, real databases.

mod auth;
mod bad_input;
mod behaviours;
mod catalog;
mod databases;
mod deployment;
mod fixtures;
mod helpers;
mod simulator;
mod store;
