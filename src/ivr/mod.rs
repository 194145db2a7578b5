//! The call script: templates rendered into a per-call script, the pure state machine that
//! answers 8x8's webhooks, and the callflows it sends.

pub mod callflow;
pub mod catalog;
pub mod languages;
pub mod machine;
pub mod script;
pub mod wording;

pub use catalog::{Catalog, CatalogError, CatalogSettings, ScriptRequest};
pub use languages::{Language, LanguageInfo};
pub use machine::{Effect, IvrState, SummaryFacts, VcaDecision};
pub use script::{CallScript, MenuOptions, ScriptTexts};
