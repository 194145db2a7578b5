//! Spanish (Spain) dates and times: "20 de abril de 2025", "1 de mayo de 2025" (Spain says
//! "uno de mayo", not "primero"), and the 24-hour clock with its article, because the article
//! agrees with the hour: `{time}` is "las 19:30", "la 1:15" or "medianoche", so templates
//! write "a {time}" ("a las 19:30", "a medianoche") or "antes de {time}".

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

pub(super) const WEEKDAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];

pub(super) fn date(date: NaiveDate) -> String {
    format!(
        "{} de {} de {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

pub(super) fn time(time: NaiveTime) -> String {
    let (hour, minute) = (time.hour(), time.minute());
    match (hour, minute) {
        (0, 0) => "medianoche".to_owned(),
        (1, _) => format!("la 1:{minute:02}"),
        _ => format!("las {hour}:{minute:02}"),
    }
}
