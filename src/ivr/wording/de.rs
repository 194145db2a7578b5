//! German dates and times: "20. April 2025" (the voice reads "zwanzigsten April" after "am"
//! or "dem"), and the 24-hour clock, "19:30 Uhr", "8 Uhr", "0 Uhr". Templates write
//! "am {date}" and "um {time}".

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

pub(super) const WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];

pub(super) fn date(date: NaiveDate) -> String {
    format!(
        "{}. {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

pub(super) fn time(time: NaiveTime) -> String {
    match (time.hour(), time.minute()) {
        (hour, 0) => format!("{hour} Uhr"),
        (hour, minute) => format!("{hour}:{minute:02} Uhr"),
    }
}
