//! 8x8's text-to-speech limits, checked before anything is sent: at most 3000 characters per
//! spoken text, repetition 1 to 3, speed 0.5 to 2, and a voice profile that names a voice.
//!
//! The catalog checks templates when it loads (a template that cannot fit is refused at
//! startup) and every rendered script (a request whose names make a text too long gets a 422),
//! so 8x8 never answers -1016 or -1002 for something we could have known.

use crate::ivr::languages::Language;
use crate::ivr::script::{CallScript, MenuOptions, ScriptTexts};
use crate::voice::wire::Speed;

/// "Maximum voice message length is 3000 characters" (CONTRACT §2.3.2, `say.text` and
/// `sayAndCapture.promptMessage`). Counted in characters, not bytes: a Chinese prompt of
/// 1000 characters is 1000, not 3000.
pub const MAX_TTS_CHARS: usize = 3000;

/// "Accepted values are 1, 2 or 3" (CONTRACT §2.3.2). Repetition is not a template setting:
/// the script fixes it, and these assertions keep the constants honest.
const MIN_REPETITION: u8 = 1;
const MAX_REPETITION: u8 = 3;
const _: () = assert!(
    CallScript::PROMPT_REPETITION >= MIN_REPETITION
        && CallScript::PROMPT_REPETITION <= MAX_REPETITION
);
const _: () = assert!(
    CallScript::REPLY_REPETITION >= MIN_REPETITION
        && CallScript::REPLY_REPETITION <= MAX_REPETITION
);

/// One text as 8x8 will receive it, and the template field that is most of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentText {
    /// What is sent, in template terms: `prompt`, `reprompt_prefix + prompt`, `confirmed` ...
    pub what: &'static str,
    /// The template text to shorten when it is too long.
    pub field: &'static str,
    pub chars: usize,
}

/// Every text a call with this menu can send, with its length: the main prompt alone and
/// behind each prefix (the state machine joins them with one space), the cancel question,
/// each closing sentence and 8x8's failure message.
pub fn sent_texts(texts: &ScriptTexts, menu: &MenuOptions) -> Vec<SentText> {
    let len = |text: &str| text.chars().count();
    let joined = |prefix: &str, text: &str| {
        if prefix.is_empty() {
            len(text)
        } else {
            len(prefix) + 1 + len(text)
        }
    };
    let mut sent = vec![
        SentText {
            what: "prompt",
            field: "prompt",
            chars: len(&texts.prompt),
        },
        SentText {
            what: "reprompt_prefix + prompt",
            field: "prompt",
            chars: joined(&texts.reprompt_prefix, &texts.prompt),
        },
        SentText {
            what: "confirmed",
            field: "confirmed",
            chars: len(&texts.confirmed),
        },
        SentText {
            what: "cancelled",
            field: "cancelled",
            chars: len(&texts.cancelled),
        },
        SentText {
            what: "goodbye",
            field: "goodbye",
            chars: len(&texts.goodbye),
        },
        SentText {
            what: "failure_message",
            field: "failure_message",
            chars: len(&texts.failure_message),
        },
    ];
    if menu.repeat {
        sent.push(SentText {
            what: "repeat_prefix + prompt",
            field: "prompt",
            chars: joined(&texts.repeat_prefix, &texts.prompt),
        });
    }
    if menu.confirm_cancel {
        sent.extend([
            SentText {
                what: "confirm_cancel",
                field: "confirm_cancel",
                chars: len(&texts.confirm_cancel),
            },
            SentText {
                what: "reprompt_prefix + confirm_cancel",
                field: "confirm_cancel",
                chars: joined(&texts.reprompt_prefix, &texts.confirm_cancel),
            },
            SentText {
                what: "kept",
                field: "kept",
                chars: len(&texts.kept),
            },
        ]);
    }
    if menu.staff {
        sent.push(SentText {
            what: "transferring",
            field: "transferring",
            chars: len(&texts.transferring),
        });
    }
    sent
}

/// The longest text sent, if it is over 8x8's limit.
pub fn over_limit(texts: &ScriptTexts, menu: &MenuOptions) -> Option<SentText> {
    sent_texts(texts, menu)
        .into_iter()
        .max_by_key(|sent| sent.chars)
        .filter(|sent| sent.chars > MAX_TTS_CHARS)
}

