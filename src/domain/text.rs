//! Text that is spoken by 8x8's text-to-speech or echoed back by 8x8: names made safe for TTS, identifiers made safe for `clientActionId`.

/// Makes a name safe to speak: no markup, no control characters, no stray symbols.
///
/// 8x8 refuses "some special characters" with -1016 without saying which, and a TTS engine
/// that understands SSML would interpret `<...>`; so tags are dropped whole, and then only
/// letters (any script), digits, whitespace and everyday punctuation survive. Whitespace runs
/// collapse to one space.
pub fn tts_safe(raw: &str) -> String {
    let kept: String = without_tags(raw)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ALLOWED_PUNCTUATION.contains(c) {
                c
            } else {
                // Control characters, markup and symbols become a space, so that
                // "Dr.<b>Lee</b>" still reads as separate words.
                ' '
            }
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Replaces every `<...>` with a space; a `<` with no closing `>` is left to the filter.
fn without_tags(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        match rest[open..].find('>') {
            Some(close) => {
                out.push_str(&rest[..open]);
                out.push(' ');
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// Punctuation a TTS engine reads naturally in a business or person's name.
const ALLOWED_PUNCTUATION: &str = ".,'’-!?()/:;#+@%&";

/// Whether a character may appear in an id that 8x8 echoes back (`clientActionId`).
///
/// 8x8 documents no charset; `[A-Za-z0-9_-]` is the subset every documented example uses.
pub fn is_action_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The business-name part of a `clientActionId`: spaces become `_` (as the original did) and
/// anything outside `[A-Za-z0-9_-]` is dropped.
pub fn action_id_component(raw: &str) -> String {
    raw.chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|&c| is_action_id_char(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everyday_names_unchanged() {
        assert_eq!(tts_safe("Bright Smile Dental"), "Bright Smile Dental");
        assert_eq!(tts_safe("O'Neil & Sons, Ltd."), "O'Neil & Sons, Ltd.");
        assert_eq!(tts_safe("Café Müller"), "Café Müller");
        assert_eq!(tts_safe("北京诊所"), "北京诊所");
    }

    #[test]
    fn removes_markup_and_control_characters() {
        assert_eq!(
            tts_safe("Dr.<break time=\"3s\"/>Lee\u{0007}\n Clinic"),
            "Dr. Lee Clinic"
        );
        assert_eq!(tts_safe("<speak>Acme</speak> 1 < 2"), "Acme 1 2");
        assert_eq!(tts_safe("  a\t\tb  "), "a b");
        assert_eq!(tts_safe("<>{}[]"), "");
    }

    #[test]
    fn action_id_component_replaces_spaces_and_drops_the_rest() {
        assert_eq!(action_id_component("Business Name"), "Business_Name");
        assert_eq!(action_id_component("Bob's Garage & Co"), "Bobs_Garage__Co");
    }
}
