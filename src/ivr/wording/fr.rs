//! French dates and times: "20 avril 2025" but "1er mai 2025" (the first of the month is an
//! ordinal), and the 24-hour clock as spoken, "19 h 30", "8 h", with "midi" and "minuit" on
//! the dot. Templates write "le {date}" and "à {time}" ("à midi", "à 19 h 30").

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

pub(super) const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

pub(super) fn date(date: NaiveDate) -> String {
    let day = match date.day() {
        1 => "1er".to_owned(),
        day => day.to_string(),
    };
    format!("{day} {} {}", MONTHS[date.month0() as usize], date.year())
}

pub(super) fn time(time: NaiveTime) -> String {
    match (time.hour(), time.minute()) {
        (12, 0) => "midi".to_owned(),
        (0, 0) => "minuit".to_owned(),
        (hour, 0) => format!("{hour} h"),
        (hour, minute) => format!("{hour} h {minute:02}"),
    }
}
