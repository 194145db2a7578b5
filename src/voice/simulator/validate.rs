//! The callflow validator: turns a Send Callflow body or a VCA reply into the steps to play, or the one documented code that refuses it.
//!
//! Bodies are read as raw JSON so that every rule answers its own code (CONTRACT §2, §8.1,
//! A-6..A-10, A-20, A-34, §9). Order of checks: the JSON itself (-1001), then each action in
//! turn (schema and parameters: -1007, -1009, -1002, capture rules, -1016, -1017, -1014), then
//! the callflow as a whole (-1013, -1010, -1012, -1015). The first failure wins.

use crate::voice::simulator::codes::{Rejection, sync};
use crate::voice::simulator::config::CaptureDefaults;
use crate::voice::simulator::fields::Fields;
use crate::voice::simulator::numbers::is_msisdn;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The most characters one spoken text may have (OAS).
pub const MAX_TEXT_CHARS: usize = 3000;
/// The most `makeCall` actions one session may have (OAS makeCall description).
pub const MAX_MAKE_CALLS: usize = 2;
/// The most digits a capture may take (CAH: "> 0 and < 26").
pub const MAX_CAPTURE_DIGITS: i64 = 25;

/// What the validator checks against: the subaccount's voice profiles and its options.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub voice_profiles: &'a [String],
    pub strict: bool,
    pub capture_defaults: CaptureDefaults,
}

/// One validated action, with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    MakeCall(Dial),
    Say(Say),
    SayAndCapture(Capture),
    PlayFile(PlayFile),
    Hangup,
}

