//! Domain types parsed at the edge: phone numbers, call statuses, TTS-safe text, JSON text.

pub mod appointment;
pub mod json_text;
pub mod outcome;
pub mod phone;
pub mod status;
pub mod text;

pub use appointment::MakeCallRequest;
pub use json_text::JsonText;
pub use outcome::{OutcomeError, SessionOutcome, customer_answered};
pub use phone::{PhoneNumber, PhoneNumberError, mask_digits};
pub use status::{CallStatus, MenuStep, UnknownStatus};
