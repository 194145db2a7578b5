//! The templates a call script is rendered from (PROVISIONAL: only `default` in en-US).
//!
//! To be replaced by the full catalog: built-in templates per business type, languages,
//! time zones and a TEMPLATES_FILE. The public API (`Catalog`, `ScriptRequest`, `render`,
//! `unknown_session_reply`) is what the rest of the service relies on.

use crate::domain::PhoneNumber;
use crate::domain::text::action_id_component;
use crate::error::FieldError;
use crate::ivr::callflow;
use crate::ivr::script::{CallScript, MenuOptions, ScriptTexts};
use crate::voice::wire::{Action, VcaReply};
use chrono::{DateTime, Datelike, FixedOffset, Timelike};

/// What a make-call request says about the script; every text field is already TTS-safe.
#[derive(Debug, Clone)]
pub struct ScriptRequest<'a> {
    pub order_id: &'a str,
    pub template: Option<&'a str>,
    pub language: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub appointment: DateTime<FixedOffset>,
    pub business_name: &'a str,
    pub customer_name: Option<&'a str>,
    pub staff_name: Option<&'a str>,
    pub callback_phone: Option<&'a PhoneNumber>,
    pub staff_phone: Option<&'a PhoneNumber>,
    pub source: &'a PhoneNumber,
}

/// The templates and languages the service can speak.
#[derive(Debug, Clone)]
pub struct Catalog {
    max_reprompts: u8,
}

pub const DEFAULT_VOICE_PROFILE: &str = "en-US-BenjaminRUS";

impl Catalog {
    pub fn builtin(max_reprompts: u8) -> Self {
        Catalog { max_reprompts }
    }

    pub fn render(&self, request: &ScriptRequest<'_>) -> Result<CallScript, Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(name) = request.template.filter(|name| *name != "default") {
            errors.push(FieldError::new(
                "template",
                format!("unknown template {name:?}; known templates: default"),
            ));
        }
        if let Some(language) = request.language.filter(|l| *l != "en-US") {
            errors.push(FieldError::new(
                "language",
                format!("unsupported language {language:?}; supported languages: en-US"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let local = request.appointment;
        let prompt = format!(
            "Hello, you have an appointment at {} on {} at {}. Will you be arriving on time? \
             If yes, press one. If you wish to cancel, press zero.",
            request.business_name,
            spoken_date_en_us(&local),
            spoken_time_en_us(&local)
        );
        Ok(CallScript {
            template: "default".into(),
            language: "en-US".into(),
            voice_profile: DEFAULT_VOICE_PROFILE.into(),
            speed: 1.0,
            client_action_base: client_action_base(request.order_id, &local, request.business_name),
            source: request.source.digits().to_owned(),
            staff_phone: None,
            menu: MenuOptions::default(),
            max_reprompts: self.max_reprompts,
            max_repeats: 0,
            texts: ScriptTexts {
                prompt,
                repeat_prefix: "Here are the details again.".into(),
                reprompt_prefix: "Sorry, we did not get a valid answer.".into(),
                confirm_cancel: String::new(),
                confirmed: "Thank you for confirming. We look forward to seeing you at your appointment time.".into(),
                kept: "Thank you for confirming. We look forward to seeing you at your appointment time.".into(),
                cancelled: "Your appointment has been cancelled. Thank you for letting us know.".into(),
                transferring: String::new(),
                goodbye: "We did not receive a response. We will try to reach you another way. Goodbye.".into(),
                failure_message: "Invalid input, please try again".into(),
            },
        })
    }

    /// The reply to a VCA for a session we never placed: a short apology, then hang up.
    pub fn unknown_session_reply(&self) -> VcaReply {
        VcaReply {
            client_action_id: "unknown-session".into(),
            callflow: vec![
                callflow::say_with(
                    DEFAULT_VOICE_PROFILE,
                    1.0,
                    "Sorry, we could not find your appointment. Goodbye.",
                ),
                Action::Hangup,
            ],
        }
    }
}

/// `{orderId}_{YYYYMMDD}_{HHMM}_{business}` in the appointment's local time.
pub fn client_action_base(order_id: &str, local: &DateTime<FixedOffset>, business: &str) -> String {
    format!(
        "{order_id}_{}_{}",
        local.format("%Y%m%d_%H%M"),
        action_id_component(business)
    )
}

fn spoken_date_en_us(local: &DateTime<FixedOffset>) -> String {
    let day = local.day();
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{} {day}{suffix}, {}", local.format("%B"), local.year())
}

fn spoken_time_en_us(local: &DateTime<FixedOffset>) -> String {
    let (pm, hour12) = local.hour12();
    let period = if pm { "PM" } else { "AM" };
    match local.minute() {
        0 => format!("{hour12} {period}"),
        minute => format!("{hour12}:{minute:02} {period}"),
    }
}
