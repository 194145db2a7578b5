//! The outcome of one confirmation call as the business sees it, and where the customer is in the menu.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The status of a call, from the business's point of view.
///
/// `placing` is only ever seen while 8x8 is being asked; `unknown` means the process could not
/// learn whether 8x8 accepted the call (it died or timed out mid-request) and the call is never
/// dialled again automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The call row is written and 8x8 is being asked to place the call.
    Placing,
    /// 8x8 refused the call, or it could not be reached at all; no call exists.
    NotPlaced,
    /// Whether 8x8 placed the call is not known (timeout or crash while asking).
    Unknown,
    /// 8x8 placed the call; no final key yet.
    Pending,
    /// The customer pressed 1 (or kept the appointment after starting to cancel).
    Confirmed,
    /// The customer pressed 0 (and confirmed the cancellation where the template asks).
    Cancelled,
    /// The customer asked for a person and the call was bridged to staff.
    Transferred,
    /// Answered, but no valid key was pressed.
    NoResponse,
    /// Never answered: NO_ANSWER, BUSY, FAILED, CANCELED or ERROR before answer.
    Unreachable,
}

impl CallStatus {
    pub const ALL: [CallStatus; 9] = [
        CallStatus::Placing,
        CallStatus::NotPlaced,
        CallStatus::Unknown,
        CallStatus::Pending,
        CallStatus::Confirmed,
        CallStatus::Cancelled,
        CallStatus::Transferred,
        CallStatus::NoResponse,
        CallStatus::Unreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Placing => "placing",
            CallStatus::NotPlaced => "not_placed",
            CallStatus::Unknown => "unknown",
            CallStatus::Pending => "pending",
            CallStatus::Confirmed => "confirmed",
            CallStatus::Cancelled => "cancelled",
            CallStatus::Transferred => "transferred",
            CallStatus::NoResponse => "no_response",
            CallStatus::Unreachable => "unreachable",
        }
    }

    /// A customer decision that nothing may overwrite (not even 8x8's session summary).
    pub fn is_customer_decision(self) -> bool {
        matches!(
            self,
            CallStatus::Confirmed | CallStatus::Cancelled | CallStatus::Transferred
        )
    }

    /// The call is live on 8x8's side and webhooks are still expected.
    pub fn is_live(self) -> bool {
        matches!(self, CallStatus::Pending)
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not one of the statuses above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for CallStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CallStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Where the customer is in the call script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MenuStep {
    /// The appointment has been read out; 1, 0 (and 9, 2 where offered) are expected.
    Main,
    /// The customer pressed 0 on a template that double-checks cancellations.
    ConfirmCancel,
    /// Nothing more is expected from the customer.
    Done,
}

impl MenuStep {
    pub fn as_str(self) -> &'static str {
        match self {
            MenuStep::Main => "main",
            MenuStep::ConfirmCancel => "confirm_cancel",
            MenuStep::Done => "done",
        }
    }
}

impl FromStr for MenuStep {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [MenuStep::Main, MenuStep::ConfirmCancel, MenuStep::Done]
            .into_iter()
            .find(|step| step.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_text() {
        for status in CallStatus::ALL {
            assert_eq!(status.as_str().parse::<CallStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }

    #[test]
    fn unknown_text_is_refused() {
        assert_eq!(
            "done".parse::<CallStatus>(),
            Err(UnknownStatus("done".into()))
        );
    }

    #[test]
    fn steps_round_trip() {
        for step in [MenuStep::Main, MenuStep::ConfirmCancel, MenuStep::Done] {
            assert_eq!(step.as_str().parse::<MenuStep>(), Ok(step));
        }
    }
}
