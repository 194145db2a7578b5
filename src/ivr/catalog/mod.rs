//! The catalog of call scripts: built-in templates per business type, custom templates and
//! overrides from TEMPLATES_FILE, seven languages, and the rendering of one call's script.
//!
//! - `builtin/*.toml` and `builtin.rs`: the built-in templates (`default` is the original
//!   service's words, unchanged).
//! - `file.rs`: reading TEMPLATES_FILE (TOML or YAML); `spec.rs`: templates as written.
//! - `pattern.rs`: `{placeholder}` and `[optional|alternative]` texts.
//! - `template.rs`: merging and checking templates at load; `limits.rs`: 8x8's TTS limits.
//! - `render.rs`: one call's script, or the 422 field errors that explain why not;
//!   `shared.rs`: the names every script repeats, one copy each.

mod builtin;
mod file;
mod limits;
mod pattern;
mod render;
mod shared;
mod spec;
mod template;

pub use limits::MAX_TTS_CHARS;

use crate::domain::PhoneNumber;
use crate::domain::text::action_id_component;
use crate::error::FieldError;
use crate::ivr::callflow;
use crate::ivr::languages::{DEFAULT_LANGUAGE, Language, LanguageInfo};
use crate::ivr::script::{CallScript, MenuOptions};
use crate::ivr::wording;
use crate::voice::wire::{Action, VcaReply};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde::Serialize;
use shared::SharedNames;
use spec::TemplateSpec;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use template::{Layer, Template};

/// What a make-call request says about the script; every text field is already TTS-safe
/// (`domain::text::tts_safe`).
#[derive(Debug, Clone)]
pub struct ScriptRequest<'a> {
    pub order_id: &'a str,
    /// A template name; `None` is the catalog's default template.
    pub template: Option<&'a str>,
    /// A BCP 47 tag, any case (`en-us`); `None` is en-US.
    pub language: Option<&'a str>,
    /// An IANA zone (`Europe/Berlin`) to speak the appointment in; `None` keeps its offset.
    pub time_zone: Option<&'a str>,
    pub appointment: DateTime<FixedOffset>,
    pub business_name: &'a str,
    pub customer_name: Option<&'a str>,
    pub staff_name: Option<&'a str>,
    /// Announced at the end of every prompt, for a voicemail listener.
    pub callback_phone: Option<&'a PhoneNumber>,
    /// Offered as "press 2" when the template offers staff.
    pub staff_phone: Option<&'a PhoneNumber>,
    pub source: &'a PhoneNumber,
}

/// How many times 9 repeats the details when the settings do not say.
pub const DEFAULT_MAX_REPEATS: u8 = 2;
/// How many re-prompts after no or a wrong key when the settings do not say.
pub const DEFAULT_MAX_REPROMPTS: u8 = 2;

/// What the catalog is loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSettings {
    /// TEMPLATES_FILE: custom templates and overrides, `*.toml`, `*.yaml` or `*.yml`.
    pub templates_file: Option<PathBuf>,
    /// DEFAULT_TEMPLATE: overrides the file's `default_template`; `default` if neither says.
    pub default_template: Option<String>,
    pub max_reprompts: u8,
    /// 0 turns the "press 9" option off in every template.
    pub max_repeats: u8,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        CatalogSettings {
            templates_file: None,
            default_template: None,
            max_reprompts: DEFAULT_MAX_REPROMPTS,
            max_repeats: DEFAULT_MAX_REPEATS,
        }
    }
}

/// Why the catalog could not be loaded: every problem, each naming the file, the template and
/// the field, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct CatalogError {
    problems: Vec<String>,
}

impl CatalogError {
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

/// One template as the service describes it to developers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    pub name: String,
    pub description: String,
    /// Speaks only the business, the date and the time (no names).
    pub minimal: bool,
    /// The options offered besides 1 and 0 (`staff` only on calls with a staff number).
    pub menu: MenuOptions,
    /// The language tags it speaks.
    pub languages: Vec<String>,
}

/// The templates and languages the service can speak. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    templates: BTreeMap<String, Template>,
    default_template: String,
    /// The file's `[voice_profiles]`: every template's voice for a language.
    voice_profiles: BTreeMap<Language, String>,
    max_reprompts: u8,
    max_repeats: u8,
    /// The template names, language tags and voice profiles the scripts share.
    names: SharedNames,
}

/// Said to a VCA for a session we never placed, in the default language.
const UNKNOWN_SESSION_TEXT: &str = "Sorry, we could not find your appointment. Goodbye.";

