//! Dates, times, weekdays and phone numbers worded as a native speaker says them, per language.
//!
//! Everything here takes the appointment's *local* wall-clock time (the catalog converts to
//! the customer's zone first) and returns text for 8x8's text-to-speech. Each language keeps
//! its conventions in its own file; see each file's doc for the choices made.

mod de;
mod en;
mod es;
mod fr;
mod ja;
mod zh;

use crate::ivr::languages::Language;
use chrono::{Datelike, NaiveDate, NaiveTime};

pub use en::ordinal_suffix;

/// The date without the weekday: "April 20th, 2025", "20 de abril de 2025", "2025年4月20日".
pub fn date(language: Language, date: NaiveDate) -> String {
    match language {
        Language::EnUs => en::date_us(date),
        Language::EnGb => en::date_gb(date),
        Language::EsEs => es::date(date),
        Language::FrFr => fr::date(date),
        Language::DeDe => de::date(date),
        Language::ZhCn => zh::date(date),
        Language::JaJp => ja::date(date),
    }
}

/// The time of day: "7:30 PM", "las 19:30", "19 h 30", "19:30 Uhr", "晚上7点30分", "午後7時30分".
pub fn time(language: Language, time: NaiveTime) -> String {
    match language {
        Language::EnUs => en::time_us(time),
        Language::EnGb => en::time_gb(time),
        Language::EsEs => es::time(time),
        Language::FrFr => fr::time(time),
        Language::DeDe => de::time(time),
        Language::ZhCn => zh::time(time),
        Language::JaJp => ja::time(time),
    }
}

/// The day of the week as it stands inside a sentence: "Sunday", "domingo", "星期日".
pub fn weekday(language: Language, date: NaiveDate) -> &'static str {
    let index = date.weekday().num_days_from_monday() as usize;
    match language {
        Language::EnUs | Language::EnGb => en::WEEKDAYS[index],
        Language::EsEs => es::WEEKDAYS[index],
        Language::FrFr => fr::WEEKDAYS[index],
        Language::DeDe => de::WEEKDAYS[index],
        Language::ZhCn => zh::WEEKDAYS[index],
        Language::JaJp => ja::WEEKDAYS[index],
    }
}

