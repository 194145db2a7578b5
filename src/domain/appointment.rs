//! The make-call request parsed at the edge: every field checked, every problem named at once.

use crate::domain::PhoneNumber;
use crate::domain::text::tts_safe;
use crate::error::FieldError;
use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone};
use serde_json::{Map, Value};

/// A validated request to call one customer about one appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCallRequest {
    pub order_id: String,
    pub customer_phone: PhoneNumber,
    /// TTS-safe.
    pub business_name: String,
    /// The instant, in the offset the client sent (or resolved in `time_zone`).
    pub appointment: DateTime<FixedOffset>,
    /// `appointmentTime` exactly as the client wrote it.
    pub appointment_time_as_sent: String,
    pub template: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    /// TTS-safe.
    pub customer_name: Option<String>,
    /// TTS-safe.
    pub staff_name: Option<String>,
    pub staff_phone: Option<PhoneNumber>,
    pub callback_phone: Option<PhoneNumber>,
}

pub const MAX_ORDER_ID: usize = 64;
pub const MAX_NAME: usize = 100;
/// Generous for any real BCP 47 tag or IANA zone; longer values are refused before lookup.
pub const MAX_CODE: usize = 64;

impl MakeCallRequest {
    /// Checks every field of the JSON object; unknown fields are ignored (as the original did).
    pub fn parse(body: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields {
            body,
            errors: Vec::new(),
        };
        let order_id = fields.required_string("orderId").and_then(|raw| {
            let valid = !raw.is_empty()
                && raw.len() <= MAX_ORDER_ID
                && raw
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if valid {
                Some(raw.to_owned())
            } else {
                fields.error(
                    "orderId",
                    format!("must be 1 to {MAX_ORDER_ID} characters of A-Z, a-z, 0-9, _ and -"),
                );
                None
            }
        });
        let customer_phone = fields
            .required_string("customerPhone")
            .and_then(|raw| fields.phone("customerPhone", raw));
        let business_name = fields
            .required_string("businessName")
            .and_then(|raw| fields.name("businessName", raw))
            .and_then(|name| match name {
                Some(name) => Some(name),
                None => {
                    fields.error("businessName", "must contain letters or digits");
                    None
                }
            });
        let template = fields.optional_code("template");
        let language = fields.optional_code("language");
        let time_zone = fields.optional_code("timeZone");
        let appointment = fields
            .required_string("appointmentTime")
            .and_then(|raw| fields.appointment(raw, time_zone.as_deref()));
        let customer_name = fields
            .optional_string("customerName")
            .and_then(|raw| fields.name("customerName", raw))
            .flatten();
        let staff_name = fields
            .optional_string("staffName")
            .and_then(|raw| fields.name("staffName", raw))
            .flatten();
        let staff_phone = fields
            .optional_string("staffPhone")
            .and_then(|raw| fields.phone("staffPhone", raw));
        let callback_phone = fields
            .optional_string("callbackPhone")
            .and_then(|raw| fields.phone("callbackPhone", raw));

        match (order_id, customer_phone, business_name, appointment) {
            (Some(order_id), Some(customer_phone), Some(business_name), Some(appointment))
                if fields.errors.is_empty() =>
            {
                Ok(MakeCallRequest {
                    order_id,
                    customer_phone,
                    business_name,
                    appointment,
                    appointment_time_as_sent: body
                        .get("appointmentTime")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    template,
                    language,
                    time_zone,
                    customer_name,
                    staff_name,
                    staff_phone,
                    callback_phone,
                })
            }
            _ => Err(fields.errors),
        }
    }
}

