//! The languages a call can be spoken in: BCP 47 tags, their names, clocks and default 8x8 voices.

use serde::Serialize;

/// A language the catalog has words, dates and times for.
///
/// Tags are BCP 47 (`en-US`), matched case-insensitively (`en-us` is `en-US`); the POSIX
/// spelling `en_US` is refused rather than guessed, so that a client learns the right form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    EnUs,
    EnGb,
    EsEs,
    FrFr,
    DeDe,
    ZhCn,
    JaJp,
}

/// How a language tells the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Clock {
    /// 1 to 12 with a day period: "7:30 PM", "晚上7点30分", "午後7時30分".
    #[serde(rename = "12-hour")]
    TwelveHour,
    /// 0 to 23: "19:30 Uhr", "19 h 30".
    #[serde(rename = "24-hour")]
    TwentyFourHour,
}

/// The language a call is spoken in when the request names none.
pub const DEFAULT_LANGUAGE: Language = Language::EnUs;

impl Language {
    /// Every supported language, in the order they are listed to clients.
    pub const ALL: [Language; 7] = [
        Language::EnUs,
        Language::EnGb,
        Language::EsEs,
        Language::FrFr,
        Language::DeDe,
        Language::ZhCn,
        Language::JaJp,
    ];

    /// The canonical BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::EnGb => "en-GB",
            Language::EsEs => "es-ES",
            Language::FrFr => "fr-FR",
            Language::DeDe => "de-DE",
            Language::ZhCn => "zh-CN",
            Language::JaJp => "ja-JP",
        }
    }

    /// The language subtag (`en` of `en-US`), which a voice profile must share.
    pub fn primary_subtag(self) -> &'static str {
        &self.tag()[..2]
    }

    /// The English name, for lists shown to developers.
    pub fn name(self) -> &'static str {
        match self {
            Language::EnUs => "English (United States)",
            Language::EnGb => "English (United Kingdom)",
            Language::EsEs => "Spanish (Spain)",
            Language::FrFr => "French (France)",
            Language::DeDe => "German (Germany)",
            Language::ZhCn => "Chinese (Mainland China, Mandarin)",
            Language::JaJp => "Japanese (Japan)",
        }
    }

    /// The 8x8 voice used unless the templates file names another.
    pub fn default_voice_profile(self) -> &'static str {
        match self {
            Language::EnUs => "en-US-BenjaminRUS",
            Language::EnGb => "en-GB-HazelRUS",
            Language::EsEs => "es-ES-HelenaRUS",
            Language::FrFr => "fr-FR-HortenseRUS",
            Language::DeDe => "de-DE-HeddaRUS",
            Language::ZhCn => "zh-CN-HuihuiRUS",
            Language::JaJp => "ja-JP-HarukaRUS",
        }
    }

    pub fn clock(self) -> Clock {
        match self {
            Language::EnUs | Language::EnGb | Language::ZhCn | Language::JaJp => Clock::TwelveHour,
            Language::EsEs | Language::FrFr | Language::DeDe => Clock::TwentyFourHour,
        }
    }

    /// What goes between two sentences: a space, except in Chinese and Japanese, whose full
    /// stops (`。`) need none.
    pub fn sentence_separator(self) -> &'static str {
        match self {
            Language::ZhCn | Language::JaJp => "",
            _ => " ",
        }
    }

    /// Finds a language by its tag, ignoring case: `en-us` is `en-US`, `en_US` is nothing.
    pub fn parse(raw: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|language| language.tag().eq_ignore_ascii_case(raw.trim()))
    }

    /// `en-US, en-GB, ...`: the list quoted in error messages.
    pub fn supported_tags() -> String {
        Language::ALL.map(Language::tag).join(", ")
    }
}

/// One supported language as the service describes it to developers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LanguageInfo {
    /// The BCP 47 tag to send as `language`.
    pub tag: String,
    pub name: String,
    /// The 8x8 voice calls in this language use by default (after the templates file's overrides).
    pub voice_profile: String,
    pub clock: Clock,
    /// How 2025-04-20 is spoken.
    pub date_example: String,
    /// How 19:30 is spoken.
    pub time_example: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_case_insensitively_and_come_back_canonical() {
        assert_eq!(Language::parse("en-US"), Some(Language::EnUs));
        assert_eq!(Language::parse("en-us"), Some(Language::EnUs));
        assert_eq!(Language::parse("EN-gb"), Some(Language::EnGb));
        assert_eq!(Language::parse("zh-cn").map(Language::tag), Some("zh-CN"));
        assert_eq!(Language::parse("JA-jp").map(Language::tag), Some("ja-JP"));
    }

    #[test]
    fn posix_spellings_bare_languages_and_unknown_tags_are_refused() {
        assert_eq!(Language::parse("en_us"), None);
        assert_eq!(Language::parse("en_US"), None);
        assert_eq!(Language::parse("en"), None);
        assert_eq!(Language::parse("pt-BR"), None);
        assert_eq!(Language::parse(""), None);
    }

    #[test]
    fn every_default_voice_speaks_its_own_language() {
        for language in Language::ALL {
            assert!(
                language
                    .default_voice_profile()
                    .starts_with(&format!("{}-", language.tag())),
                "{language:?}"
            );
        }
    }

    #[test]
    fn the_supported_list_names_all_seven() {
        assert_eq!(
            Language::supported_tags(),
            "en-US, en-GB, es-ES, fr-FR, de-DE, zh-CN, ja-JP"
        );
    }
}
