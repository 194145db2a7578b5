//! English dates and times. US: "April 20th, 2025" and "7:30 PM" ("12 PM" at noon, "12 AM" at
//! midnight, as the original service said them). UK: "20th April 2025" and the 12-hour clock
//! in lower case, "7:30 pm", with "midday" and "midnight" on the dot (what a British speaker
//! says instead of the ambiguous "12 pm" / "12 am").

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `st`, `nd`, `rd` or `th`: 1st 2nd 3rd 4th ... 11th 12th 13th ... 21st 22nd 23rd ... 31st.
pub fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn month(date: NaiveDate) -> &'static str {
    MONTHS[date.month0() as usize]
}

pub(super) fn date_us(date: NaiveDate) -> String {
    let day = date.day();
    format!(
        "{} {day}{}, {}",
        month(date),
        ordinal_suffix(day),
        date.year()
    )
}

pub(super) fn date_gb(date: NaiveDate) -> String {
    let day = date.day();
    format!(
        "{day}{} {} {}",
        ordinal_suffix(day),
        month(date),
        date.year()
    )
}

/// `hour:minute period`, the minute left out on the hour ("8 AM").
fn twelve_hour(time: NaiveTime, am: &str, pm: &str) -> String {
    let (is_pm, hour) = time.hour12();
    let period = if is_pm { pm } else { am };
    match time.minute() {
        0 => format!("{hour} {period}"),
        minute => format!("{hour}:{minute:02} {period}"),
    }
}

pub(super) fn time_us(time: NaiveTime) -> String {
    twelve_hour(time, "AM", "PM")
}

pub(super) fn time_gb(time: NaiveTime) -> String {
    match (time.hour(), time.minute()) {
        (12, 0) => "midday".to_owned(),
        (0, 0) => "midnight".to_owned(),
        _ => twelve_hour(time, "am", "pm"),
    }
}
