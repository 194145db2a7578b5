//! 8x8's verdict on a finished session (from the VSS webhook), as we store and show it.

use crate::voice::wire::{SessionStatus, VssPayload};
use serde::{Deserialize, Serialize};

/// The session summary's facts worth keeping: status, last action, error, duration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionOutcome {
    /// 8x8's `sessionStatus`, normalised: COMPLETED, NO_ANSWER, BUSY, FAILED, CANCELED, ERROR
    /// (or another upper-case value 8x8 may add).
    pub session_status: String,
    /// The last callflow action 8x8 executed, e.g. `HANGUP`, `SAY_AND_CAPTURE`, `MAKE_CALL`.
    pub last_action: Option<String>,
    /// Present when 8x8 reported an error, e.g. -2004 "No coverage available for requested area".
    pub error_details: Option<OutcomeError>,
    /// Seconds the customer's leg was connected.
    pub call_duration: Option<i64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Call legs in the session (2 when bridged to staff).
    pub call_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeError {
    pub error_code: Option<i64>,
    pub error_msg: Option<String>,
}

impl SessionOutcome {
    pub fn from_summary(payload: &VssPayload) -> Self {
        let customer_leg = payload.leg("callA");
        SessionOutcome {
            session_status: payload.normalized_status().as_str().to_owned(),
            last_action: payload.last_action.clone(),
            error_details: payload.error_details.as_ref().map(|details| OutcomeError {
                error_code: details.error_code.as_ref().and_then(|code| code.as_i64()),
                error_msg: details.error_msg.clone(),
            }),
            call_duration: customer_leg
                .as_ref()
                .and_then(|leg| leg.call_duration.as_ref())
                .and_then(|duration| duration.as_seconds()),
            start_time: payload.start_time.clone(),
            end_time: payload.end_time.clone(),
            call_count: payload.call_count,
        }
    }
}

/// Whether the customer picked up, judged from the summary alone.
pub fn customer_answered(payload: &VssPayload) -> bool {
    if payload.normalized_status() == SessionStatus::Completed {
        return true;
    }
    payload.leg("callA").is_some_and(|leg| {
        leg.connected_timestamp.is_some()
            || leg
                .call_duration
                .as_ref()
                .and_then(|d| d.as_seconds())
                .is_some_and(|seconds| seconds > 0)
    })
}
