//! Templates as written, before they are checked: every field optional, so that a file can
//! override a single sentence of a built-in template.

use crate::ivr::languages::Language;
use crate::ivr::script::MenuOptions;
use std::collections::BTreeMap;

/// One text of a template in one language, named as in the templates file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextKey {
    /// Who is calling, why, and the appointment; the menu sentences follow it.
    Prompt,
    MenuConfirm,
    MenuCancel,
    MenuStaff,
    MenuRepeat,
    /// Closes the prompt when the request gives a callback number.
    Callback,
    RepeatPrefix,
    RepromptPrefix,
    ConfirmCancel,
    Confirmed,
    Kept,
    Cancelled,
    Transferring,
    Goodbye,
    FailureMessage,
}

impl TextKey {
    pub const ALL: [TextKey; 15] = [
        TextKey::Prompt,
        TextKey::MenuConfirm,
        TextKey::MenuCancel,
        TextKey::MenuStaff,
        TextKey::MenuRepeat,
        TextKey::Callback,
        TextKey::RepeatPrefix,
        TextKey::RepromptPrefix,
        TextKey::ConfirmCancel,
        TextKey::Confirmed,
        TextKey::Kept,
        TextKey::Cancelled,
        TextKey::Transferring,
        TextKey::Goodbye,
        TextKey::FailureMessage,
    ];

    pub fn key(self) -> &'static str {
        match self {
            TextKey::Prompt => "prompt",
            TextKey::MenuConfirm => "menu_confirm",
            TextKey::MenuCancel => "menu_cancel",
            TextKey::MenuStaff => "menu_staff",
            TextKey::MenuRepeat => "menu_repeat",
            TextKey::Callback => "callback",
            TextKey::RepeatPrefix => "repeat_prefix",
            TextKey::RepromptPrefix => "reprompt_prefix",
            TextKey::ConfirmCancel => "confirm_cancel",
            TextKey::Confirmed => "confirmed",
            TextKey::Kept => "kept",
            TextKey::Cancelled => "cancelled",
            TextKey::Transferring => "transferring",
            TextKey::Goodbye => "goodbye",
            TextKey::FailureMessage => "failure_message",
        }
    }

    pub fn parse(key: &str) -> Option<TextKey> {
        TextKey::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The menu option that makes this text needed, or `None` if every template needs it.
    pub fn needed_for(self) -> Option<&'static str> {
        match self {
            TextKey::MenuStaff | TextKey::Transferring => Some("staff"),
            TextKey::MenuRepeat | TextKey::RepeatPrefix => Some("repeat"),
            TextKey::ConfirmCancel | TextKey::Kept => Some("confirm_cancel"),
            _ => None,
        }
    }

    /// Whether a template offering `menu` must have this text in every language.
    pub fn is_needed(self, menu: &MenuOptions) -> bool {
        match self.needed_for() {
            Some("staff") => menu.staff,
            Some("repeat") => menu.repeat,
            Some(_) => menu.confirm_cancel,
            None => true,
        }
    }
}

/// The `[templates.NAME.menu]` table: which keys the template offers besides 1 and 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MenuSpec {
    pub repeat: Option<bool>,
    pub staff: Option<bool>,
    pub confirm_cancel: Option<bool>,
}

/// One template as written in a file (or in a built-in's own TOML).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateSpec {
    pub extends: Option<String>,
    pub description: Option<String>,
    pub minimal: Option<bool>,
    pub speed: Option<f64>,
    pub menu: MenuSpec,
    pub voice_profiles: BTreeMap<Language, String>,
    pub languages: BTreeMap<Language, BTreeMap<TextKey, String>>,
}

/// A whole templates file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSpec {
    pub default_template: Option<String>,
    /// Voices per language for every template.
    pub voice_profiles: BTreeMap<Language, String>,
    /// Sorted by name.
    pub templates: Vec<(String, TemplateSpec)>,
}
