//! Mandarin (Simplified Chinese) dates and times: "2025年4月20日", and the 12-hour clock with
//! the part of the day in front, as people say it: 凌晨 (0-5), 早上 (6-7), 上午 (8-11),
//! 中午 (12), 下午 (13-17), 晚上 (18-23). So 19:30 is "晚上7点30分", noon "中午12点",
//! midnight "凌晨0点". Minutes keep two digits ("7点05分", read 七点零五分).

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

pub(super) const WEEKDAYS: [&str; 7] = [
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
];

pub(super) fn date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

pub(super) fn time(time: NaiveTime) -> String {
    let hour = time.hour();
    let period = match hour {
        0..=5 => "凌晨",
        6..=7 => "早上",
        8..=11 => "上午",
        12 => "中午",
        13..=17 => "下午",
        _ => "晚上",
    };
    // 凌晨 keeps 0 ("凌晨0点"); 中午 keeps 12; afternoon and evening count from 1 again.
    let spoken_hour = if hour > 12 { hour - 12 } else { hour };
    match time.minute() {
        0 => format!("{period}{spoken_hour}点"),
        minute => format!("{period}{spoken_hour}点{minute:02}分"),
    }
}
