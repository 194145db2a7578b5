//! A checked template: layers merged (built-in, then the file's changes), texts parsed, and
//! every rule enforced once at load time, so that rendering a call can only fail on the
//! request's own values.

use super::file::Place;
use super::limits;
use super::pattern::{Pattern, Placeholder};
use super::render::{self, Values};
use super::spec::{TemplateSpec, TextKey};
use crate::ivr::languages::Language;
use crate::ivr::script::MenuOptions;
use crate::ivr::wording;
use chrono::{NaiveDate, NaiveTime};
use std::collections::BTreeMap;

/// A template ready to render.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub description: String,
    /// Speaks nothing but the business, the date and the time (and the callback number).
    pub minimal: bool,
    pub speed: f64,
    /// The options the template offers; a call offers `staff` only with a staff number.
    pub menu: MenuOptions,
    /// This template's own voices, over the file's and the languages' defaults.
    pub voice_profiles: BTreeMap<Language, String>,
    pub languages: BTreeMap<Language, BTreeMap<TextKey, Pattern>>,
}

/// One layer of a template: a built-in, a file's override of it, or a file's own template.
pub struct Layer<'a> {
    pub spec: &'a TemplateSpec,
    /// The file the layer comes from, as problems name it.
    pub file: &'a str,
    /// How an inherited text names its origin: `the built-in template "medical"`.
    pub label: String,
}