impl MakeCallRequest {
    /// The appointment as requested, as stored with the call: the known fields only, made
    /// safe, so that nothing unvalidated (or oversized) reaches the store.
    pub fn to_record(&self) -> Value {
        let mut record = Map::new();
        let mut put = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                record.insert(name.to_owned(), Value::String(value));
            }
        };
        put("orderId", Some(self.order_id.clone()));
        put("customerPhone", Some(self.customer_phone.e164()));
        put("businessName", Some(self.business_name.clone()));
        put(
            "appointmentTime",
            Some(self.appointment_time_as_sent.clone()),
        );
        put("template", self.template.clone());
        put("language", self.language.clone());
        put("timeZone", self.time_zone.clone());
        put("customerName", self.customer_name.clone());
        put("staffName", self.staff_name.clone());
        put(
            "staffPhone",
            self.staff_phone.as_ref().map(PhoneNumber::e164),
        );
        put(
            "callbackPhone",
            self.callback_phone.as_ref().map(PhoneNumber::e164),
        );
        Value::Object(record)
    }
}

struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn required_string(&mut self, field: &str) -> Option<&'a str> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                self.error(field, "is required");
                None
            }
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    fn optional_string(&mut self, field: &str) -> Option<&'a str> {
        match self.body.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    fn optional_code(&mut self, field: &str) -> Option<String> {
        let raw = self.optional_string(field)?.trim();
        if raw.len() > MAX_CODE {
            self.error(field, format!("must be at most {MAX_CODE} characters"));
            return None;
        }
        Some(raw.to_owned())
    }

    fn phone(&mut self, field: &str, raw: &str) -> Option<PhoneNumber> {
        PhoneNumber::parse(raw)
            .map_err(|error| self.error(field, error.to_string()))
            .ok()
    }

    /// `Some(None)` when the name is empty once made safe for TTS.
    fn name(&mut self, field: &str, raw: &str) -> Option<Option<String>> {
        let safe = tts_safe(raw);
        if safe.chars().count() > MAX_NAME {
            self.error(field, format!("must be at most {MAX_NAME} characters"));
            return None;
        }
        Some((!safe.is_empty()).then_some(safe))
    }

    fn appointment(&mut self, raw: &str, time_zone: Option<&str>) -> Option<DateTime<FixedOffset>> {
        let raw = raw.trim();
        if let Some(instant) = parse_with_offset(raw) {
            return Some(instant);
        }
        // A local time without offset is only meaningful in the appointment's zone.
        let zone = time_zone.and_then(parse_time_zone);
        match (parse_naive(raw), zone) {
            (Some(local), Some(zone)) => match zone.from_local_datetime(&local) {
                LocalResult::Single(instant) => Some(instant.fixed_offset()),
                // At a DST fall-back the earlier of the two instants is the one people mean
                // when they book "1:30" before the clocks change.
                LocalResult::Ambiguous(earlier, _) => Some(earlier.fixed_offset()),
                LocalResult::None => {
                    self.error(
                        "appointmentTime",
                        format!("does not exist in {zone}: the clocks skip it (daylight saving)"),
                    );
                    None
                }
            },
            (Some(_), None) if time_zone.is_some() => {
                // The script renderer, which names an unknown zone otherwise, never runs for
                // a request that fails here: name it now.
                self.error(
                    "appointmentTime",
                    "has no UTC offset and timeZone is not a known zone",
                );
                self.error("timeZone", unknown_time_zone(time_zone.unwrap_or_default()));
                None
            }
            _ => {
                self.error(
                    "appointmentTime",
                    "must be an ISO 8601 date and time with a UTC offset, e.g. \
                     2025-04-20T19:30:00Z (or a local time together with timeZone)",
                );
                None
            }
        }
    }
}

/// An IANA zone name, exactly or ignoring case (`america/new_york`): the one lookup for both
/// reading a local `appointmentTime` and speaking the appointment, so they never disagree.
pub fn parse_time_zone(raw: &str) -> Option<chrono_tz::Tz> {
    let raw = raw.trim();
    raw.parse::<chrono_tz::Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(raw))
            .copied()
    })
}

/// What a request is told about a zone [`parse_time_zone`] does not know.
pub fn unknown_time_zone(raw: &str) -> String {
    format!("unknown time zone {raw:?}; use an IANA name such as America/New_York")
}

