//! callconfirm: appointment-confirmation calls over the 8x8 Voice API.

pub mod domain;
pub mod error;
pub mod ivr;
pub mod store;
pub mod voice;