/// Merges `layers` (later ones win, field by field and text by text) and checks the result.
/// Problems are reported against the last layer's file: the one that made the template.
pub fn compile(name: &str, layers: &[Layer<'_>], problems: &mut Vec<String>) -> Option<Template> {
    let top = layers.last()?;
    let place = Place {
        file: top.file,
        template: Some(name),
    };
    let before = problems.len();
    let minimal = layers
        .iter()
        .rev()
        .find_map(|layer| layer.spec.minimal)
        .unwrap_or(false);
    let speed = layers
        .iter()
        .rev()
        .find_map(|layer| layer.spec.speed)
        .unwrap_or(1.0);
    let flag = |pick: fn(&TemplateSpec) -> Option<bool>| {
        layers
            .iter()
            .rev()
            .find_map(|layer| pick(layer.spec))
            .unwrap_or(false)
    };
    let menu = MenuOptions {
        repeat: flag(|s| s.menu.repeat),
        staff: flag(|s| s.menu.staff),
        confirm_cancel: flag(|s| s.menu.confirm_cancel),
    };
    let description = layers
        .iter()
        .rev()
        .find_map(|layer| layer.spec.description.clone())
        .unwrap_or_default();

    if let Err(message) = limits::check_speed(speed) {
        problems.push(place.problem("speed", message));
    }

    // Texts per language, each remembering the layer it came from.
    let mut sources: BTreeMap<Language, BTreeMap<TextKey, (&str, usize)>> = BTreeMap::new();
    for (index, layer) in layers.iter().enumerate() {
        for (language, texts) in &layer.spec.languages {
            let merged = sources.entry(*language).or_default();
            for (key, text) in texts {
                merged.insert(*key, (text.as_str(), index));
            }
        }
    }
    if sources.is_empty() {
        problems.push(place.problem(
            "languages",
            "no texts in any language; write at least one language, or start from a built-in \
             template with `extends`",
        ));
    }

    let mut voice_profiles = BTreeMap::new();
    for layer in layers {
        voice_profiles.extend(layer.spec.voice_profiles.clone());
    }
    for (language, profile) in &voice_profiles {
        let field = format!("voice_profiles.{}", language.tag());
        if !sources.contains_key(language) {
            problems.push(place.problem(
                &field,
                format!(
                    "the template has no {} texts to speak with it",
                    language.tag()
                ),
            ));
        } else if let Err(message) = limits::check_voice_profile(profile, *language) {
            problems.push(place.problem(&field, message));
        }
    }

    let mut languages = BTreeMap::new();
    for (language, texts) in &sources {
        let mut patterns = BTreeMap::new();
        for key in TextKey::ALL {
            let field = format!("languages.{}.{}", language.tag(), key.key());
            let Some((source, layer)) = texts.get(&key) else {
                if key.is_needed(&menu) {
                    let why = match key.needed_for() {
                        Some(option) => format!(
                            "missing; the menu offers {option}, so every language needs this text"
                        ),
                        None => "missing; every language of a template needs this text".to_owned(),
                    };
                    problems.push(place.problem(&field, why));
                }
                continue;
            };
            let inherited = if *layer + 1 == layers.len() {
                String::new()
            } else {
                format!(" (text inherited from {})", layers[*layer].label)
            };
            match Pattern::parse(source) {
                Ok(pattern) => {
                    for message in rule_breaks(key, &pattern, minimal, &menu) {
                        problems.push(place.problem(&field, format!("{message}{inherited}")));
                    }
                    patterns.insert(key, pattern);
                }
                Err(message) => {
                    problems.push(place.problem(&field, format!("{message}{inherited}")))
                }
            }
        }
        languages.insert(*language, patterns);
    }

    let template = Template {
        name: name.to_owned(),
        description,
        minimal,
        speed,
        menu,
        voice_profiles,
        languages,
    };
    if problems.len() == before {
        check_length(&template, place, problems);
    }
    (problems.len() == before).then_some(template)
}

/// The catalog's rules for one parsed text.
fn rule_breaks(key: TextKey, pattern: &Pattern, minimal: bool, menu: &MenuOptions) -> Vec<String> {
    let mut breaks = Vec::new();
    if pattern.is_blank() && key.is_needed(menu) {
        breaks.push("is empty; 8x8 cannot speak an empty text".to_owned());
    }
    if minimal {
        for personal in pattern
            .placeholders()
            .into_iter()
            .filter(|p| p.is_personal())
        {
            breaks.push(format!(
                "{{{}}} cannot be spoken by a minimal template, which says only the business, \
                 the date and the time",
                personal.name()
            ));
        }
    }
    match key {
        TextKey::Callback if !pattern.placeholders().contains(&Placeholder::Callback) => {
            breaks.push("must contain {callback}, the number it announces".to_owned());
        }
        TextKey::Prompt => {
            // 8x8 cannot tell a person from a voicemail: the first thing heard says who is
            // calling and why, and no name of a person comes before that.
            if !pattern.required().contains(&Placeholder::Business) {
                breaks.push(
                    "must speak {business} (outside [...]): a listener, or a voicemail, first \
                     hears who is calling"
                        .to_owned(),
                );
            }
            let first = pattern.first_sentence();
            if let Some(personal) = first.into_iter().find(|p| p.is_personal()) {
                breaks.push(format!(
                    "{{{}}} is in the first sentence; a stranger or a voicemail may be listening, \
                     so the first sentence names only the business and the purpose",
                    personal.name()
                ));
            } else if !pattern.comes_before(Placeholder::Business, Placeholder::is_personal) {
                breaks.push("a person's name comes before {business}".to_owned());
            }
        }
        _ => {}
    }
    breaks
}

/// Refuses a template whose words alone, with one-letter names, every menu option and the
/// longest callback number, are too long for 8x8; longer names are checked per call.
fn check_length(template: &Template, place: Place<'_>, problems: &mut Vec<String>) {
    let date = NaiveDate::from_ymd_opt(2025, 9, 24).unwrap_or_default();
    let time = NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default();
    for language in template.languages.keys().copied() {
        let sample = Values {
            business: "X".to_owned(),
            date: wording::date(language, date),
            time: wording::time(language, time),
            weekday: wording::weekday(language, date).to_owned(),
            customer: Some("X".to_owned()),
            staff: Some("X".to_owned()),
            callback: Some(wording::phone(language, "123456789012345")),
        };
        let texts = render::texts(template, language, &template.menu, &sample);
        if let Some(sent) = limits::over_limit(&texts, &template.menu) {
            problems.push(place.problem(
                &format!("languages.{}.{}", language.tag(), sent.field),
                format!(
                    "too long: {} would be {} characters even with one-letter names; 8x8 \
                     speaks at most {}",
                    sent.what,
                    sent.chars,
                    limits::MAX_TTS_CHARS
                ),
            ));
        }
    }
}