/// A speed 8x8 accepts: 0.5 to 2.
pub fn check_speed(speed: f64) -> Result<(), String> {
    if speed.is_finite() && Speed(speed).is_valid() {
        Ok(())
    } else {
        Err(format!(
            "must be between {} and {} (8x8's range), found {speed}",
            Speed::MIN,
            Speed::MAX
        ))
    }
}

/// A voice profile that can speak `language`: a non-empty 8x8 code (`en-GB-HazelRUS`,
/// `en-US-Neural2-C`) whose language subtag is the template language's. A voice of another
/// language would read the words with the wrong phonetics, which is worse than refusing.
pub fn check_voice_profile(profile: &str, language: Language) -> Result<(), String> {
    let well_formed = !profile.is_empty()
        && profile.len() <= 100
        && profile
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        && profile.contains('-');
    if !well_formed {
        return Err(format!(
            "{profile:?} is not an 8x8 voice profile code (like {})",
            language.default_voice_profile()
        ));
    }
    let subtag = profile.split('-').next().unwrap_or_default();
    if !subtag.eq_ignore_ascii_case(language.primary_subtag()) {
        return Err(format!(
            "voice profile {profile:?} does not speak {} (its code must start with \"{}-\")",
            language.tag(),
            language.primary_subtag()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(prompt: &str) -> ScriptTexts {
        ScriptTexts {
            prompt: prompt.into(),
            repeat_prefix: "Again".into(),
            reprompt_prefix: "Sorry.".into(),
            confirm_cancel: "Sure?".into(),
            confirmed: "Yes.".into(),
            kept: "Kept.".into(),
            cancelled: "Gone.".into(),
            transferring: "Hold.".into(),
            goodbye: "Bye.".into(),
            failure_message: "Wrong.".into(),
        }
    }

    #[test]
    fn the_longest_text_counts_the_prefix_and_the_joining_space() {
        let menu = MenuOptions {
            repeat: true,
            staff: false,
            confirm_cancel: false,
        };
        // "Sorry." + " " + 2993 = 3000: fits exactly; one more character does not.
        assert_eq!(over_limit(&texts(&"a".repeat(2993)), &menu), None);
        assert_eq!(
            over_limit(&texts(&"a".repeat(2994)), &menu),
            Some(SentText {
                what: "reprompt_prefix + prompt",
                field: "prompt",
                chars: 3001
            })
        );
    }

    #[test]
    fn characters_not_bytes_are_counted() {
        let menu = MenuOptions::default();
        assert_eq!(over_limit(&texts(&"预".repeat(2900)), &menu), None);
    }

    #[test]
    fn speeds_outside_half_to_double_are_refused() {
        assert!(check_speed(0.5).is_ok());
        assert!(check_speed(2.0).is_ok());
        assert!(check_speed(1.0).is_ok());
        assert_eq!(
            check_speed(2.5),
            Err("must be between 0.5 and 2 (8x8's range), found 2.5".to_owned())
        );
        assert!(check_speed(0.49).is_err());
        assert!(check_speed(f64::NAN).is_err());
    }

    #[test]
    fn voice_profiles_must_be_codes_of_the_same_language() {
        assert!(check_voice_profile("en-GB-Emma", Language::EnGb).is_ok());
        assert!(check_voice_profile("en-IE-EmilyNeural", Language::EnGb).is_ok());
        assert!(check_voice_profile("en-US-Neural2-C", Language::EnUs).is_ok());
        assert_eq!(
            check_voice_profile("", Language::EnUs),
            Err("\"\" is not an 8x8 voice profile code (like en-US-BenjaminRUS)".to_owned())
        );
        assert!(check_voice_profile("Benjamin RUS", Language::EnUs).is_err());
        assert_eq!(
            check_voice_profile("en-US-ZiraRUS", Language::EsEs),
            Err(
                "voice profile \"en-US-ZiraRUS\" does not speak es-ES (its code must start \
                 with \"es-\")"
                    .to_owned()
            )
        );
    }
}
