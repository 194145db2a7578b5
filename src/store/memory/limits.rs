//! The limits the databases' schemas enforce (their CHECK constraints), checked in code by
//! the volatile store before it changes anything, with refusals named like the constraints.

use super::super::rows::PlacementWrite;
use super::super::{NewCall, StateChange, StoreError};

/// Why a value was refused: the same limits as the database schemas, named like their
/// constraints, never quoting the value (a phone number).
pub(super) fn refused(operation: &str, constraint: &str, rule: &str) -> StoreError {
    StoreError::Database(format!("{operation}: {rule} (constraint {constraint})"))
}

fn chars_between(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.chars().count())
}

pub(super) fn check_new_call(call: &NewCall) -> Result<(), StoreError> {
    let operation = "insert a call";
    if !chars_between(&call.order_id, 1, 255) {
        return Err(refused(operation, "calls.order_id", "1 to 255 characters"));
    }
    let phone = &call.customer_phone;
    if !(7..=15).contains(&phone.len()) || !phone.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(refused(operation, "calls.customer_phone", "7 to 15 digits"));
    }
    if !chars_between(&call.client_action_id, 1, 512) {
        return Err(refused(
            operation,
            "calls.client_action_id",
            "1 to 512 characters",
        ));
    }
    Ok(())
}

pub(super) fn check_placement(write: &PlacementWrite) -> Result<(), StoreError> {
    let operation = "record a placement";
    let id_ok = |id: &Option<String>| id.as_deref().is_none_or(|id| chars_between(id, 1, 255));
    if !id_ok(&write.session_id) {
        return Err(refused(
            operation,
            "calls.session_id",
            "1 to 255 characters",
        ));
    }
    if !id_ok(&write.call_flow_request_id) {
        return Err(refused(
            operation,
            "calls.call_flow_request_id",
            "1 to 255 characters",
        ));
    }
    // The failure needs no check: `PlacementWrite::of` already cuts it to what fits.
    Ok(())
}

/// The timeline's events the schemas allow (`call_timeline_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimelineEvent {
    Placing,
    Placed,
    NotPlaced,
    InDoubt,
    Vca,
    Vss,
}

impl TimelineEvent {
    const ALL: [TimelineEvent; 6] = [
        TimelineEvent::Placing,
        TimelineEvent::Placed,
        TimelineEvent::NotPlaced,
        TimelineEvent::InDoubt,
        TimelineEvent::Vca,
        TimelineEvent::Vss,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TimelineEvent::Placing => "placing",
            TimelineEvent::Placed => "placed",
            TimelineEvent::NotPlaced => "not_placed",
            TimelineEvent::InDoubt => "in_doubt",
            TimelineEvent::Vca => "vca",
            TimelineEvent::Vss => "vss",
        }
    }

    /// The allowed event named `name`; `None` for any other (refused as `call_timeline_event`).
    pub fn named(name: &str) -> Option<TimelineEvent> {
        TimelineEvent::ALL
            .into_iter()
            .find(|event| event.name() == name)
    }
}

pub(super) fn check_change(change: &StateChange) -> Result<(), StoreError> {
    let operation = "apply a state change";
    let hook = &change.webhook;
    if !chars_between(&hook.key, 1, 300) {
        return Err(refused(
            operation,
            "webhook_events.key",
            "1 to 300 characters",
        ));
    }
    if !chars_between(&hook.session_id, 1, 255) {
        return Err(refused(
            operation,
            "webhook_events.session_id",
            "1 to 255 characters",
        ));
    }
    if change.state.digits.chars().count() > 1024 {
        return Err(refused(
            operation,
            "calls.digits",
            "at most 1024 characters",
        ));
    }
    // The timeline's event is checked where it is kept (`StoredEntry::of`).
    if let Some(entry) = &change.timeline {
        if entry
            .effect
            .as_deref()
            .is_some_and(|effect| !chars_between(effect, 1, 64))
        {
            return Err(refused(
                operation,
                "call_timeline.effect",
                "1 to 64 characters",
            ));
        }
        if entry
            .digits
            .as_deref()
            .is_some_and(|digits| digits.chars().count() > 64)
        {
            return Err(refused(
                operation,
                "call_timeline.digits",
                "at most 64 characters",
            ));
        }
    }
    Ok(())
}

pub(super) fn check_key(key: &str, request_hash: &str) -> Result<(), StoreError> {
    let operation = "claim an idempotency key";
    if !chars_between(key, 1, 255) {
        return Err(refused(
            operation,
            "idempotency_keys.key",
            "1 to 255 characters",
        ));
    }
    if !chars_between(request_hash, 1, 128) {
        return Err(refused(
            operation,
            "idempotency_keys.request_hash",
            "1 to 128 characters",
        ));
    }
    Ok(())
}
