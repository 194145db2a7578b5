//! Builds the 8x8 callflows of a call script: the initial Send Callflow body and the actions of VCA replies.

use crate::ivr::script::CallScript;
use crate::voice::wire::{
    Action, CallflowRequest, MakeCallParams, SayAndCaptureParams, SayParams, Speed,
};
use chrono::{DateTime, Duration, Utc};

/// Capture settings of the original service, sent explicitly because 8x8's documents disagree
/// on every default (CONTRACT A-6). Equal digit and overall timeouts are what every 8x8 guide
/// example sends.
pub const DIGIT_TIMEOUT_MS: u32 = 10_000;
pub const OVERALL_TIMEOUT_MS: u32 = 10_000;
pub const NO_OF_TRIES: u8 = 2;

/// How long 8x8 may hold the request before dialling.
pub const VALID_FOR: Duration = Duration::hours(1);

/// The Send Callflow body: `makeCall` to the customer, then the main prompt.
pub fn initial_request(
    script: &CallScript,
    destination: &str,
    now: DateTime<Utc>,
) -> CallflowRequest {
    CallflowRequest {
        client_action_id: Some(script.client_action_base.clone()),
        valid_until: (now + VALID_FOR).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        callflow: vec![
            Action::MakeCall(MakeCallParams {
                source: script.source.clone(),
                destination: destination.to_owned(),
            }),
            capture(script, script.texts.prompt.to_string()),
        ],
    }
}

/// A sayAndCapture of `text` for one key, with the script's voice.
pub fn capture(script: &CallScript, text: String) -> Action {
    Action::SayAndCapture(SayAndCaptureParams {
        prompt_message: text,
        voice_profile: script.voice_profile.to_string(),
        repetition: CallScript::PROMPT_REPETITION,
        speed: Speed(script.speed),
        min_digits: 1,
        max_digits: 1,
        digit_timeout: DIGIT_TIMEOUT_MS,
        overall_timeout: OVERALL_TIMEOUT_MS,
        complete_on_hash: false,
        no_of_tries: NO_OF_TRIES,
        success_message: None,
        failure_message: Some(script.texts.failure_message.to_string()),
    })
}

/// A say of `text` once, with the script's voice.
pub fn say(script: &CallScript, text: &str) -> Action {
    say_with(&script.voice_profile, script.speed, text)
}

/// A say with an explicit voice, for replies that have no script (unknown sessions).
pub fn say_with(voice_profile: &str, speed: f64, text: &str) -> Action {
    Action::Say(SayParams {
        text: text.to_owned(),
        voice_profile: voice_profile.to_owned(),
        repetition: CallScript::REPLY_REPETITION,
        speed: Speed(speed),
    })
}

/// The second `makeCall` of a session, which 8x8 bridges to the answered call (CONTRACT §2.2).
pub fn bridge(script: &CallScript, staff_digits: &str) -> Action {
    Action::MakeCall(MakeCallParams {
        source: script.source.clone(),
        destination: staff_digits.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhoneNumber;
    use crate::ivr::{Catalog, ScriptRequest};
    use chrono::DateTime;
    use serde_json::json;

    #[test]
    fn the_initial_request_is_the_original_callflow() {
        let source = PhoneNumber::parse("+65 6833 2048").unwrap();
        let script = Catalog::builtin(1)
            .render(&ScriptRequest {
                order_id: "APT123",
                template: None,
                language: None,
                time_zone: None,
                appointment: DateTime::parse_from_rfc3339("2025-04-20T19:30:00Z").unwrap(),
                business_name: "Business Name",
                customer_name: None,
                staff_name: None,
                callback_phone: None,
                staff_phone: None,
                source: &source,
            })
            .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-25T14:00:00.123Z")
            .unwrap()
            .to_utc();
        let request = initial_request(&script, "6591234567", now);
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "clientActionId": "APT123_20250420_1930_Business_Name",
                "validUntil": "2026-11-25T15:00:00Z",
                "callflow": [
                    {"action": "makeCall", "params": {"source": "6568332048", "destination": "6591234567"}},
                    {"action": "sayAndCapture", "params": {
                        "promptMessage": "Hello, you have an appointment at Business Name on April 20th, 2025 at 7:30 PM. Will you be arriving on time? If yes, press one. If you wish to cancel, press zero.",
                        "voiceProfile": "en-US-BenjaminRUS",
                        "repetition": 2,
                        "speed": 1,
                        "minDigits": 1,
                        "maxDigits": 1,
                        "digitTimeout": 10000,
                        "overallTimeout": 10000,
                        "completeOnHash": false,
                        "noOfTries": 2,
                        "successMessage": null,
                        "failureMessage": "Invalid input, please try again"
                    }}
                ]
            })
        );
    }
}
