//! Japanese dates and times: "2025年4月20日", and the 12-hour clock with 午前/午後 as in
//! broadcasting and official notices: 19:30 is "午後7時30分", noon on the dot "正午",
//! midnight "午前0時", and 12:30 "午後0時30分" (0 to 11 on both sides of noon, which is
//! never ambiguous, unlike "午後12時").

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

pub(super) const WEEKDAYS: [&str; 7] = [
    "月曜日",
    "火曜日",
    "水曜日",
    "木曜日",
    "金曜日",
    "土曜日",
    "日曜日",
];

pub(super) fn date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

pub(super) fn time(time: NaiveTime) -> String {
    let (hour, minute) = (time.hour(), time.minute());
    if (hour, minute) == (12, 0) {
        return "正午".to_owned();
    }
    let period = if hour < 12 { "午前" } else { "午後" };
    match minute {
        0 => format!("{period}{}時", hour % 12),
        minute => format!("{period}{}時{minute}分", hour % 12),
    }
}
