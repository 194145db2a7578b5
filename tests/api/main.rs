//! The one integration-test binary: the real application, the real simulator, real databases.

mod auth;
mod bad_input;
mod behaviours;
mod catalog;
mod databases;
mod deployment;
mod docs;
mod durability;
mod fixtures;
mod group_commit;
mod helpers;
mod logs;
mod make_call;
mod process;
mod process_settings;
mod registration;
mod scripts;
mod simulator;
mod store;
mod upstream;
mod webhooks;