impl Step {
    /// The name VSS `lastAction` gives this action.
    pub fn last_action_name(&self) -> &'static str {
        match self {
            Step::MakeCall(_) => "MAKE_CALL",
            Step::Say(_) => "SAY",
            Step::SayAndCapture(_) => "SAY_AND_CAPTURE",
            Step::PlayFile(_) => "PLAY_FILE",
            Step::Hangup => "HANGUP",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    pub source: String,
    pub destination: String,
    pub call_recording: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    pub text: String,
    pub voice_profile: String,
    pub repetition: u32,
    pub speed: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    pub prompt_message: String,
    pub voice_profile: String,
    pub speed: f64,
    pub min_digits: usize,
    pub max_digits: usize,
    pub digit_timeout_ms: Option<u64>,
    pub overall_timeout_ms: u64,
    pub complete_on_hash: bool,
    pub no_of_tries: u32,
    pub success_message: Option<String>,
    pub failure_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayFile {
    pub file_url: String,
    pub repetition: u32,
}

/// An accepted Send Callflow request.
#[derive(Debug, Clone, PartialEq)]
pub struct CallflowPlan {
    pub steps: Vec<Step>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Top-level `clientActionId` (not in the OAS; tolerated, A-4).
    pub client_action_id: Option<String>,
    /// Top-level `clientRequestId`, echoed in the VSS.
    pub client_request_id: Option<String>,
}

/// An accepted answer to a VCA webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyPlan {
    pub client_action_id: Option<String>,
    pub steps: Vec<Step>,
}

/// Validates a Send Callflow body received at `now`.
pub fn send_callflow(
    body: &[u8],
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<CallflowPlan, Rejection> {
    let root = parse_object(body)?;
    let top = Fields::new("$", &root);
    let valid_until = match top.optional_string("validUntil")? {
        None => None,
        Some(text) => Some(parse_valid_until(text).ok_or_else(|| {
            Rejection::invalid_entry("$.validUntil: does not match the date-time pattern")
        })?),
    };
    let client_action_id = top.optional_string("clientActionId")?.map(str::to_owned);
    let client_request_id = top.optional_string("clientRequestId")?.map(str::to_owned);
    let steps = callflow_steps(&top, rules)?;

    if !matches!(steps.first(), Some(Step::MakeCall(_))) {
        return Err(Rejection::standard(sync::FIRST_NOT_MAKE_CALL));
    }
    check_make_call_count(&steps, 0)?;
    check_hangup_is_last(&steps)?;
    if valid_until.is_some_and(|until| until < now) {
        return Err(Rejection::standard(sync::EXPIRED));
    }
    Ok(CallflowPlan {
        steps,
        valid_until,
        client_action_id,
        client_request_id,
    })
}

/// Validates the app's answer to a VCA: the same action rules, except that the first action
/// need not be `makeCall`; a `makeCall` here bridges a new leg, and the session as a whole may
/// have at most [`MAX_MAKE_CALLS`]. An empty callflow is valid (it hangs up, A-23).
pub fn vca_reply(
    body: &[u8],
    rules: &Rules<'_>,
    make_calls_so_far: usize,
) -> Result<ReplyPlan, Rejection> {
    let root = parse_object(body)?;
    vca_reply_value(&Value::Object(root), rules, make_calls_so_far)
}

/// [`vca_reply`] for a reply already read as JSON (anything but an object is -1001).
pub fn vca_reply_value(
    reply: &Value,
    rules: &Rules<'_>,
    make_calls_so_far: usize,
) -> Result<ReplyPlan, Rejection> {
    let Value::Object(root) = reply else {
        return Err(Rejection::standard(sync::INVALID_JSON));
    };
    let top = Fields::new("$", root);
    let client_action_id = top.optional_string("clientActionId")?.map(str::to_owned);
    let steps = callflow_steps(&top, rules)?;
    check_make_call_count(&steps, make_calls_so_far)?;
    check_hangup_is_last(&steps)?;
    Ok(ReplyPlan {
        client_action_id,
        steps,
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.SSS]Z` (milliseconds optional, A-34) or any RFC 3339 offset.
pub fn parse_valid_until(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|moment| moment.with_timezone(&Utc))
}

fn parse_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, Rejection> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Rejection::standard(sync::INVALID_JSON)),
    }
}

fn callflow_steps(top: &Fields<'_>, rules: &Rules<'_>) -> Result<Vec<Step>, Rejection> {
    let callflow = top.required("callflow")?;
    let Value::Array(actions) = callflow else {
        return Err(top.wrong_type("callflow", callflow, "array"));
    };
    actions
        .iter()
        .enumerate()
        .map(|(index, action)| step(index, action, rules))
        .collect()
}

fn step(index: usize, action: &Value, rules: &Rules<'_>) -> Result<Step, Rejection> {
    let path = format!("$.callflow[{index}]");
    let Value::Object(map) = action else {
        return Err(Rejection::invalid_entry(format!(
            "{path}: {} found, object expected",
            crate::voice::simulator::fields::type_name(action)
        )));
    };
    let fields = Fields::new(path, map);
    let name = fields.required_string("action")?;
    match name {
        "makeCall" => make_call(&fields.required_object("params")?, rules),
        "say" => say(&fields.required_object("params")?, rules),
        "sayAndCapture" => say_and_capture(&fields.required_object("params")?, rules),
        "playFile" => play_file(&fields.required_object("params")?, rules),
        "hangup" => hangup(&fields, rules),
        _ => Err(Rejection::invalid_action(index)),
    }
}

fn make_call(params: &Fields<'_>, rules: &Rules<'_>) -> Result<Step, Rejection> {
    let source = params.required_string("source")?;
    let destination = params.required_string("destination")?;
    // Documented by CAH and VCA-G although the OAS says maxProperties 2.
    let call_recording = params.optional_bool("callRecording")?.unwrap_or(false);
    if rules.strict {
        params.only(&["source", "destination", "callRecording"])?;
    }
    if !is_msisdn(destination) {
        return Err(Rejection::standard(sync::INVALID_DESTINATION));
    }
    if !is_msisdn(source) {
        return Err(Rejection::standard(sync::SOURCE_NOT_ALLOWED));
    }
    Ok(Step::MakeCall(Dial {
        source: source.to_owned(),
        destination: destination.to_owned(),
        call_recording,
    }))
}

fn say(params: &Fields<'_>, rules: &Rules<'_>) -> Result<Step, Rejection> {
    let text = params.required_string("text")?;
    params.check_length("text", text, MAX_TEXT_CHARS)?;
    let voice_profile = params.required_string("voiceProfile")?;
    let repetition = repetition(params)?;
    let speed = speed(params)?;
    if rules.strict {
        params.only(&["text", "voiceProfile", "repetition", "speed"])?;
    }
    check_voice_profile(voice_profile, rules)?;
    check_spoken(text)?;
    Ok(Step::Say(Say {
        text: text.to_owned(),
        voice_profile: voice_profile.to_owned(),
        repetition,
        speed,
    }))
}

fn say_and_capture(params: &Fields<'_>, rules: &Rules<'_>) -> Result<Step, Rejection> {
    let prompt_message = params.required_string("promptMessage")?;
    params.check_length("promptMessage", prompt_message, MAX_TEXT_CHARS)?;
    let voice_profile = params.required_string("voiceProfile")?;
    let speed = speed(params)?;
    // Not in the OAS, but in 8x8's own simple-IVR example: accepted and ignored.
    repetition(params)?;
    let min_digits = params.optional_integer("minDigits", 1, None)?;
    // maxDigits, overallTimeout: read now, judged below, because a bad value beside
    // minDigits / completeOnHash / digitTimeout has its own code (-1003, -1008, -1005).
    let max_digits = params.optional_integer("maxDigits", 1, Some(MAX_CAPTURE_DIGITS));
    let digit_timeout = params.optional_integer("digitTimeout", 1, None)?;
    let overall_timeout = params.optional_integer("overallTimeout", 1, None);
    let complete_on_hash = params.optional_bool("completeOnHash")?;
    let no_of_tries = params.optional_integer("noOfTries", 1, Some(i64::from(u32::MAX)))?;
    let success_message = optional_message(params, "successMessage")?;
    let failure_message = optional_message(params, "failureMessage")?;
    if rules.strict {
        params.only(&[
            "promptMessage",
            "voiceProfile",
            "speed",
            "repetition",
            "minDigits",
            "maxDigits",
            "digitTimeout",
            "overallTimeout",
            "completeOnHash",
            "noOfTries",
            "successMessage",
            "failureMessage",
        ])?;
    }
    check_voice_profile(voice_profile, rules)?;

    let max_digits = judge_max_digits(max_digits, min_digits, complete_on_hash)?;
    let overall_timeout = match (digit_timeout, overall_timeout) {
        (Some(_), Err(_)) => {
            return Err(Rejection::standard(
                sync::OVERALL_TIMEOUT_WITH_DIGIT_TIMEOUT,
            ));
        }
        // Missing overallTimeout beside digitTimeout: -1005 only in strict mode, because
        // 8x8's OAS example 1 does exactly that.
        (Some(_), Ok(None)) if rules.strict => {
            return Err(Rejection::standard(
                sync::OVERALL_TIMEOUT_WITH_DIGIT_TIMEOUT,
            ));
        }
        // Equal timeouts are fine: every 8x8 guide sends 10000/10000.
        (Some(digit), Ok(Some(overall))) if overall < digit => {
            return Err(Rejection::standard(sync::OVERALL_TIMEOUT_TOO_SHORT));
        }
        (_, overall) => overall?,
    };

    check_spoken(prompt_message)?;
    for message in [&success_message, &failure_message].into_iter().flatten() {
        check_spoken(message)?;
    }
    let defaults = rules.capture_defaults;
    Ok(Step::SayAndCapture(Capture {
        prompt_message: prompt_message.to_owned(),
        voice_profile: voice_profile.to_owned(),
        speed,
        min_digits: to_count(min_digits.unwrap_or(1)),
        max_digits: to_count(max_digits.unwrap_or(defaults.max_digits() as i64)),
        digit_timeout_ms: digit_timeout.map(|ms| ms as u64),
        overall_timeout_ms: overall_timeout.map_or(defaults.overall_timeout_ms(), |ms| ms as u64),
        complete_on_hash: complete_on_hash.unwrap_or(true),
        no_of_tries: no_of_tries.map_or(defaults.no_of_tries() as u32, |n| n as u32),
        success_message,
        failure_message,
    }))
}

/// maxDigits has its own codes when minDigits is given (-1003: it must be valid and not
/// below minDigits) or completeOnHash is false (-1008: it must be valid); otherwise a bad
/// value is a plain -1009.
fn judge_max_digits(
    max_digits: Result<Option<i64>, Rejection>,
    min_digits: Option<i64>,
    complete_on_hash: Option<bool>,
) -> Result<Option<i64>, Rejection> {
    let valid = match (&max_digits, min_digits) {
        (Ok(Some(max)), Some(min)) => min <= *max,
        (Ok(Some(_)), None) => true,
        _ => false,
    };
    if valid {
        return max_digits;
    }
    if min_digits.is_some() {
        return Err(Rejection::standard(sync::MAX_DIGITS_WITH_MIN_DIGITS));
    }
    if complete_on_hash == Some(false) {
        return Err(Rejection::standard(sync::MAX_DIGITS_WITHOUT_HASH));
    }
    max_digits
}

fn play_file(params: &Fields<'_>, rules: &Rules<'_>) -> Result<Step, Rejection> {
    let file_url = params.required_string("fileUrl")?;
    let is_web_url = reqwest::Url::parse(file_url)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host());
    if !is_web_url {
        return Err(Rejection::invalid_entry(format!(
            "{}: does not match the uri pattern ^https?://",
            params.path_of("fileUrl")
        )));
    }
    let repetition = repetition(params)?;
    if rules.strict {
        params.only(&["fileUrl", "repetition"])?;
    }
    Ok(Step::PlayFile(PlayFile {
        file_url: file_url.to_owned(),
        repetition,
    }))
}

/// `{"action":"hangup"}`; an empty `params` is tolerated ([3P-HM] sends one).
fn hangup(action: &Fields<'_>, rules: &Rules<'_>) -> Result<Step, Rejection> {
    if action.is_provided("params") {
        let params = action.required_object("params")?;
        if rules.strict && !params.is_empty() {
            params.only(&[])?;
        }
    }
    Ok(Step::Hangup)
}

fn repetition(params: &Fields<'_>) -> Result<u32, Rejection> {
    Ok(params
        .optional_integer("repetition", 1, Some(3))?
        .map_or(1, |n| n as u32))
}

/// Integer or float, 0.5 to 2.
fn speed(params: &Fields<'_>) -> Result<f64, Rejection> {
    Ok(params.optional_number("speed", 0.5, 2.0)?.unwrap_or(1.0))
}

fn optional_message(params: &Fields<'_>, name: &str) -> Result<Option<String>, Rejection> {
    let Some(text) = params.optional_string(name)? else {
        return Ok(None);
    };
    params.check_length(name, text, MAX_TEXT_CHARS)?;
    Ok(Some(text.to_owned()))
}

fn check_voice_profile(voice_profile: &str, rules: &Rules<'_>) -> Result<(), Rejection> {
    if rules
        .voice_profiles
        .iter()
        .any(|known| known == voice_profile)
    {
        Ok(())
    } else {
        Err(Rejection::standard(sync::SPEECH_PROFILE))
    }
}

/// -1016: 8x8 does not say which characters it refuses; the simulator refuses control
/// characters and markup (`<`, `>`), which a TTS engine would read as SSML.
fn check_spoken(text: &str) -> Result<(), Rejection> {
    if text.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        Err(Rejection::standard(sync::SPECIAL_CHARACTERS))
    } else {
        Ok(())
    }
}

fn check_make_call_count(steps: &[Step], so_far: usize) -> Result<(), Rejection> {
    let make_calls = steps
        .iter()
        .filter(|step| matches!(step, Step::MakeCall(_)))
        .count();
    if so_far + make_calls > MAX_MAKE_CALLS {
        Err(Rejection::standard(sync::TOO_MANY_ACTIONS))
    } else {
        Ok(())
    }
}

/// `hangup` may only be the last action (and so appear once).
fn check_hangup_is_last(steps: &[Step]) -> Result<(), Rejection> {
    let misplaced = steps
        .iter()
        .rev()
        .skip(1)
        .any(|step| matches!(step, Step::Hangup));
    if misplaced {
        Err(Rejection::standard(sync::HANGUP_MISPLACED))
    } else {
        Ok(())
    }
}

fn to_count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::simulator::config::default_voice_profiles;
    use serde_json::json;

    fn rules(profiles: &[String], strict: bool) -> Rules<'_> {
        Rules {
            voice_profiles: profiles,
            strict,
            capture_defaults: CaptureDefaults::Guide,
        }
    }

    fn reply(body: Value) -> Result<ReplyPlan, Rejection> {
        let profiles = default_voice_profiles();
        vca_reply(body.to_string().as_bytes(), &rules(&profiles, false), 1)
    }

    /// Placeholders such as `{{Source Phone Number}}` replaced by dialable numbers.
    fn with_numbers(fixture: &str) -> Value {
        let mut value: Value = serde_json::from_str(fixture).unwrap();
        for action in value["callflow"].as_array_mut().unwrap() {
            if action["action"] == "makeCall" {
                for field in ["source", "destination"] {
                    let number = action["params"][field].as_str().unwrap();
                    if !is_msisdn(number) {
                        action["params"][field] = json!("+6591230001");
                    }
                }
            }
        }
        value
    }

    #[test]
    fn every_documented_vca_reply_is_accepted() {
        let fixtures = [
            include_str!("../../../tests/fixtures/8x8/vca-response-hangup-clientactionid.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-hangup.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-makecall-bridge.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-makecall-callrecording.json"),
            include_str!(
                "../../../tests/fixtures/8x8/vca-response-makecall-e164-callrecording.json"
            ),
            include_str!("../../../tests/fixtures/8x8/vca-response-makecall-placeholders.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-playfile.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-repeat-menu-sayandcapture.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-say-clientactionid.json"),
            include_str!("../../../tests/fixtures/8x8/vca-response-say-hangup.json"),
            include_str!(
                "../../../tests/fixtures/8x8/vca-response-say-then-hangup-number-masking.json"
            ),
            include_str!("../../../tests/fixtures/8x8/vca-response-sayandcapture-all-params.json"),
            include_str!(
                "../../../tests/fixtures/8x8/vca-response-sayandcapture-clientactionid.json"
            ),
        ];
        for fixture in fixtures {
            let body = with_numbers(fixture);
            assert!(
                reply(body.clone()).is_ok(),
                "{body}: {:?}",
                reply(body.clone())
            );
        }
    }

    #[test]
    fn a_reply_is_read_into_steps_with_defaults() {
        let plan = reply(json!({"clientActionId": "x", "callflow": [
            {"action": "sayAndCapture", "params": {"promptMessage": "Press 1", "voiceProfile": "en-US-BenjaminRUS"}},
        ]}))
        .unwrap();
        assert_eq!(
            plan,
            ReplyPlan {
                client_action_id: Some("x".into()),
                steps: vec![Step::SayAndCapture(Capture {
                    prompt_message: "Press 1".into(),
                    voice_profile: "en-US-BenjaminRUS".into(),
                    speed: 1.0,
                    min_digits: 1,
                    max_digits: 25,
                    digit_timeout_ms: None,
                    overall_timeout_ms: 30_000,
                    complete_on_hash: true,
                    no_of_tries: 3,
                    success_message: None,
                    failure_message: None,
                })]
            }
        );
    }

    #[test]
    fn a_reply_may_not_bring_the_session_over_two_make_calls() {
        let bridge = json!({"callflow": [
            {"action": "makeCall", "params": {"source": "6512345678", "destination": "6561115777"}},
            {"action": "makeCall", "params": {"source": "6512345678", "destination": "6561115778"}},
        ]});
        assert_eq!(
            reply(bridge).unwrap_err(),
            Rejection::standard(sync::TOO_MANY_ACTIONS)
        );
    }

    #[test]
    fn strict_mode_refuses_unknown_params_and_a_missing_overall_timeout() {
        let profiles = default_voice_profiles();
        let body = json!({"callflow": [
            {"action": "say", "params": {"text": "Hi", "voiceProfile": "en-GB-Emma", "volume": 3}},
        ]});
        assert!(vca_reply(body.to_string().as_bytes(), &rules(&profiles, false), 1).is_ok());
        assert_eq!(
            vca_reply(body.to_string().as_bytes(), &rules(&profiles, true), 1)
                .unwrap_err()
                .message,
            "Invalid call flow entry provided. $.callflow[0].params.volume: is not defined in the schema and the schema does not allow additional properties"
        );
        let body = json!({"callflow": [
            {"action": "sayAndCapture", "params": {"promptMessage": "Hi", "voiceProfile": "en-GB-Emma", "digitTimeout": 5000}},
        ]});
        assert!(vca_reply(body.to_string().as_bytes(), &rules(&profiles, false), 1).is_ok());
        assert_eq!(
            vca_reply(body.to_string().as_bytes(), &rules(&profiles, true), 1).unwrap_err(),
            Rejection::standard(sync::OVERALL_TIMEOUT_WITH_DIGIT_TIMEOUT)
        );
    }

    #[test]
    fn valid_until_is_read_with_or_without_milliseconds() {
        assert!(parse_valid_until("2026-08-01T09:00:00Z").is_some());
        assert!(parse_valid_until("2026-08-01T09:00:00.000Z").is_some());
        assert!(parse_valid_until("2026-08-01 09:00").is_none());
    }
}
