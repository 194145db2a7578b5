//! 8x8's status codes: the synchronous Send Callflow codes with their HTTP status, and the asynchronous VSS error codes (CONTRACT §8).

use axum::http::StatusCode;

/// Send Callflow status codes the simulator answers (CONTRACT §8.1).
pub mod sync {
    pub const INVALID_JSON: i64 = -1001;
    pub const SPEECH_PROFILE: i64 = -1002;
    pub const MAX_DIGITS_WITH_MIN_DIGITS: i64 = -1003;
    pub const OVERALL_TIMEOUT_WITH_DIGIT_TIMEOUT: i64 = -1005;
    pub const OVERALL_TIMEOUT_TOO_SHORT: i64 = -1006;
    pub const INVALID_ACTION: i64 = -1007;
    pub const MAX_DIGITS_WITHOUT_HASH: i64 = -1008;
    pub const INVALID_ENTRY: i64 = -1009;
    pub const TOO_MANY_ACTIONS: i64 = -1010;
    pub const HANGUP_MISPLACED: i64 = -1012;
    pub const FIRST_NOT_MAKE_CALL: i64 = -1013;
    pub const SOURCE_NOT_ALLOWED: i64 = -1014;
    pub const EXPIRED: i64 = -1015;
    pub const SPECIAL_CHARACTERS: i64 = -1016;
    pub const INVALID_DESTINATION: i64 = -1017;
}

/// A Send Callflow (or VCA reply) refused by the validator: one code, one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: i64,
    pub message: String,
}

impl Rejection {
    /// A rejection with the documented message of `code`.
    pub fn standard(code: i64) -> Self {
        Rejection {
            code,
            message: standard_message(code).to_owned(),
        }
    }

    /// -1009 with the JSON-path detail 8x8 appends (`$.callflow[0].params.text: ...`).
    pub fn invalid_entry(detail: impl std::fmt::Display) -> Self {
        Rejection {
            code: sync::INVALID_ENTRY,
            message: format!("Invalid call flow entry provided. {detail}"),
        }
    }

    /// -1007 naming the action and listing the accepted ones, in the live message's form
    /// (`$.callflow[0].action should be one of: ...`), with the full list of CONTRACT §2.2.
    pub fn invalid_action(index: usize) -> Self {
        Rejection {
            code: sync::INVALID_ACTION,
            message: format!(
                "$.callflow[{index}].action should be one of: makeCall,say,sayAndCapture,playFile,hangup"
            ),
        }
    }

    /// HTTP 400 for schema and parameter codes, 422 for callflow-semantic codes (CONTRACT
    /// only -1007 → 400 and -1013 → 422 are documented; the rest follow by kind).
    pub fn http_status(&self) -> StatusCode {
        if (sync::EXPIRED..=sync::TOO_MANY_ACTIONS).contains(&self.code) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

/// The documented message of a Send Callflow code (STAT).
pub fn standard_message(code: i64) -> &'static str {
    match code {
        sync::INVALID_JSON => "Invalid JSON request body",
        sync::SPEECH_PROFILE => "Speech profile or language parameter invalid",
        sync::MAX_DIGITS_WITH_MIN_DIGITS => "Valid maxDigits required when minDigits provided",
        sync::OVERALL_TIMEOUT_WITH_DIGIT_TIMEOUT => {
            "Valid overallTimeout is required when digitTimeout provided"
        }
        sync::OVERALL_TIMEOUT_TOO_SHORT => "OverallTimeout should be greater than digitTimeout",
        sync::INVALID_ACTION => {
            "Invalid action type was used. Accepted action type is [say, sayAndcapture, makeCall, hangup, playFile]"
        }
        sync::MAX_DIGITS_WITHOUT_HASH => "Valid maxDigits is required when completeOnHash is false",
        sync::INVALID_ENTRY => "Invalid call flow entry provided.",
        sync::TOO_MANY_ACTIONS => "Some actions are provided beyond the allowed count",
        sync::HANGUP_MISPLACED => "Invalid Callflow : Incorrect use of action Hangup",
        sync::FIRST_NOT_MAKE_CALL => "Invalid Callflow : First action should be a MakeCall action",
        sync::SOURCE_NOT_ALLOWED => "Source or caller ID is not allowed",
        sync::EXPIRED => "The validity period of the call flow request has expired",
        sync::SPECIAL_CHARACTERS => {
            "Invalid Callflow Content: Some special characters are invalid/unaccepted"
        }
        sync::INVALID_DESTINATION => "Invalid MSISDN format in Destination",
        _ => "An unknown error has occurred.",
    }
}

/// Why a session ended in `ERROR`: a VSS `errorDetails` code and message (CONTRACT §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// -2003: the VCA webhook failed or answered an invalid callflow.
    CallflowInvalid,
    /// -2004: no coverage for the destination.
    NoCoverage,
}

impl SessionError {
    pub fn code(self) -> i64 {
        match self {
            SessionError::CallflowInvalid => -2003,
            SessionError::NoCoverage => -2004,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            SessionError::CallflowInvalid => "The call flow provided is invalid",
            SessionError::NoCoverage => "No coverage available for requested area",
        }
    }
}
