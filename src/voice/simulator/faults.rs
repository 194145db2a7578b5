//! Injected Send Callflow failures: the next N requests answer an error status, a non-JSON body, or late.

use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// What the next `times` Send Callflow requests do instead of the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub times: u32,
    /// Answer this HTTP status (with `body`, or the documented error body for it).
    pub status: Option<u16>,
    pub body: Option<Value>,
    /// Answer 200 with a body that is not JSON.
    pub garbage: bool,
    /// Answer this late. Alone, the request is processed normally first (so a session may
    /// exist that the client never hears about: the "in doubt" case).
    pub delay: Duration,
}

impl Fault {
    /// Reads `{"times":1,"status":500,"body":{...}}`, `{"times":1,"garbage":true}` or
    /// `{"times":1,"delayMs":3000}` (they combine; `times` defaults to 1).
    pub fn parse(body: &[u8]) -> Result<Fault, String> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return Err("the body must be a JSON object".to_owned());
        };
        let times = match map.get("times") {
            None => 1,
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
                .ok_or("times must be a positive integer")?,
        };
        let status = match map.get("status") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| (200..=599).contains(n))
                    .ok_or("status must be an HTTP status from 200 to 599")?,
            ),
        };
        let body = map.get("body").cloned().filter(|body| !body.is_null());
        if body.is_some() && status.is_none() {
            return Err("body needs a status".to_owned());
        }
        let garbage = match map.get("garbage") {
            None | Some(Value::Null) => false,
            Some(value) => value.as_bool().ok_or("garbage must be a boolean")?,
        };
        let delay = match map.get("delayMs") {
            None | Some(Value::Null) => Duration::ZERO,
            Some(value) => Duration::from_millis(
                value
                    .as_u64()
                    .filter(|ms| *ms <= 600_000)
                    .ok_or("delayMs must be an integer from 0 to 600000")?,
            ),
        };
        if garbage && status.is_some() {
            return Err("garbage and status exclude each other".to_owned());
        }
        if !garbage && status.is_none() && delay.is_zero() {
            return Err("give at least one of status, garbage or delayMs".to_owned());
        }
        Ok(Fault {
            times,
            status,
            body,
            garbage,
            delay,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "times": self.times,
            "status": self.status,
            "body": self.body,
            "garbage": self.garbage,
            "delayMs": self.delay.as_millis() as u64,
        })
    }
}

/// The fault armed for the next Send Callflow requests, if any.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Option<Fault>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Fault>> {
        self.armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Arms `fault`, replacing any other.
    pub fn arm(&self, fault: Fault) {
        *self.lock() = Some(fault);
    }

    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The fault for this request, if one is armed; it is disarmed after its last use.
    pub fn take_one(&self) -> Option<Fault> {
        let mut armed = self.lock();
        let fault = armed.as_mut()?;
        fault.times -= 1;
        let this_one = fault.clone();
        if fault.times == 0 {
            *armed = None;
        }
        Some(this_one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_used_times_then_disarmed() {
        let faults = Faults::default();
        faults.arm(Fault::parse(br#"{"times":2,"status":503}"#).unwrap());
        assert_eq!(faults.take_one().map(|f| f.status), Some(Some(503)));
        assert_eq!(faults.take_one().map(|f| f.status), Some(Some(503)));
        assert_eq!(faults.take_one(), None);
    }

    #[test]
    fn a_fault_must_say_what_goes_wrong() {
        for bad in [
            r#"{}"#,
            r#"{"times":0,"status":500}"#,
            r#"{"status":99}"#,
            r#"{"garbage":true,"status":500}"#,
            r#"{"body":{}}"#,
            r#"[1]"#,
        ] {
            assert!(Fault::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(
            Fault::parse(br#"{"delayMs":3000}"#).unwrap().delay,
            Duration::from_secs(3)
        );
    }
}
