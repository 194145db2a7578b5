//! Renders one call's script: the template and language it asked for, its appointment in its
//! own time zone, its names, and the menu it can offer; refuses what 8x8 could not speak.

use super::Inner;
use super::ScriptRequest;
use super::limits;
use super::pattern::Placeholder;
use super::spec::TextKey;
use super::template::Template;
use crate::domain::appointment::{parse_time_zone, unknown_time_zone};
use crate::domain::text::tts_safe;
use crate::error::FieldError;
use crate::ivr::languages::{DEFAULT_LANGUAGE, Language};
use crate::ivr::script::{CallScript, MenuOptions, ScriptTexts};
use crate::ivr::wording;
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

/// The empty text of every sentence a call never speaks, shared.
static UNSPOKEN: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

/// The values a call's texts speak, already worded in the call's language.
#[derive(Debug, Clone)]
pub struct Values {
    pub business: String,
    pub date: String,
    pub time: String,
    pub weekday: String,
    pub customer: Option<String>,
    pub staff: Option<String>,
    pub callback: Option<String>,
}

impl Values {
    fn get(&self, placeholder: Placeholder) -> Option<&str> {
        match placeholder {
            Placeholder::Business => Some(&self.business),
            Placeholder::Date => Some(&self.date),
            Placeholder::Time => Some(&self.time),
            Placeholder::Weekday => Some(&self.weekday),
            Placeholder::Customer => self.customer.as_deref(),
            Placeholder::Staff => self.staff.as_deref(),
            Placeholder::Callback => self.callback.as_deref(),
        }
    }
}

/// Whether a call offering `menu` speaks the text `key`.
fn is_spoken(key: TextKey, menu: &MenuOptions, has_callback: bool) -> bool {
    key.is_needed(menu) && (key != TextKey::Callback || has_callback)
}

/// The texts of a call. Texts the call never speaks (a menu option it does not offer) stay
/// empty. The prompt is the template's `prompt`, then each offered option (1, 0, 2, 9), then
/// the callback sentence, so that a voicemail ends with the number to call back.
pub fn texts(
    template: &Template,
    language: Language,
    menu: &MenuOptions,
    values: &Values,
) -> ScriptTexts {
    let has_callback = values.callback.is_some();
    let render = |key: TextKey| -> Arc<str> {
        template
            .languages
            .get(&language)
            .and_then(|patterns| patterns.get(&key))
            .filter(|_| is_spoken(key, menu, has_callback))
            .map(|pattern| pattern.render_shared(|p| values.get(p)))
            .unwrap_or_else(|| Arc::clone(&UNSPOKEN))
    };
    let prompt = [
        TextKey::Prompt,
        TextKey::MenuConfirm,
        TextKey::MenuCancel,
        TextKey::MenuStaff,
        TextKey::MenuRepeat,
        TextKey::Callback,
    ]
    .into_iter()
    .map(render)
    .filter(|sentence| !sentence.is_empty())
    .collect::<Vec<_>>()
    .join(language.sentence_separator())
    .into();
    ScriptTexts {
        prompt,
        repeat_prefix: render(TextKey::RepeatPrefix),
        reprompt_prefix: render(TextKey::RepromptPrefix),
        confirm_cancel: render(TextKey::ConfirmCancel),
        confirmed: render(TextKey::Confirmed),
        kept: render(TextKey::Kept),
        cancelled: render(TextKey::Cancelled),
        transferring: render(TextKey::Transferring),
        goodbye: render(TextKey::Goodbye),
        failure_message: render(TextKey::FailureMessage),
    }
}

/// Values a call's spoken texts need but the request does not give.
fn missing(
    template: &Template,
    language: Language,
    menu: &MenuOptions,
    values: &Values,
) -> BTreeSet<Placeholder> {
    let has_callback = values.callback.is_some();
    template
        .languages
        .get(&language)
        .into_iter()
        .flatten()
        .filter(|(key, _)| is_spoken(**key, menu, has_callback))
        .flat_map(|(_, pattern)| pattern.required())
        .filter(|placeholder| values.get(*placeholder).is_none())
        .collect()
}

/// A name as it will be spoken: TTS-safe (the service already made it so; doing it again
/// here is cheap and means no brace or markup can ever reach 8x8), `None` when empty.
fn spoken_name(raw: Option<&str>) -> Option<String> {
    raw.map(tts_safe).filter(|name| !name.is_empty())
}