impl Catalog {
    /// The built-in templates only, with `default` as the default template.
    pub fn builtin(max_reprompts: u8) -> Catalog {
        let settings = CatalogSettings {
            max_reprompts,
            ..CatalogSettings::default()
        };
        // The built-ins are constants checked by the tests; they cannot fail to load.
        Catalog::load(&settings).expect("the built-in templates are valid")
    }

    /// The built-in templates, changed and extended by the templates file, all checked:
    /// every problem found is listed in the error.
    pub fn load(settings: &CatalogSettings) -> Result<Catalog, CatalogError> {
        let mut problems = Vec::new();
        let builtins = builtin::specs(&mut problems);
        let file_name = settings
            .templates_file
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        let file = settings
            .templates_file
            .as_deref()
            .and_then(|path| file::read(path, &mut problems))
            .unwrap_or_default();
        let in_file: BTreeMap<&str, &TemplateSpec> = file
            .templates
            .iter()
            .map(|(name, spec)| (name.as_str(), spec))
            .collect();

        // A built-in's layers: itself, then the file's template of the same name, if any.
        let builtin_layers = |name: &str| -> Vec<Layer<'_>> {
            let mut layers = Vec::new();
            if let Some((_, spec)) = builtins.iter().find(|(n, _)| *n == name) {
                layers.push(Layer {
                    spec,
                    file: builtin::SOURCE,
                    label: format!("the built-in template \"{name}\""),
                });
            }
            if let Some(spec) = in_file.get(name) {
                layers.push(Layer {
                    spec,
                    file: &file_name,
                    label: format!("\"{name}\" in {file_name}"),
                });
            }
            layers
        };

        let mut templates = BTreeMap::new();
        for (name, _) in &builtins {
            if in_file.get(name).is_some_and(|spec| spec.extends.is_some()) {
                problems.push(
                    file::Place {
                        file: &file_name,
                        template: Some(name),
                    }
                    .problem(
                        "extends",
                        "this template overrides the built-in of the same name, so it cannot \
                         extend another; give it a new name to start from another template",
                    ),
                );
                continue;
            }
            if let Some(template) = template::compile(name, &builtin_layers(name), &mut problems) {
                templates.insert((*name).to_owned(), template);
            }
        }
        for (name, spec) in &file.templates {
            if builtin::names().any(|builtin| builtin == name) {
                continue;
            }
            let mut layers = Vec::new();
            if let Some(base) = &spec.extends {
                if !builtin::names().any(|builtin| builtin == base) {
                    problems.push(
                        file::Place {
                            file: &file_name,
                            template: Some(name),
                        }
                        .problem(
                            "extends",
                            format!(
                                "unknown template {base:?}; extends names a built-in template: {}",
                                builtin::names().collect::<Vec<_>>().join(", ")
                            ),
                        ),
                    );
                    continue;
                }
                layers = builtin_layers(base);
            }
            layers.push(Layer {
                spec,
                file: &file_name,
                label: format!("\"{name}\" in {file_name}"),
            });
            if let Some(template) = template::compile(name, &layers, &mut problems) {
                templates.insert(name.clone(), template);
            }
        }

        let file_place = file::Place {
            file: &file_name,
            template: None,
        };
        for (language, profile) in &file.voice_profiles {
            if let Err(message) = limits::check_voice_profile(profile, *language) {
                problems.push(
                    file_place.problem(&format!("voice_profiles.{}", language.tag()), message),
                );
            }
        }

        let known = || {
            let mut names: Vec<&str> = builtin::names().collect();
            names.extend(
                file.templates
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .filter(|name| !builtin::names().any(|b| b == *name)),
            );
            names.join(", ")
        };
        let default_template = match (&settings.default_template, &file.default_template) {
            (Some(name), _) => {
                if !templates.contains_key(name) && !in_file.contains_key(name.as_str()) {
                    problems.push(format!(
                        "DEFAULT_TEMPLATE: unknown template {name:?}; known templates: {}",
                        known()
                    ));
                }
                name.clone()
            }
            (None, Some(name)) => {
                if !templates.contains_key(name) && !in_file.contains_key(name.as_str()) {
                    problems.push(file_place.problem(
                        "default_template",
                        format!("unknown template {name:?}; known templates: {}", known()),
                    ));
                }
                name.clone()
            }
            (None, None) => builtin::DEFAULT_TEMPLATE.to_owned(),
        };