/// A phone number read digit by digit in groups: "6 5, 9 1 2 3, 4 5 6 7".
///
/// Digits separated by spaces make every TTS voice read them one by one (never "sixty-five");
/// the group separator is the language's own comma, which gives the pause a listener needs
/// to write the number down.
pub fn phone(language: Language, digits: &str) -> String {
    let separator = match language {
        Language::ZhCn => "，",
        Language::JaJp => "、",
        _ => ", ",
    };
    digit_groups(digits)
        .iter()
        .map(|group| {
            group
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// Splits a number (digits only, country code first) into the groups it is read in.
///
/// Only digits are known, not the country's own format, so the rule is simple and
/// predictable: North American numbers (`1` + 10 digits) read 1-3-3-4; everything else reads
/// in fours from the end, and a lone leading digit borrows one from its neighbour
/// (`86 138 1234 5678`, `65 9123 4567`).
fn digit_groups(digits: &str) -> Vec<&str> {
    let digits = digits.trim();
    if digits.len() == 11 && digits.starts_with('1') {
        return vec![&digits[..1], &digits[1..4], &digits[4..7], &digits[7..]];
    }
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 4 {
        groups.push(&digits[end - 4..end]);
        end -= 4;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    if groups.len() > 1 && groups[0].len() == 1 {
        // "8 6138 1234 5678" reads badly; "86 138 1234 5678" is how people say it.
        let joined = &digits[..groups[0].len() + groups[1].len()];
        groups[0] = &joined[..2];
        groups[1] = &joined[2..];
    }
    groups.retain(|group| !group.is_empty());
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// (language, 19:30, 08:00, 12:00, 00:00, 12:30, 00:05, 13:05)
    #[test]
    fn every_language_says_evening_on_the_hour_noon_and_midnight_its_own_way() {
        let table: [(Language, [&str; 7]); 7] = [
            (
                Language::EnUs,
                [
                    "7:30 PM", "8 AM", "12 PM", "12 AM", "12:30 PM", "12:05 AM", "1:05 PM",
                ],
            ),
            (
                Language::EnGb,
                [
                    "7:30 pm", "8 am", "midday", "midnight", "12:30 pm", "12:05 am", "1:05 pm",
                ],
            ),
            (
                Language::EsEs,
                [
                    "las 19:30",
                    "las 8:00",
                    "las 12:00",
                    "medianoche",
                    "las 12:30",
                    "las 0:05",
                    "las 13:05",
                ],
            ),
            (
                Language::FrFr,
                [
                    "19 h 30", "8 h", "midi", "minuit", "12 h 30", "0 h 05", "13 h 05",
                ],
            ),
            (
                Language::DeDe,
                [
                    "19:30 Uhr",
                    "8 Uhr",
                    "12 Uhr",
                    "0 Uhr",
                    "12:30 Uhr",
                    "0:05 Uhr",
                    "13:05 Uhr",
                ],
            ),
            (
                Language::ZhCn,
                [
                    "晚上7点30分",
                    "上午8点",
                    "中午12点",
                    "凌晨0点",
                    "中午12点30分",
                    "凌晨0点05分",
                    "下午1点05分",
                ],
            ),
            (
                Language::JaJp,
                [
                    "午後7時30分",
                    "午前8時",
                    "正午",
                    "午前0時",
                    "午後0時30分",
                    "午前0時5分",
                    "午後1時5分",
                ],
            ),
        ];
        let times = [
            at(19, 30),
            at(8, 0),
            at(12, 0),
            at(0, 0),
            at(12, 30),
            at(0, 5),
            at(13, 5),
        ];
        for (language, expected) in table {
            let spoken: Vec<String> = times.iter().map(|t| time(language, *t)).collect();
            assert_eq!(spoken, expected, "{language:?}");
        }
    }

    #[test]
    fn spanish_says_la_for_one_o_clock_only() {
        assert_eq!(time(Language::EsEs, at(1, 0)), "la 1:00");
        assert_eq!(time(Language::EsEs, at(1, 45)), "la 1:45");
        assert_eq!(time(Language::EsEs, at(2, 0)), "las 2:00");
        assert_eq!(time(Language::EsEs, at(0, 30)), "las 0:30");
    }

    #[test]
    fn chinese_names_the_part_of_the_day() {
        let spoken: Vec<String> = [0, 5, 6, 7, 8, 11, 12, 13, 17, 18, 23]
            .iter()
            .map(|h| time(Language::ZhCn, at(*h, 0)))
            .collect();
        assert_eq!(
            spoken,
            [
                "凌晨0点",
                "凌晨5点",
                "早上6点",
                "早上7点",
                "上午8点",
                "上午11点",
                "中午12点",
                "下午1点",
                "下午5点",
                "晚上6点",
                "晚上11点"
            ]
        );
    }

    #[test]
    fn japanese_uses_gozen_and_gogo_around_noon_and_midnight() {
        assert_eq!(time(Language::JaJp, at(11, 59)), "午前11時59分");
        assert_eq!(time(Language::JaJp, at(12, 1)), "午後0時1分");
        assert_eq!(time(Language::JaJp, at(23, 0)), "午後11時");
        assert_eq!(time(Language::JaJp, at(0, 59)), "午前0時59分");
    }

    #[test]
    fn english_day_suffixes_follow_the_teens_rule() {
        let spoken: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31]
            .iter()
            .map(|d| date(Language::EnUs, day(2025, 1, *d)))
            .collect();
        assert_eq!(
            spoken,
            [
                "January 1st, 2025",
                "January 2nd, 2025",
                "January 3rd, 2025",
                "January 4th, 2025",
                "January 11th, 2025",
                "January 12th, 2025",
                "January 13th, 2025",
                "January 21st, 2025",
                "January 22nd, 2025",
                "January 23rd, 2025",
                "January 31st, 2025",
            ]
        );
        let suffixes: String = (1..=31)
            .map(|d| format!("{}{} ", d, ordinal_suffix(d)))
            .collect();
        assert_eq!(
            suffixes.trim_end(),
            "1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th 12th 13th 14th 15th 16th 17th 18th \
             19th 20th 21st 22nd 23rd 24th 25th 26th 27th 28th 29th 30th 31st"
        );
    }

    #[test]
    fn every_language_writes_the_date_its_own_way() {
        let april_20 = day(2025, 4, 20);
        let may_1 = day(2025, 5, 1);
        let table = [
            (Language::EnUs, "April 20th, 2025", "May 1st, 2025"),
            (Language::EnGb, "20th April 2025", "1st May 2025"),
            (Language::EsEs, "20 de abril de 2025", "1 de mayo de 2025"),
            (Language::FrFr, "20 avril 2025", "1er mai 2025"),
            (Language::DeDe, "20. April 2025", "1. Mai 2025"),
            (Language::ZhCn, "2025年4月20日", "2025年5月1日"),
            (Language::JaJp, "2025年4月20日", "2025年5月1日"),
        ];
        for (language, april, may) in table {
            assert_eq!(date(language, april_20), april, "{language:?}");
            assert_eq!(date(language, may_1), may, "{language:?}");
        }
    }

    #[test]
    fn every_month_has_its_name() {
        let months: Vec<String> = (1..=12)
            .map(|m| {
                [
                    Language::EnUs,
                    Language::EsEs,
                    Language::FrFr,
                    Language::DeDe,
                ]
                .map(|l| date(l, day(2026, m, 2)))
                .join(" / ")
            })
            .collect();
        assert_eq!(
            months,
            [
                "January 2nd, 2026 / 2 de enero de 2026 / 2 janvier 2026 / 2. Januar 2026",
                "February 2nd, 2026 / 2 de febrero de 2026 / 2 février 2026 / 2. Februar 2026",
                "March 2nd, 2026 / 2 de marzo de 2026 / 2 mars 2026 / 2. März 2026",
                "April 2nd, 2026 / 2 de abril de 2026 / 2 avril 2026 / 2. April 2026",
                "May 2nd, 2026 / 2 de mayo de 2026 / 2 mai 2026 / 2. Mai 2026",
                "June 2nd, 2026 / 2 de junio de 2026 / 2 juin 2026 / 2. Juni 2026",
                "July 2nd, 2026 / 2 de julio de 2026 / 2 juillet 2026 / 2. Juli 2026",
                "August 2nd, 2026 / 2 de agosto de 2026 / 2 août 2026 / 2. August 2026",
                "September 2nd, 2026 / 2 de septiembre de 2026 / 2 septembre 2026 / 2. September 2026",
                "October 2nd, 2026 / 2 de octubre de 2026 / 2 octobre 2026 / 2. Oktober 2026",
                "November 2nd, 2026 / 2 de noviembre de 2026 / 2 novembre 2026 / 2. November 2026",
                "December 2nd, 2026 / 2 de diciembre de 2026 / 2 décembre 2026 / 2. Dezember 2026",
            ]
        );
    }

    #[test]
    fn weekdays_are_named_in_every_language() {
        // 2025-04-14 is a Monday.
        let week: Vec<String> = Language::ALL
            .iter()
            .map(|l| {
                (14..=20)
                    .map(|d| weekday(*l, day(2025, 4, d)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            week,
            [
                "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
                "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
                "lunes martes miércoles jueves viernes sábado domingo",
                "lundi mardi mercredi jeudi vendredi samedi dimanche",
                "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
                "星期一 星期二 星期三 星期四 星期五 星期六 星期日",
                "月曜日 火曜日 水曜日 木曜日 金曜日 土曜日 日曜日",
            ]
        );
    }

    #[test]
    fn phone_numbers_are_read_digit_by_digit_in_groups() {
        assert_eq!(phone(Language::EnUs, "6591234567"), "6 5, 9 1 2 3, 4 5 6 7");
        assert_eq!(
            phone(Language::EnUs, "12125551234"),
            "1, 2 1 2, 5 5 5, 1 2 3 4"
        );
        assert_eq!(
            phone(Language::EnGb, "8613812345678"),
            "8 6, 1 3 8, 1 2 3 4, 5 6 7 8"
        );
        assert_eq!(phone(Language::DeDe, "4930123456"), "4 9, 3 0 1 2, 3 4 5 6");
        assert_eq!(phone(Language::FrFr, "1234567"), "1 2 3, 4 5 6 7");
        assert_eq!(phone(Language::ZhCn, "6591234567"), "6 5，9 1 2 3，4 5 6 7");
        assert_eq!(
            phone(Language::JaJp, "81312345678"),
            "8 1 3、1 2 3 4、5 6 7 8"
        );
    }

    #[test]
    fn digit_groups_never_lose_or_invent_a_digit() {
        for len in 1..=15 {
            let digits: String = "987654321098765".chars().take(len).collect();
            let groups = digit_groups(&digits);
            assert_eq!(groups.concat(), digits, "{len}");
            assert!(
                groups.iter().all(|g| !g.is_empty() && g.len() <= 4),
                "{groups:?}"
            );
        }
    }
}