/// One call's script, or every request field that prevents it (all found at once, so the
/// client fixes its request in one go). Never panics, and never returns a text 8x8 would refuse.
pub fn script(catalog: &Inner, request: &ScriptRequest<'_>) -> Result<CallScript, Vec<FieldError>> {
    let mut errors = Vec::new();

    let name = request.template.unwrap_or(&catalog.default_template);
    let template = catalog.templates.get(name);
    if template.is_none() {
        errors.push(FieldError::new(
            "template",
            format!(
                "unknown template {name:?}; known templates: {}",
                catalog
                    .templates
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    let language = match request.language {
        // en-US, or the first language of a custom template that does not speak it.
        None => Some(match template {
            Some(template) if !template.languages.contains_key(&DEFAULT_LANGUAGE) => template
                .languages
                .keys()
                .next()
                .copied()
                .unwrap_or(DEFAULT_LANGUAGE),
            _ => DEFAULT_LANGUAGE,
        }),
        Some(raw) => {
            let language = Language::parse(raw);
            if language.is_none() {
                errors.push(FieldError::new(
                    "language",
                    format!(
                        "unsupported language {raw:?}; supported languages: {}",
                        Language::supported_tags()
                    ),
                ));
            }
            language
        }
    };
    if let (Some(template), Some(language)) = (template, language)
        && !template.languages.contains_key(&language)
    {
        errors.push(FieldError::new(
            "language",
            format!(
                "template {name:?} has no {} texts; it speaks: {}",
                language.tag(),
                template
                    .languages
                    .keys()
                    .map(|l| l.tag())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    // The appointment is spoken in the customer's zone whatever offset it was sent in; the
    // clientActionId below uses the same local time, so the two always agree.
    let local: Option<DateTime<FixedOffset>> = match request.time_zone {
        None => Some(request.appointment),
        Some(raw) => match parse_time_zone(raw) {
            Some(zone) => Some(request.appointment.with_timezone(&zone).fixed_offset()),
            None => {
                errors.push(FieldError::new("timeZone", unknown_time_zone(raw)));
                None
            }
        },
    };

    let business = tts_safe(request.business_name);
    if business.is_empty() {
        errors.push(FieldError::new(
            "businessName",
            "must name the business: every call opens with it",
        ));
    }

    let (Some(template), Some(language), Some(local), true) =
        (template, language, local, errors.is_empty())
    else {
        return Err(errors);
    };

    let menu = MenuOptions {
        repeat: template.menu.repeat && catalog.max_repeats > 0,
        staff: template.menu.staff && request.staff_phone.is_some(),
        confirm_cancel: template.menu.confirm_cancel,
    };
    let date = local.date_naive();
    let values = Values {
        business,
        date: wording::date(language, date),
        time: wording::time(language, local.time()),
        weekday: wording::weekday(language, date).to_owned(),
        customer: spoken_name(request.customer_name),
        staff: spoken_name(request.staff_name),
        callback: request
            .callback_phone
            .map(|phone| wording::phone(language, phone.digits())),
    };

    for placeholder in missing(template, language, &menu, &values) {
        if let Some(field) = placeholder.request_field() {
            errors.push(FieldError::new(
                field,
                format!(
                    "required by template {name:?}, which speaks {{{}}} in {}",
                    placeholder.name(),
                    language.tag()
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let texts = texts(template, language, &menu, &values);
    if let Some(sent) = limits::over_limit(&texts, &menu) {
        // The template fits with short names (checked at load), so a name made it too long:
        // blame the longest one.
        let (field, length) = [
            ("businessName", Some(&values.business)),
            ("customerName", values.customer.as_ref()),
            ("staffName", values.staff.as_ref()),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.map(|v| (field, v.chars().count())))
        .max_by_key(|(_, length)| *length)
        .unwrap_or(("businessName", 0));
        let excess = sent.chars - limits::MAX_TTS_CHARS;
        return Err(vec![FieldError::new(
            field,
            format!(
                "too long to be spoken: the call's {} would be {} characters and 8x8 speaks at \
                 most {}; shorten it to at most {} characters",
                sent.what,
                sent.chars,
                limits::MAX_TTS_CHARS,
                length.saturating_sub(excess)
            ),
        )]);
    }

    let voice_profile = template
        .voice_profiles
        .get(&language)
        .or_else(|| catalog.voice_profiles.get(&language))
        .map(String::as_str)
        .unwrap_or(language.default_voice_profile());

    Ok(CallScript {
        template: catalog.names.get(&template.name),
        language: catalog.names.get(language.tag()),
        voice_profile: catalog.names.get(voice_profile),
        speed: template.speed,
        client_action_base: super::client_action_base(
            request.order_id,
            &local,
            request.business_name,
        ),
        source: request.source.digits().to_owned(),
        staff_phone: request
            .staff_phone
            .filter(|_| menu.staff)
            .map(|phone| phone.digits().to_owned()),
        menu,
        max_reprompts: catalog.max_reprompts,
        max_repeats: if menu.repeat { catalog.max_repeats } else { 0 },
        texts,
    })
}