        if !problems.is_empty() {
            return Err(CatalogError { problems });
        }
        Ok(Catalog {
            inner: Arc::new(Inner {
                templates,
                default_template,
                voice_profiles: file.voice_profiles,
                max_reprompts: settings.max_reprompts,
                max_repeats: settings.max_repeats,
                names: SharedNames::default(),
            }),
        })
    }

    /// The call script of one call, or the request fields that prevent it (a 422): `template`,
    /// `language`, `timeZone`, `businessName`, `customerName`, `staffName`, `callbackPhone`.
    pub fn render(&self, request: &ScriptRequest<'_>) -> Result<CallScript, Vec<FieldError>> {
        render::script(&self.inner, request)
    }

    /// The reply to a VCA for a session we never placed: a short apology, then hang up.
    pub fn unknown_session_reply(&self) -> VcaReply {
        VcaReply {
            client_action_id: "unknown-session".into(),
            callflow: vec![
                callflow::say_with(
                    &self.voice_profile(DEFAULT_LANGUAGE),
                    1.0,
                    UNKNOWN_SESSION_TEXT,
                ),
                Action::Hangup,
            ],
        }
    }

    /// The template used when a request names none.
    pub fn default_template(&self) -> &str {
        &self.inner.default_template
    }

    /// Every template name, sorted.
    pub fn template_names(&self) -> Vec<String> {
        self.inner.templates.keys().cloned().collect()
    }

    /// Every template with what it offers, sorted by name.
    pub fn templates(&self) -> Vec<TemplateInfo> {
        self.inner
            .templates
            .values()
            .map(|template| TemplateInfo {
                name: template.name.clone(),
                description: template.description.clone(),
                minimal: template.minimal,
                menu: template.menu,
                languages: template
                    .languages
                    .keys()
                    .map(|language| language.tag().to_owned())
                    .collect(),
            })
            .collect()
    }

    /// Every supported language with its voice (after the file's overrides) and examples.
    pub fn supported_languages(&self) -> Vec<LanguageInfo> {
        let date = NaiveDate::from_ymd_opt(2025, 4, 20).unwrap_or_default();
        let time = NaiveTime::from_hms_opt(19, 30, 0).unwrap_or_default();
        Language::ALL
            .into_iter()
            .map(|language| LanguageInfo {
                tag: language.tag().to_owned(),
                name: language.name().to_owned(),
                voice_profile: self.voice_profile(language),
                clock: language.clock(),
                date_example: wording::date(language, date),
                time_example: wording::time(language, time),
            })
            .collect()
    }

    /// The voice of a language for templates that do not choose their own.
    fn voice_profile(&self, language: Language) -> String {
        self.inner
            .voice_profiles
            .get(&language)
            .map(String::as_str)
            .unwrap_or(language.default_voice_profile())
            .to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;
    use spec::TextKey;

    #[test]
    fn the_built_in_templates_load_without_a_problem() {
        let catalog = Catalog::load(&CatalogSettings::default());
        assert_eq!(catalog.as_ref().err(), None);
        assert_eq!(
            catalog.unwrap().template_names(),
            [
                "default",
                "medical",
                "professional",
                "restaurant",
                "salon",
                "vehicle_service"
            ]
        );
    }

    #[test]
    fn every_built_in_template_has_every_text_in_every_language() {
        let catalog = Catalog::builtin(2);
        for template in catalog.inner.templates.values() {
            assert_eq!(
                template.languages.keys().copied().collect::<Vec<_>>(),
                Language::ALL.to_vec(),
                "{}",
                template.name
            );
            for (language, texts) in &template.languages {
                let missing: Vec<_> = TextKey::ALL
                    .into_iter()
                    .filter(|key| texts.get(key).is_none_or(|p| p.is_blank()))
                    .collect();
                assert!(
                    missing.is_empty(),
                    "{} {language:?}: {missing:?}",
                    template.name
                );
            }
        }
    }

    #[test]
    fn only_medical_is_minimal_and_only_medical_asks_before_cancelling() {
        let catalog = Catalog::builtin(2);
        let flags: Vec<(String, bool, MenuOptions)> = catalog
            .templates()
            .into_iter()
            .map(|t| (t.name, t.minimal, t.menu))
            .collect();
        let business = MenuOptions {
            repeat: true,
            staff: true,
            confirm_cancel: false,
        };
        assert_eq!(
            flags,
            [
                ("default".into(), false, MenuOptions::default()),
                (
                    "medical".into(),
                    true,
                    MenuOptions {
                        confirm_cancel: true,
                        ..business
                    }
                ),
                ("professional".into(), false, business),
                ("restaurant".into(), false, business),
                ("salon".into(), false, business),
                ("vehicle_service".into(), false, business),
            ]
        );
    }
}
