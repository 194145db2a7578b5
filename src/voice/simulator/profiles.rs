//! The speech-profiles answer: each configured voice profile with its locale, language and gender (CONTRACT §5).

use serde_json::{Value, json};

/// `GET .../speech-profiles` in the documented shape (`{"speechProfiles":[...]}`).
pub fn speech_profiles(voice_profiles: &[String]) -> Value {
    let profiles: Vec<Value> = voice_profiles
        .iter()
        .map(|code| {
            let locale = locale_of(code);
            json!({
                "speechProfileCode": code,
                "localeCode": locale,
                "localeDescription": locale_description(&locale),
                "gender": gender_of(code),
            })
        })
        .collect();
    json!({ "speechProfiles": profiles })
}

/// `en-US-BenjaminRUS` → `en-US`.
fn locale_of(code: &str) -> String {
    code.splitn(3, '-').take(2).collect::<Vec<_>>().join("-")
}

/// The description 8x8 gives a locale: "EnglishUS" and "Danish" are documented, the rest
/// follow their pattern.
fn locale_description(locale: &str) -> String {
    let described = match locale {
        "en-US" => "EnglishUS",
        "en-GB" => "EnglishGB",
        "en-IE" => "EnglishIE",
        "da-DK" => "Danish",
        "ar-EG" => "Arabic",
        "ca-ES" => "Catalan",
        "es-ES" => "Spanish",
        "fr-FR" => "French",
        "de-DE" => "German",
        "zh-CN" => "Chinese",
        "ja-JP" => "Japanese",
        other => other,
    };
    described.to_owned()
}

/// The voices of the seed list are all female except Benjamin; profiles the simulator does
/// not know are reported as `U` (unknown).
fn gender_of(code: &str) -> &'static str {
    const FEMALE: &[&str] = &[
        "Emma",
        "Standard-A",
        "Naja",
        "Neural2-C",
        "ZiraRUS",
        "EmilyNeural",
        "Jenny",
        "Hoda",
        "SalmaNeural",
        "HerenaRUS",
        "HelenaRUS",
        "HortenseRUS",
        "HeddaRUS",
        "HuihuiRUS",
        "HarukaRUS",
        "HazelRUS",
    ];
    let voice = code.splitn(3, '-').nth(2).unwrap_or("");
    if voice == "BenjaminRUS" {
        "M"
    } else if FEMALE.contains(&voice) {
        "F"
    } else {
        "U"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_profiles_read_as_documented() {
        let documented: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/8x8/speech-profiles-response.json"
        ))
        .unwrap();
        assert_eq!(
            speech_profiles(&["en-US-Standard-A".into(), "da-DK-Naja".into()]),
            documented
        );
    }
}