fn parse_with_offset(raw: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .or_else(|| DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M%#z").ok())
}

fn parse_naive(raw: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<MakeCallRequest, Vec<FieldError>> {
        MakeCallRequest::parse(body.as_object().unwrap())
    }

    #[test]
    fn the_original_body_parses() {
        let request = parse(json!({
            "orderId": "APT123",
            "customerPhone": "+65 9123 4567",
            "businessName": "Bright Smile Dental",
            "appointmentTime": "2025-04-20T19:30:00Z"
        }))
        .unwrap();
        assert_eq!(request.order_id, "APT123");
        assert_eq!(request.customer_phone.digits(), "6591234567");
        assert_eq!(request.business_name, "Bright Smile Dental");
        assert_eq!(
            request.appointment.to_rfc3339(),
            "2025-04-20T19:30:00+00:00"
        );
        assert_eq!(request.template, None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = parse(json!({
            "orderId": "APT 123!",
            "customerPhone": "12345",
            "businessName": 7,
            "appointmentTime": "tomorrow",
            "staffPhone": "1",
            "language": 5
        }))
        .unwrap_err();
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            vec![
                "orderId",
                "customerPhone",
                "businessName",
                "language",
                "appointmentTime",
                "staffPhone"
            ]
        );
    }

    #[test]
    fn missing_fields_are_required() {
        let errors = parse(json!({})).unwrap_err();
        assert_eq!(
            errors,
            vec![
                FieldError::new("orderId", "is required"),
                FieldError::new("customerPhone", "is required"),
                FieldError::new("businessName", "is required"),
                FieldError::new("appointmentTime", "is required"),
            ]
        );
    }

    #[test]
    fn names_are_made_safe_and_bounded() {
        let request = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567",
            "businessName": "<speak>Acme</speak>", "appointmentTime": "2025-04-20T19:30:00+08:00",
            "customerName": "  "
        }))
        .unwrap();
        assert_eq!(request.business_name, "Acme");
        assert_eq!(request.customer_name, None);
        let errors = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567",
            "businessName": "x".repeat(101), "appointmentTime": "2025-04-20T19:30:00Z"
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            vec![FieldError::new(
                "businessName",
                "must be at most 100 characters"
            )]
        );
    }

    #[test]
    fn a_local_time_is_resolved_in_the_time_zone() {
        let request = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567", "businessName": "Acme",
            "appointmentTime": "2025-07-01T09:00", "timeZone": "America/Chicago"
        }))
        .unwrap();
        assert_eq!(
            request.appointment.to_rfc3339(),
            "2025-07-01T09:00:00-05:00"
        );
        let errors = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567", "businessName": "Acme",
            "appointmentTime": "2025-03-09T02:30:00", "timeZone": "America/Chicago"
        }))
        .unwrap_err();
        assert_eq!(errors[0].field, "appointmentTime");
    }

    #[test]
    fn a_local_time_is_resolved_in_a_zone_named_in_any_case() {
        let request = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567", "businessName": "Acme",
            "appointmentTime": "2025-07-01T09:00", "timeZone": "america/chicago"
        }))
        .unwrap();
        assert_eq!(
            request.appointment.to_rfc3339(),
            "2025-07-01T09:00:00-05:00"
        );
    }

    #[test]
    fn a_local_time_in_an_unknown_zone_names_both_fields() {
        let errors = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567", "businessName": "Acme",
            "appointmentTime": "2025-07-01T09:00", "timeZone": "Mars/Olympus"
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                FieldError::new(
                    "appointmentTime",
                    "has no UTC offset and timeZone is not a known zone"
                ),
                FieldError::new(
                    "timeZone",
                    "unknown time zone \"Mars/Olympus\"; use an IANA name such as America/New_York"
                ),
            ]
        );
    }

    #[test]
    fn a_local_time_without_zone_is_refused() {
        let errors = parse(json!({
            "orderId": "A1", "customerPhone": "6591234567", "businessName": "Acme",
            "appointmentTime": "2025-07-01T09:00:00"
        }))
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "appointmentTime");
    }
}
