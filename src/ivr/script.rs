//! The call script of one call: every sentence the customer may hear, rendered once when the
//! call is placed and stored with it, so that every instance and every restart answers alike.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which keys the menu offers besides 1 (confirm) and 0 (cancel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MenuOptions {
    /// 9 repeats the appointment details.
    pub repeat: bool,
    /// 2 bridges the customer to staff (only set when a staff number is known).
    pub staff: bool,
    /// 0 asks "press 0 again to cancel, or 1 to keep it" before cancelling.
    pub confirm_cancel: bool,
}

/// The sentences of one call, in the customer's language. Shared texts: a sentence without
/// placeholders is one copy for every call of its template (`Pattern::render_shared`); a text
/// the call never speaks is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptTexts {
    /// The main prompt: who is calling and why, the appointment, the menu, the callback number.
    pub prompt: Arc<str>,
    /// Said before the main prompt again when the customer pressed 9.
    pub repeat_prefix: Arc<str>,
    /// The short apology said before a prompt is asked again after no or a wrong key.
    pub reprompt_prefix: Arc<str>,
    /// "Press 0 again to cancel, or 1 to keep it."
    pub confirm_cancel: Arc<str>,
    pub confirmed: Arc<str>,
    /// Said when the customer keeps the appointment after starting to cancel.
    pub kept: Arc<str>,
    pub cancelled: Arc<str>,
    /// Said before the call is bridged to staff.
    pub transferring: Arc<str>,
    /// Said before hanging up when no valid key came after every re-prompt.
    pub goodbye: Arc<str>,
    /// 8x8's own `failureMessage`, played by 8x8 between capture tries.
    pub failure_message: Arc<str>,
}

/// Everything the IVR needs to answer any webhook of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallScript {
    /// Shared by every call of the template, language and voice (`catalog::shared`).
    pub template: Arc<str>,
    pub language: Arc<str>,
    pub voice_profile: Arc<str>,
    pub speed: f64,
    /// `{orderId}_{YYYYMMDD}_{HHMM}_{business}`; step suffixes are added to it per prompt.
    pub client_action_base: String,
    /// The 8x8 virtual number (digits) used as caller id, also for the staff bridge.
    pub source: String,
    /// The staff number (digits) the customer reaches with 2, if the menu offers it.
    pub staff_phone: Option<String>,
    pub menu: MenuOptions,
    /// How many times no input or a wrong key is answered with a re-prompt before goodbye.
    pub max_reprompts: u8,
    /// How many times 9 repeats the details before it counts as a wrong key.
    pub max_repeats: u8,
    pub texts: ScriptTexts,
}

impl CallScript {
    /// How often 8x8 says the main prompt within one sayAndCapture (the original's 2).
    pub const PROMPT_REPETITION: u8 = 2;
    /// How often a closing sentence is said (the original's 1).
    pub const REPLY_REPETITION: u8 = 1;
}
