//! The store's behaviour, written once and run on every backend: every behaviour below is an
//! `async fn` taking a fresh store, and `on_every_backend!` makes a SQLite, a PostgreSQL and a
//! volatile (`memory:`) test of it (`store::sqlite::<name>`, `store::postgres::<name>`,
//! `store::memory::<name>`). Behaviours that need the database's URL (reopening it, writing to
//! it behind the store's back) run on the two databases only; the volatile store's own
//! defences are tested at the end.

use crate::databases::{
    execute_raw, fresh_sqlite, on_memory, on_postgres, on_sqlite, remove_sqlite,
};
use callconfirm::domain::{CallStatus, JsonText, MenuStep, SessionOutcome, outcome::OutcomeError};
use callconfirm::ivr::{CallScript, IvrState, MenuOptions, ScriptTexts};
use callconfirm::store::{
    self, ApplyResult, CallQuery, CallRecord, Cursor, IdempotencyClaim, NewCall, Placement,
    STOPPED_BEFORE_ANSWER, SharedStore, StateChange, StoreError, StoredResponse, TimelineEntry,
    WebhookKind, WebhookRecord,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

macro_rules! on_every_backend {
    (
        store: [$($behaviour:ident),* $(,)?],
        store_and_url: [$($with_url:ident),* $(,)?] $(,)?
    ) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    on_sqlite(|store, _url| super::$behaviour(store)).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $with_url() {
                    on_sqlite(super::$with_url).await;
                }
            )*
            use super::on_sqlite;
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    on_postgres(|store, _url| super::$behaviour(store)).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $with_url() {
                    on_postgres(super::$with_url).await;
                }
            )*
            use super::on_postgres;
        }
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    on_memory(|store, _url| super::$behaviour(store)).await;
                }
            )*
            use super::on_memory;
        }
    };
}

on_every_backend! {
    store: [
        a_new_call_reads_back_field_for_field,
        a_created_placement_makes_the_call_pending_with_its_session,
        a_refused_placement_records_not_placed_with_the_reason,
        an_unanswered_placement_records_unknown_with_a_bounded_reason,
        a_placement_arriving_after_the_sweep_changes_nothing,
        a_placement_for_a_missing_call_is_reported,
        a_webhook_change_is_applied_once_and_replayed_as_a_duplicate,
        a_stale_version_conflicts_and_writes_nothing,
        a_change_without_timeline_or_outcome_keeps_the_stored_outcome,
        the_stored_status_is_the_changes_whatever_its_timeline_says,
        ten_concurrent_deliveries_of_one_event_make_one_transition,
        concurrent_changes_from_one_version_let_exactly_one_win,
        a_change_for_a_missing_call_is_reported,
        the_sweep_marks_only_overdue_placing_calls_unknown,
        an_idempotency_key_goes_from_claimed_to_completed_and_replays,
        an_expired_idempotency_key_is_taken_over,
        a_released_idempotency_key_can_be_claimed_again,
        purging_deletes_only_expired_idempotency_keys,
        twenty_concurrent_claims_of_one_key_make_one_owner,
        listing_is_newest_first_with_ties_broken_by_id,
        every_list_filter_narrows_the_result,
        paging_by_cursor_visits_every_call_exactly_once,
        timelines_of_many_calls_come_back_in_one_map,
        database_errors_never_show_the_phone_number,
    ],
    store_and_url: [
        reopening_the_database_keeps_everything,
        two_instances_on_one_database_share_deduplication_and_claims,
        the_schema_refuses_values_no_code_should_write,
        a_row_whose_script_no_longer_parses_is_reported_corrupt,
    ],
}

// ---------------------------------------------------------------------------------------------
// Test data

const PHONE: &str = "6591234567";

/// 2026-11-25 09:30:00 UTC plus `minutes`.
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap() + Duration::minutes(minutes)
}

fn script() -> CallScript {
    CallScript {
        template: "dental".into(),
        language: "en-US".into(),
        voice_profile: "en-US-Standard-C".into(),
        speed: 1.0,
        client_action_base: "ORD-1_20261126_1430_Bright_Smile".into(),
        source: "6531580000".into(),
        staff_phone: Some("6598765432".into()),
        menu: MenuOptions {
            repeat: true,
            staff: true,
            confirm_cancel: true,
        },
        max_reprompts: 2,
        max_repeats: 1,
        texts: ScriptTexts {
            prompt: "Hello, this is Bright Smile Dental. Press 1 to confirm, 0 to cancel.".into(),
            repeat_prefix: "Again:".into(),
            reprompt_prefix: "Sorry, I did not get that.".into(),
            confirm_cancel: "Press 0 again to cancel, or 1 to keep it.".into(),
            confirmed: "Thank you, see you then.".into(),
            kept: "Your appointment is kept.".into(),
            cancelled: "Your appointment is cancelled.".into(),
            transferring: "Connecting you to our staff.".into(),
            goodbye: "Goodbye.".into(),
            failure_message: "Please press a key.".into(),
        },
    }
}

fn new_call(order_id: &str, created_at: DateTime<Utc>) -> NewCall {
    NewCall {
        id: Uuid::new_v4(),
        order_id: order_id.into(),
        customer_phone: PHONE.into(),
        client_action_id: format!("{order_id}_20261126_1430_Bright_Smile"),
        request: json!({
            "orderId": order_id,
            "customerPhone": "+65 9123 4567",
            "appointment": {"at": "2026-11-26T14:30:00+08:00", "business": "Bright Smile"},
            "options": {"repeat": true, "note": null, "speed": 1.25}
        }),
        script: Arc::new(script()),
        created_at,
        placing_deadline: created_at + Duration::seconds(90),
    }
}

fn placing_state() -> IvrState {
    IvrState {
        status: CallStatus::Placing,
        step: MenuStep::Main,
        prompts_played: 0,
        reprompts: 0,
        repeats: 0,
        digits: String::new(),
        summary_received: false,
    }
}

/// The record a freshly inserted call must read back as.
fn placing_record(call: &NewCall) -> CallRecord {
    CallRecord {
        id: call.id,
        order_id: call.order_id.clone(),
        customer_phone: call.customer_phone.clone(),
        client_action_id: call.client_action_id.clone(),
        session_id: None,
        call_flow_request_id: None,
        request: call.request.clone(),
        script: Arc::clone(&call.script),
        state: placing_state(),
        outcome: None,
        failure: None,
        version: 1,
        created_at: call.created_at,
        updated_at: call.created_at,
    }
}

fn entry(
    at: DateTime<Utc>,
    from: Option<CallStatus>,
    to: CallStatus,
    event: &str,
) -> TimelineEntry {
    TimelineEntry {
        at,
        from,
        to,
        event: event.into(),
        effect: None,
        digits: None,
    }
}

fn placing_entry(call: &NewCall) -> TimelineEntry {
    entry(call.created_at, None, CallStatus::Placing, "placing")
}

fn created(session_id: &str) -> Placement {
    Placement::Created {
        session_id: session_id.into(),
        call_flow_request_id: Some(format!("cfr-{session_id}")),
    }
}

/// Inserts a call and records its placement as created: a live `pending` call at version 2.
pub(crate) async fn pending_call(
    store: &SharedStore,
    order_id: &str,
    session_id: &str,
) -> CallRecord {
    let call = new_call(order_id, at(0));
    store.insert_call(&call).await.unwrap();
    store
        .record_placement(call.id, &created(session_id), at(1))
        .await
        .unwrap()
}

fn confirm_reply() -> JsonText {
    JsonText::of(&json!({
        "clientActionId": "ORD-1_20261126_1430_Bright_Smile",
        "callflow": [
            {"action": "say", "params": {"text": "Thank you, see you then."}},
            {"action": "hangup"}
        ]
    }))
    .unwrap()
}

/// The change a VCA with key 1 makes to a pending call: confirmed.
pub(crate) fn confirm_change(call: &CallRecord, event_id: &str) -> StateChange {
    StateChange {
        call_id: call.id,
        expected_version: call.version,
        webhook: WebhookRecord {
            key: format!("vca:{event_id}"),
            kind: WebhookKind::Vca,
            session_id: call.session_id.clone().unwrap(),
            received_at: at(2),
            event: JsonText::of(&json!({"eventId": event_id, "dtmf": "1"})).unwrap(),
            reply: Some(confirm_reply()),
        },
        state: IvrState {
            status: CallStatus::Confirmed,
            step: MenuStep::Done,
            digits: "1".into(),
            ..IvrState::placed()
        },
        outcome: None,
        timeline: Some(TimelineEntry {
            at: at(2),
            from: Some(CallStatus::Pending),
            to: CallStatus::Confirmed,
            event: "vca".into(),
            effect: Some("confirmed".into()),
            digits: Some("1".into()),
        }),
    }
}

fn summary() -> SessionOutcome {
    SessionOutcome {
        session_status: "COMPLETED".into(),
        last_action: Some("HANGUP".into()),
        error_details: Some(OutcomeError {
            error_code: Some(-2004),
            error_msg: Some("No coverage available for requested area".into()),
        }),
        call_duration: Some(37),
        start_time: Some("2026-11-25T09:31:00Z".into()),
        end_time: Some("2026-11-25T09:31:37Z".into()),
        call_count: Some(1),
    }
}

/// The pending call's confirmation (`ev-1`) applies, at version 3: proof that nothing of an
/// earlier refused or conflicting change was kept, or that the store still writes.
async fn assert_the_confirmation_applies(store: &SharedStore, call: &CallRecord) {
    assert_eq!(
        store
            .apply_change(&confirm_change(call, "ev-1"))
            .await
            .unwrap(),
        ApplyResult::Applied { version: 3 }
    );
}

async fn timeline_of(store: &SharedStore, id: Uuid) -> Vec<TimelineEntry> {
    store.timelines(&[id]).await.unwrap().remove(&id).unwrap()
}

fn query(limit: u32) -> CallQuery {
    CallQuery {
        limit,
        ..CallQuery::default()
    }
}

fn ids(records: &[CallRecord]) -> Vec<Uuid> {
    records.iter().map(|r| r.id).collect()
}

/// Ids newest first, ties broken by the larger id, as the store must order them.
fn newest_first(calls: &[&NewCall]) -> Vec<Uuid> {
    let mut sorted: Vec<_> = calls.iter().map(|c| (c.created_at, c.id)).collect();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.into_iter().map(|(_, id)| id).collect()
}

// ---------------------------------------------------------------------------------------------
// Calls and placements

async fn a_new_call_reads_back_field_for_field(store: SharedStore) {
    // Nanoseconds are truncated to the microsecond, identically on both backends.
    let mut call = new_call("ORD-1", at(0) + Duration::nanoseconds(123_456_789));
    call.placing_deadline = at(1) + Duration::nanoseconds(999_999_999);
    store.insert_call(&call).await.unwrap();

    let mut expected = placing_record(&call);
    let kept = at(0) + Duration::microseconds(123_456);
    expected.created_at = kept;
    expected.updated_at = kept;
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(expected));
    assert_eq!(
        timeline_of(&store, call.id).await,
        vec![entry(kept, None, CallStatus::Placing, "placing")]
    );
    assert_eq!(store.call_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(
        store.call_by_session("no-such-session").await.unwrap(),
        None
    );
}

async fn a_created_placement_makes_the_call_pending_with_its_session(store: SharedStore) {
    let call = new_call("ORD-1", at(0));
    store.insert_call(&call).await.unwrap();

    let placed = store
        .record_placement(call.id, &created("sess-1"), at(1))
        .await
        .unwrap();

    let expected = CallRecord {
        session_id: Some("sess-1".into()),
        call_flow_request_id: Some("cfr-sess-1".into()),
        state: IvrState::placed(),
        version: 2,
        updated_at: at(1),
        ..placing_record(&call)
    };
    assert_eq!(placed, expected);
    assert_eq!(
        store.call_by_id(call.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.call_by_session("sess-1").await.unwrap(),
        Some(expected)
    );
    assert_eq!(
        timeline_of(&store, call.id).await,
        vec![
            placing_entry(&call),
            entry(
                at(1),
                Some(CallStatus::Placing),
                CallStatus::Pending,
                "placed"
            ),
        ]
    );
}

async fn a_refused_placement_records_not_placed_with_the_reason(store: SharedStore) {
    let call = new_call("ORD-1", at(0));
    store.insert_call(&call).await.unwrap();

    let refused = Placement::NotPlaced {
        reason: "8x8 refused the call: 1002 invalid destination".into(),
    };
    let record = store
        .record_placement(call.id, &refused, at(1))
        .await
        .unwrap();

    let expected = CallRecord {
        state: IvrState {
            status: CallStatus::NotPlaced,
            ..placing_state()
        },
        failure: Some("8x8 refused the call: 1002 invalid destination".into()),
        version: 2,
        updated_at: at(1),
        ..placing_record(&call)
    };
    assert_eq!(record, expected);
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(expected));
    assert_eq!(
        timeline_of(&store, call.id).await,
        vec![
            placing_entry(&call),
            entry(
                at(1),
                Some(CallStatus::Placing),
                CallStatus::NotPlaced,
                "not_placed"
            ),
        ]
    );
}

async fn an_unanswered_placement_records_unknown_with_a_bounded_reason(store: SharedStore) {
    let call = new_call("ORD-1", at(0));
    store.insert_call(&call).await.unwrap();

    // A reason longer than the schema allows is cut (on a character boundary), not refused:
    // a refused write would leave the call `placing`.
    let long_reason = format!("8x8 timed out: {}", "é".repeat(2000));
    let record = store
        .record_placement(
            call.id,
            &Placement::InDoubt {
                reason: long_reason.clone(),
            },
            at(1),
        )
        .await
        .unwrap();

    let expected = CallRecord {
        state: IvrState {
            status: CallStatus::Unknown,
            ..placing_state()
        },
        failure: Some(long_reason.chars().take(1000).collect()),
        version: 2,
        updated_at: at(1),
        ..placing_record(&call)
    };
    assert_eq!(record, expected);
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(expected));
    assert_eq!(
        timeline_of(&store, call.id).await,
        vec![
            placing_entry(&call),
            entry(
                at(1),
                Some(CallStatus::Placing),
                CallStatus::Unknown,
                "in_doubt"
            ),
        ]
    );
}

async fn a_placement_arriving_after_the_sweep_changes_nothing(store: SharedStore) {
    let call = new_call("ORD-1", at(0));
    store.insert_call(&call).await.unwrap();
    assert_eq!(store.mark_in_doubt(at(5), at(5)).await.unwrap(), 1);
    let swept = store.call_by_id(call.id).await.unwrap().unwrap();

    let late = store
        .record_placement(call.id, &created("sess-late"), at(6))
        .await
        .unwrap();

    assert_eq!(late, swept);
    assert_eq!(late.state.status, CallStatus::Unknown);
    assert_eq!(store.call_by_session("sess-late").await.unwrap(), None);
    assert_eq!(timeline_of(&store, call.id).await.len(), 2);
}

async fn a_placement_for_a_missing_call_is_reported(store: SharedStore) {
    let id = Uuid::new_v4();
    let result = store.record_placement(id, &created("sess-1"), at(1)).await;
    assert!(
        matches!(result, Err(StoreError::MissingCall(missing)) if missing == id),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Webhook changes

async fn a_webhook_change_is_applied_once_and_replayed_as_a_duplicate(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let change = StateChange {
        outcome: Some(summary()),
        ..confirm_change(&call, "ev-1")
    };

    assert_eq!(
        store.apply_change(&change).await.unwrap(),
        ApplyResult::Applied { version: 3 }
    );
    let confirmed = CallRecord {
        state: change.state.clone(),
        outcome: Some(summary()),
        version: 3,
        updated_at: at(2),
        ..call.clone()
    };
    assert_eq!(
        store.call_by_id(call.id).await.unwrap(),
        Some(confirmed.clone())
    );

    // The same event again, even carrying another decision: the first reply, nothing written.
    let redelivery = StateChange {
        expected_version: 3,
        state: IvrState {
            status: CallStatus::Cancelled,
            ..change.state.clone()
        },
        ..change.clone()
    };
    assert_eq!(
        store.apply_change(&redelivery).await.unwrap(),
        ApplyResult::Duplicate {
            reply: Some(confirm_reply())
        }
    );
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(confirmed));
    assert_eq!(
        timeline_of(&store, call.id).await,
        vec![
            placing_entry(&new_call("ORD-1", at(0))),
            entry(
                at(1),
                Some(CallStatus::Placing),
                CallStatus::Pending,
                "placed"
            ),
            change.timeline.clone().unwrap(),
        ]
    );
}

async fn a_stale_version_conflicts_and_writes_nothing(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let stale = StateChange {
        expected_version: 1,
        ..confirm_change(&call, "ev-1")
    };

    assert_eq!(
        store.apply_change(&stale).await.unwrap(),
        ApplyResult::Conflict
    );
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(call.clone()));
    assert_eq!(timeline_of(&store, call.id).await.len(), 2);

    // The webhook row was rolled back too: the retry with the right version is applied.
    assert_the_confirmation_applies(&store, &call).await;
}

async fn a_change_without_timeline_or_outcome_keeps_the_stored_outcome(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    // A VSS: the outcome is stored.
    let summary_change = StateChange {
        webhook: WebhookRecord {
            key: "vss:sess-1".into(),
            kind: WebhookKind::Vss,
            reply: None,
            ..confirm_change(&call, "unused").webhook
        },
        state: IvrState {
            status: CallStatus::NoResponse,
            summary_received: true,
            ..IvrState::placed()
        },
        outcome: Some(summary()),
        timeline: Some(entry(
            at(2),
            Some(CallStatus::Pending),
            CallStatus::NoResponse,
            "vss",
        )),
        ..confirm_change(&call, "unused")
    };
    assert_eq!(
        store.apply_change(&summary_change).await.unwrap(),
        ApplyResult::Applied { version: 3 }
    );

    // A late VCA that changes nothing visible: no timeline entry, no outcome; still versioned.
    let late_key = StateChange {
        expected_version: 3,
        webhook: WebhookRecord {
            key: "vca:ev-late".into(),
            received_at: at(3),
            reply: None,
            ..confirm_change(&call, "ev-late").webhook
        },
        state: summary_change.state.clone(),
        outcome: None,
        timeline: None,
        ..confirm_change(&call, "ev-late")
    };
    assert_eq!(
        store.apply_change(&late_key).await.unwrap(),
        ApplyResult::Applied { version: 4 }
    );
    assert_eq!(
        store.call_by_id(call.id).await.unwrap(),
        Some(CallRecord {
            state: summary_change.state.clone(),
            outcome: Some(summary()),
            version: 4,
            updated_at: at(3),
            ..call.clone()
        })
    );
    assert_eq!(timeline_of(&store, call.id).await.len(), 3);
    // A stored `None` reply replays as `None`.
    assert_eq!(
        store.apply_change(&late_key).await.unwrap(),
        ApplyResult::Duplicate { reply: None }
    );
}

/// The SQLite writer updates a row without assigning its status when the change's timeline
/// says the status stays: the stored status must still be the change's in every case, and
/// the status filter of the list must agree with it.
async fn the_stored_status_is_the_changes_whatever_its_timeline_says(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let pending_state = IvrState {
        reprompts: 1,
        ..IvrState::placed()
    };
    // A re-prompt: pending to pending.
    let reprompt = StateChange {
        state: pending_state.clone(),
        timeline: Some(entry(
            at(2),
            Some(CallStatus::Pending),
            CallStatus::Pending,
            "vca",
        )),
        ..confirm_change(&call, "ev-1")
    };
    // The same, one version too late: a conflict, nothing written.
    assert_eq!(
        store
            .apply_change(&StateChange {
                expected_version: 1,
                ..reprompt.clone()
            })
            .await
            .unwrap(),
        ApplyResult::Conflict
    );
    assert_eq!(
        store.apply_change(&reprompt).await.unwrap(),
        ApplyResult::Applied { version: 3 }
    );
    // No timeline entry, and yet a new status.
    let silent = StateChange {
        expected_version: 3,
        state: IvrState {
            status: CallStatus::NoResponse,
            ..pending_state.clone()
        },
        timeline: None,
        ..confirm_change(&call, "ev-2")
    };
    assert_eq!(
        store.apply_change(&silent).await.unwrap(),
        ApplyResult::Applied { version: 4 }
    );
    // A timeline that claims the status stays, while the change moves it.
    let mislabelled = StateChange {
        expected_version: 4,
        timeline: Some(entry(
            at(2),
            Some(CallStatus::Confirmed),
            CallStatus::Confirmed,
            "vca",
        )),
        ..confirm_change(&call, "ev-3")
    };
    assert_eq!(
        store.apply_change(&mislabelled).await.unwrap(),
        ApplyResult::Applied { version: 5 }
    );
    assert_eq!(
        store.call_by_id(call.id).await.unwrap(),
        Some(CallRecord {
            state: mislabelled.state.clone(),
            version: 5,
            updated_at: at(2),
            ..call.clone()
        })
    );
    let listed = |status| {
        let store = store.clone();
        async move {
            store
                .list_calls(&CallQuery {
                    status: Some(status),
                    limit: 10,
                    ..CallQuery::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|record| record.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(CallStatus::Confirmed).await, vec![call.id]);
    assert_eq!(listed(CallStatus::Pending).await, Vec::<Uuid>::new());
    assert_eq!(listed(CallStatus::NoResponse).await, Vec::<Uuid>::new());
}

async fn ten_concurrent_deliveries_of_one_event_make_one_transition(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let change = confirm_change(&call, "ev-1");

    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let (store, change) = (store.clone(), change.clone());
            tokio::spawn(async move { store.apply_change(&change).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for delivery in deliveries {
        results.push(delivery.await.unwrap());
    }

    let applied = results
        .iter()
        .filter(|r| **r == ApplyResult::Applied { version: 3 })
        .count();
    let duplicates = results
        .iter()
        .filter(|r| {
            **r == ApplyResult::Duplicate {
                reply: Some(confirm_reply()),
            }
        })
        .count();
    assert_eq!((applied, duplicates), (1, 9), "{results:?}");
    assert_eq!(store.call_by_id(call.id).await.unwrap().unwrap().version, 3);
    let timeline = timeline_of(&store, call.id).await;
    assert_eq!(timeline.len(), 3);
    assert_eq!(timeline.last(), change.timeline.as_ref());
}

async fn concurrent_changes_from_one_version_let_exactly_one_win(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;

    let writers: Vec<_> = (0..10)
        .map(|n| {
            let (store, change) = (store.clone(), confirm_change(&call, &format!("ev-{n}")));
            tokio::spawn(async move { store.apply_change(&change).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for writer in writers {
        results.push(writer.await.unwrap());
    }

    let applied = results
        .iter()
        .filter(|r| **r == ApplyResult::Applied { version: 3 })
        .count();
    let conflicts = results
        .iter()
        .filter(|r| **r == ApplyResult::Conflict)
        .count();
    assert_eq!((applied, conflicts), (1, 9), "{results:?}");
    assert_eq!(timeline_of(&store, call.id).await.len(), 3);
}

async fn a_change_for_a_missing_call_is_reported(store: SharedStore) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let change = StateChange {
        call_id: Uuid::new_v4(),
        ..confirm_change(&call, "ev-1")
    };
    let result = store.apply_change(&change).await;
    assert!(
        matches!(result, Err(StoreError::MissingCall(id)) if id == change.call_id),
        "{result:?}"
    );
    assert_eq!(store.call_by_id(call.id).await.unwrap(), Some(call));
}

// ---------------------------------------------------------------------------------------------
// The sweep

async fn the_sweep_marks_only_overdue_placing_calls_unknown(store: SharedStore) {
    // Deadlines at 90 s after creation: overdue ones at minutes 0 and 1, one not yet due.
    let overdue: Vec<NewCall> = (0..2).map(|m| new_call("ORD-1", at(m))).collect();
    let not_due = new_call("ORD-2", at(10));
    for call in overdue.iter().chain([&not_due]) {
        store.insert_call(call).await.unwrap();
    }
    // Overdue too, but already placed: untouched.
    let pending = pending_call(&store, "ORD-3", "sess-3").await;

    assert_eq!(store.mark_in_doubt(at(5), at(6)).await.unwrap(), 2);

    for call in &overdue {
        assert_eq!(
            store.call_by_id(call.id).await.unwrap(),
            Some(CallRecord {
                state: IvrState {
                    status: CallStatus::Unknown,
                    ..placing_state()
                },
                failure: Some(STOPPED_BEFORE_ANSWER.into()),
                version: 2,
                updated_at: at(6),
                ..placing_record(call)
            })
        );
        assert_eq!(
            timeline_of(&store, call.id).await,
            vec![
                placing_entry(call),
                entry(
                    at(6),
                    Some(CallStatus::Placing),
                    CallStatus::Unknown,
                    "in_doubt"
                ),
            ]
        );
    }
    assert_eq!(
        store.call_by_id(not_due.id).await.unwrap(),
        Some(placing_record(&not_due))
    );
    assert_eq!(store.call_by_id(pending.id).await.unwrap(), Some(pending));
    // Nothing left to sweep.
    assert_eq!(store.mark_in_doubt(at(5), at(7)).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys

async fn an_idempotency_key_goes_from_claimed_to_completed_and_replays(store: SharedStore) {
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let expires = at(60 * 24);
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-a", first, at(0), expires)
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-b", second, at(1), expires)
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash-a".into(),
            call_id: Some(first),
        }
    );

    let response = StoredResponse {
        status: 201,
        body: json!({"success": true, "callId": first, "status": "pending"}),
    };
    store
        .complete_idempotency_key("key-1", &response)
        .await
        .unwrap();
    let replay = IdempotencyClaim::Completed {
        request_hash: "hash-a".into(),
        response: response.clone(),
    };
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-a", second, at(2), expires)
            .await
            .unwrap(),
        replay
    );

    // A completed key is neither released nor completed again.
    store.release_idempotency_key("key-1").await.unwrap();
    let other = StoredResponse {
        status: 500,
        body: json!({}),
    };
    store
        .complete_idempotency_key("key-1", &other)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-a", second, at(3), expires)
            .await
            .unwrap(),
        replay
    );
}

async fn an_expired_idempotency_key_is_taken_over(store: SharedStore) {
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .claim_idempotency_key("key-1", "hash-a", first, at(0), at(10))
        .await
        .unwrap();
    store
        .complete_idempotency_key(
            "key-1",
            &StoredResponse {
                status: 201,
                body: json!({"callId": first}),
            },
        )
        .await
        .unwrap();

    // Live until just before `expires_at`; expired at it.
    assert!(matches!(
        store
            .claim_idempotency_key(
                "key-1",
                "hash-b",
                second,
                at(10) - Duration::microseconds(1),
                at(20)
            )
            .await
            .unwrap(),
        IdempotencyClaim::Completed { .. }
    ));
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-b", second, at(10), at(20))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-c", Uuid::new_v4(), at(11), at(21))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash-b".into(),
            call_id: Some(second),
        }
    );
}

async fn a_released_idempotency_key_can_be_claimed_again(store: SharedStore) {
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .claim_idempotency_key("key-1", "hash-a", first, at(0), at(60))
        .await
        .unwrap();
    store.release_idempotency_key("key-1").await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-b", second, at(1), at(60))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash-c", Uuid::new_v4(), at(2), at(60))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash-b".into(),
            call_id: Some(second),
        }
    );
}

async fn purging_deletes_only_expired_idempotency_keys(store: SharedStore) {
    let owner = Uuid::new_v4();
    for (key, expires) in [("old-1", at(5)), ("old-2", at(10)), ("live", at(11))] {
        store
            .claim_idempotency_key(key, "hash", owner, at(0), expires)
            .await
            .unwrap();
    }
    store
        .complete_idempotency_key(
            "old-1",
            &StoredResponse {
                status: 201,
                body: json!({}),
            },
        )
        .await
        .unwrap();

    assert_eq!(
        store.purge_expired_idempotency_keys(at(10)).await.unwrap(),
        2
    );
    assert_eq!(
        store.purge_expired_idempotency_keys(at(10)).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .claim_idempotency_key("live", "other", Uuid::new_v4(), at(10), at(20))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash".into(),
            call_id: Some(owner),
        }
    );
}

async fn twenty_concurrent_claims_of_one_key_make_one_owner(store: SharedStore) {
    let claims: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let owner = Uuid::new_v4();
                let claim = store
                    .claim_idempotency_key("key-1", &format!("hash-{n}"), owner, at(0), at(60))
                    .await
                    .unwrap();
                (n, owner, claim)
            })
        })
        .collect();
    let mut results = Vec::new();
    for claim in claims {
        results.push(claim.await.unwrap());
    }

    let winners: Vec<_> = results
        .iter()
        .filter(|(_, _, claim)| *claim == IdempotencyClaim::Claimed)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let (winner, owner, _) = winners[0];
    let in_progress = IdempotencyClaim::InProgress {
        request_hash: format!("hash-{winner}"),
        call_id: Some(*owner),
    };
    for (n, _, claim) in &results {
        if n != winner {
            assert_eq!(claim, &in_progress);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Listing

async fn listing_is_newest_first_with_ties_broken_by_id(store: SharedStore) {
    // Three calls share a creation instant: the id decides.
    let calls = [
        new_call("ORD-1", at(0)),
        new_call("ORD-2", at(5)),
        new_call("ORD-3", at(5)),
        new_call("ORD-4", at(5)),
        new_call("ORD-5", at(3)),
    ];
    for call in &calls {
        store.insert_call(call).await.unwrap();
    }
    let all = store.list_calls(&query(100)).await.unwrap();
    assert_eq!(ids(&all), newest_first(&calls.iter().collect::<Vec<_>>()));
    assert_eq!(
        all[0],
        placing_record(calls.iter().find(|c| c.id == all[0].id).unwrap())
    );

    assert_eq!(
        ids(&store.list_calls(&query(2)).await.unwrap()),
        ids(&all[..2])
    );
    assert_eq!(store.list_calls(&query(0)).await.unwrap(), vec![]);
}

async fn every_list_filter_narrows_the_result(store: SharedStore) {
    let early = new_call("ORD-A", at(0));
    let boundary = new_call("ORD-B", at(10));
    let late = new_call("ORD-A", at(20));
    for call in [&early, &boundary, &late] {
        store.insert_call(call).await.unwrap();
    }
    store
        .record_placement(late.id, &created("sess-late"), at(21))
        .await
        .unwrap();

    let list = |query: CallQuery| {
        let store = store.clone();
        async move { ids(&store.list_calls(&query).await.unwrap()) }
    };
    assert_eq!(
        list(CallQuery {
            status: Some(CallStatus::Pending),
            ..query(10)
        })
        .await,
        vec![late.id]
    );
    assert_eq!(
        list(CallQuery {
            status: Some(CallStatus::Placing),
            ..query(10)
        })
        .await,
        vec![boundary.id, early.id]
    );
    assert_eq!(
        list(CallQuery {
            order_id: Some("ORD-A".into()),
            ..query(10)
        })
        .await,
        vec![late.id, early.id]
    );
    // `created_from` is inclusive, `created_to` exclusive.
    assert_eq!(
        list(CallQuery {
            created_from: Some(at(10)),
            ..query(10)
        })
        .await,
        vec![late.id, boundary.id]
    );
    assert_eq!(
        list(CallQuery {
            created_to: Some(at(10)),
            ..query(10)
        })
        .await,
        vec![early.id]
    );
    assert_eq!(
        list(CallQuery {
            created_from: Some(at(10)),
            created_to: Some(at(20)),
            ..query(10)
        })
        .await,
        vec![boundary.id]
    );
    assert_eq!(
        list(CallQuery {
            before: Some(Cursor {
                created_at: late.created_at,
                id: late.id
            }),
            ..query(10)
        })
        .await,
        vec![boundary.id, early.id]
    );
    // Filters combine.
    assert_eq!(
        list(CallQuery {
            status: Some(CallStatus::Placing),
            order_id: Some("ORD-A".into()),
            created_from: Some(at(0)),
            created_to: Some(at(30)),
            ..query(10)
        })
        .await,
        vec![early.id]
    );
    assert_eq!(
        list(CallQuery {
            status: Some(CallStatus::Confirmed),
            ..query(10)
        })
        .await,
        Vec::<Uuid>::new()
    );
}

async fn paging_by_cursor_visits_every_call_exactly_once(store: SharedStore) {
    // 23 calls over 6 instants, so that pages end in the middle of ties.
    let calls: Vec<NewCall> = (0..23)
        .map(|n| new_call(&format!("ORD-{n}"), at(n % 6)))
        .collect();
    for call in &calls {
        store.insert_call(call).await.unwrap();
    }

    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_calls(&CallQuery { before, ..query(5) })
            .await
            .unwrap();
        pages += 1;
        seen.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 5 => {
                before = Some(Cursor {
                    created_at: last.created_at,
                    id: last.id,
                })
            }
            _ => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, newest_first(&calls.iter().collect::<Vec<_>>()));
}

async fn timelines_of_many_calls_come_back_in_one_map(store: SharedStore) {
    let placed = pending_call(&store, "ORD-1", "sess-1").await;
    let fresh = new_call("ORD-2", at(3));
    store.insert_call(&fresh).await.unwrap();
    let nobody = Uuid::new_v4();

    let timelines = store
        .timelines(&[placed.id, fresh.id, nobody])
        .await
        .unwrap();
    assert_eq!(
        timelines,
        HashMap::from([
            (
                placed.id,
                vec![
                    placing_entry(&new_call("ORD-1", at(0))),
                    entry(
                        at(1),
                        Some(CallStatus::Placing),
                        CallStatus::Pending,
                        "placed"
                    ),
                ]
            ),
            (fresh.id, vec![placing_entry(&fresh)]),
            (nobody, vec![]),
        ])
    );
    assert_eq!(store.timelines(&[]).await.unwrap(), HashMap::new());
}

// ---------------------------------------------------------------------------------------------
// Errors, persistence and the schema's own defences

async fn database_errors_never_show_the_phone_number(store: SharedStore) {
    let call = new_call("ORD-1", at(0));
    store.insert_call(&call).await.unwrap();

    let Err(StoreError::Database(message)) = store.insert_call(&call).await else {
        panic!("inserting a call twice must fail");
    };
    assert!(message.starts_with("insert a call: "), "{message}");
    assert!(!message.contains(PHONE), "{message}");
    assert!(!message.contains(&call.id.to_string()), "{message}");

    // A session id 8x8 already gave another call is refused, again without row data.
    let other = new_call("ORD-2", at(1));
    store.insert_call(&other).await.unwrap();
    store
        .record_placement(call.id, &created("sess-1"), at(2))
        .await
        .unwrap();
    let Err(StoreError::Database(message)) = store
        .record_placement(other.id, &created("sess-1"), at(2))
        .await
    else {
        panic!("a second call with the same session must be refused");
    };
    assert!(
        !message.contains(PHONE) && !message.contains("sess-1"),
        "{message}"
    );
    assert_eq!(
        store.call_by_id(other.id).await.unwrap(),
        Some(placing_record(&other))
    );
}

async fn reopening_the_database_keeps_everything(store: SharedStore, url: String) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let change = confirm_change(&call, "ev-1");
    store.apply_change(&change).await.unwrap();
    store
        .claim_idempotency_key("key-1", "hash", call.id, at(0), at(60))
        .await
        .unwrap();
    let before = store.call_by_id(call.id).await.unwrap();
    let timeline = timeline_of(&store, call.id).await;
    drop(store);

    // Connecting again re-runs the (already applied) migrations: a no-op.
    let reopened = store::connect(&url).await.unwrap();
    assert_eq!(reopened.call_by_id(call.id).await.unwrap(), before);
    assert_eq!(timeline_of(&reopened, call.id).await, timeline);
    assert_eq!(
        reopened.apply_change(&change).await.unwrap(),
        ApplyResult::Duplicate {
            reply: Some(confirm_reply())
        }
    );
    assert_eq!(
        reopened
            .claim_idempotency_key("key-1", "hash", Uuid::new_v4(), at(1), at(60))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash".into(),
            call_id: Some(call.id),
        }
    );
    let again = store::connect(&url).await.unwrap();
    assert_eq!(again.call_by_id(call.id).await.unwrap(), before);
}

async fn the_schema_refuses_values_no_code_should_write(store: SharedStore, url: String) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let refused = [
        "UPDATE calls SET status = 'archived'",
        "UPDATE calls SET step = 'menu'",
        "UPDATE calls SET reprompts = 256",
        "UPDATE calls SET customer_phone = '+6591234567'",
        "UPDATE calls SET session_id = NULL",
        "UPDATE calls SET version = 0",
        "UPDATE call_timeline SET to_status = 'archived'",
        "UPDATE call_timeline SET event = 'retry'",
        "UPDATE call_scripts SET script = '[]'",
        "INSERT INTO idempotency_keys (key, request_hash, call_id, status, created_at, expires_at) \
         SELECT 'k', 'h', id, 'done', created_at, created_at FROM calls",
        "INSERT INTO idempotency_keys (key, request_hash, call_id, status, created_at, expires_at) \
         SELECT 'k', 'h', id, 'completed', created_at, created_at FROM calls",
    ];
    for sql in refused {
        let result = execute_raw(&url, sql).await;
        let error = result.expect_err(sql);
        let kind = error.as_database_error().map(|e| e.kind());
        assert_eq!(
            kind,
            Some(sqlx::error::ErrorKind::CheckViolation),
            "{sql}: {error}"
        );
    }
    // A harmless raw write goes through, so the refusals above are the constraints at work.
    assert_eq!(
        execute_raw(&url, "UPDATE calls SET digits = '19'")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .call_by_id(call.id)
            .await
            .unwrap()
            .unwrap()
            .state
            .digits,
        "19"
    );
}

async fn a_row_whose_script_no_longer_parses_is_reported_corrupt(store: SharedStore, url: String) {
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    execute_raw(
        &url,
        "UPDATE call_scripts SET script = '{\"template\": 6591234567}'",
    )
    .await
    .unwrap();

    for result in [
        store.call_by_id(call.id).await,
        store.call_by_session("sess-1").await,
    ] {
        let Err(StoreError::Corrupt(message)) = result else {
            panic!("expected a corrupt row, got {result:?}");
        };
        assert!(message.contains(&call.id.to_string()), "{message}");
        assert!(message.contains("script"), "{message}");
        assert!(!message.contains(PHONE), "{message}");
    }
    assert!(matches!(
        store.list_calls(&query(10)).await,
        Err(StoreError::Corrupt(_))
    ));
}

async fn two_instances_on_one_database_share_deduplication_and_claims(
    store: SharedStore,
    url: String,
) {
    // A second instance of the service: its own pools on the same database.
    let other = store::connect(&url).await.unwrap();
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let change = confirm_change(&call, "ev-1");

    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let instance = if n % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let change = change.clone();
            tokio::spawn(async move {
                let applied = instance.apply_change(&change).await.unwrap();
                let claim = instance
                    .claim_idempotency_key("key-1", "hash", Uuid::new_v4(), at(0), at(60))
                    .await
                    .unwrap();
                (applied, claim)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let applied = results
        .iter()
        .filter(|(applied, _)| matches!(applied, ApplyResult::Applied { .. }))
        .count();
    let claimed = results
        .iter()
        .filter(|(_, claim)| *claim == IdempotencyClaim::Claimed)
        .count();
    assert_eq!((applied, claimed), (1, 1), "{results:?}");
    assert_eq!(timeline_of(&other, call.id).await.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only: connections the server dropped

/// Every pooled connection of the store is terminated by the server (as a restart or a
/// failover does), then the store is used again, by as many requests at once as the pool
/// holds: none may fail, since each connection is checked before it is handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_postgres_server_dropped_cost_no_failed_request() {
    on_postgres(|store, url| async move {
        let call = pending_call(&store, "ORD-1", "sess-1").await;
        let read_concurrently = |store: SharedStore| async move {
            let reads: Vec<_> = (0..10)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.call_by_id(call.id).await })
                })
                .collect();
            let mut results = Vec::new();
            for read in reads {
                results.push(read.await.unwrap().map(|found| found.map(|call| call.id)));
            }
            results
        };
        // The pool opens several connections for concurrent requests.
        read_concurrently(store.clone()).await;

        let terminated = execute_raw(
            &url,
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
        assert!(terminated >= 2, "only {terminated} connections were open");

        let results = read_concurrently(store.clone()).await;
        assert!(
            results
                .iter()
                .all(|read| matches!(read, Ok(Some(id)) if *id == call.id)),
            "{results:?}"
        );
        assert_the_confirmation_applies(&store, &call).await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// SQLite only: connection modes

#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused_with_a_clear_message() {
    let error = match store::connect("sqlite::memory:").await {
        Ok(_) => panic!("an in-memory database was accepted"),
        Err(error) => error,
    };
    assert_eq!(
        error.to_string(),
        "database error: an in-memory SQLite database is not supported: name a file, e.g. \
         sqlite:callconfirm.db"
    );
}

#[tokio::test]
async fn a_sqlite_file_is_created_in_wal_mode() {
    let (store, url) = fresh_sqlite().await;
    let path = url.trim_start_matches("sqlite:").to_owned();
    assert!(std::path::Path::new(&path).exists());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    remove_sqlite(&url);
}

// ---------------------------------------------------------------------------------------------
// The volatile store only: its own defences (the databases' are their schemas) and its bound

/// What a refusal by the volatile store must look like: a database error naming the
/// operation and the constraint (as the schemas name theirs), never the phone number.
/// A way to spoil a well-formed value, and the refusal it must earn.
type Spoiled<T> = (fn(&mut T), &'static str);

fn assert_refused(result: Result<impl std::fmt::Debug, StoreError>, expected: &str) {
    match result {
        Err(StoreError::Database(message)) => {
            assert_eq!(message, expected);
            assert!(!message.contains(PHONE), "{message}");
        }
        other => panic!("expected the refusal {expected:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn the_volatile_store_refuses_what_the_schemas_refuse_and_changes_nothing() {
    let store = store::connect("memory:").await.unwrap();
    let call = pending_call(&store, "ORD-1", "sess-1").await;
    let stored = store.call_by_id(call.id).await.unwrap();
    let timeline = timeline_of(&store, call.id).await;

    let bad_calls: [Spoiled<NewCall>; 6] = [
        (
            |call| call.order_id = String::new(),
            "insert a call: 1 to 255 characters (constraint calls.order_id)",
        ),
        (
            |call| call.order_id = "é".repeat(256),
            "insert a call: 1 to 255 characters (constraint calls.order_id)",
        ),
        (
            |call| call.customer_phone = format!("+{PHONE}"),
            "insert a call: 7 to 15 digits (constraint calls.customer_phone)",
        ),
        (
            |call| call.customer_phone = "123456".into(),
            "insert a call: 7 to 15 digits (constraint calls.customer_phone)",
        ),
        (
            |call| call.customer_phone = "1".repeat(16),
            "insert a call: 7 to 15 digits (constraint calls.customer_phone)",
        ),
        (
            |call| call.client_action_id = "x".repeat(513),
            "insert a call: 1 to 512 characters (constraint calls.client_action_id)",
        ),
    ];
    for (spoil, expected) in bad_calls {
        let mut bad = new_call("ORD-2", at(5));
        spoil(&mut bad);
        assert_refused(store.insert_call(&bad).await, expected);
        assert_eq!(store.call_by_id(bad.id).await.unwrap(), None);
    }
    let duplicate = new_call("ORD-3", at(5));
    store.insert_call(&duplicate).await.unwrap();
    assert_refused(
        store.insert_call(&duplicate).await,
        "insert a call: a call with this id exists (constraint calls.id)",
    );

    let long_session = Placement::Created {
        session_id: "s".repeat(256),
        call_flow_request_id: None,
    };
    assert_refused(
        store
            .record_placement(duplicate.id, &long_session, at(6))
            .await,
        "record a placement: 1 to 255 characters (constraint calls.session_id)",
    );
    assert_eq!(
        store.call_by_id(duplicate.id).await.unwrap(),
        Some(placing_record(&duplicate))
    );

    let bad_changes: [Spoiled<StateChange>; 5] = [
        (
            |change| change.webhook.key = "k".repeat(301),
            "apply a state change: 1 to 300 characters (constraint webhook_events.key)",
        ),
        (
            |change| change.webhook.session_id = String::new(),
            "apply a state change: 1 to 255 characters (constraint webhook_events.session_id)",
        ),
        (
            |change| change.state.digits = "1".repeat(1025),
            "apply a state change: at most 1024 characters (constraint calls.digits)",
        ),
        (
            |change| change.timeline.as_mut().unwrap().event = "retry".into(),
            "apply a state change: a known event (constraint call_timeline_event)",
        ),
        (
            |change| change.timeline.as_mut().unwrap().effect = Some("e".repeat(65)),
            "apply a state change: 1 to 64 characters (constraint call_timeline.effect)",
        ),
    ];
    for (spoil, expected) in bad_changes {
        let mut change = confirm_change(&call, "ev-1");
        spoil(&mut change);
        assert_refused(store.apply_change(&change).await, expected);
    }
    assert_eq!(store.call_by_id(call.id).await.unwrap(), stored);
    assert_eq!(timeline_of(&store, call.id).await, timeline);
    // Nothing of the refused changes was remembered: the well-formed one still applies.
    assert_the_confirmation_applies(&store, &call).await;

    assert_refused(
        store
            .claim_idempotency_key(&"k".repeat(256), "hash", call.id, at(0), at(60))
            .await,
        "claim an idempotency key: 1 to 255 characters (constraint idempotency_keys.key)",
    );
    store
        .claim_idempotency_key("key-1", "hash", call.id, at(0), at(60))
        .await
        .unwrap();
    let not_http = StoredResponse {
        status: 99,
        body: json!({}),
    };
    assert_refused(
        store.complete_idempotency_key("key-1", &not_http).await,
        "complete an idempotency key: an HTTP status (constraint idempotency_keys.response_status)",
    );
    assert_eq!(
        store
            .claim_idempotency_key("key-1", "hash", call.id, at(1), at(60))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress {
            request_hash: "hash".into(),
            call_id: Some(call.id),
        }
    );
}

#[tokio::test]
async fn the_volatile_store_forgets_its_oldest_finished_calls_past_its_bound() {
    let store = store::connect("memory:?max_calls=2").await.unwrap();
    // Three calls being placed: none may be forgotten, so the bound is exceeded.
    let calls: Vec<NewCall> = (0..3)
        .map(|n| new_call(&format!("ORD-{n}"), at(n)))
        .collect();
    for call in &calls {
        store.insert_call(call).await.unwrap();
    }
    assert_eq!(store.list_calls(&query(10)).await.unwrap().len(), 3);

    // The oldest is placed (live: kept), the second refused by 8x8 (finished: forgotten).
    let live = store
        .record_placement(calls[0].id, &created("sess-0"), at(3))
        .await
        .unwrap();
    let refused = Placement::NotPlaced {
        reason: "8x8 said no".into(),
    };
    store
        .record_placement(calls[1].id, &refused, at(3))
        .await
        .unwrap();
    assert_eq!(
        ids(&store.list_calls(&query(10)).await.unwrap()),
        vec![calls[2].id, calls[0].id]
    );
    assert_eq!(store.call_by_id(calls[1].id).await.unwrap(), None);
    assert_eq!(
        store.timelines(&[calls[1].id]).await.unwrap(),
        HashMap::from([(calls[1].id, vec![])])
    );

    // A fourth call: three remain, since the other two are still live or being placed...
    let fourth = new_call("ORD-3", at(4));
    store.insert_call(&fourth).await.unwrap();
    assert_eq!(store.list_calls(&query(10)).await.unwrap().len(), 3);
    // ... until the live one is confirmed: the oldest finished call goes, with its session.
    store
        .apply_change(&confirm_change(&live, "ev-1"))
        .await
        .unwrap();
    assert_eq!(
        ids(&store.list_calls(&query(10)).await.unwrap()),
        vec![fourth.id, calls[2].id]
    );
    assert_eq!(store.call_by_session("sess-0").await.unwrap(), None);
}

#[tokio::test]
async fn a_volatile_store_url_names_its_bound_or_is_refused_with_a_clear_message() {
    assert!(store::connect("memory:").await.is_ok());
    assert!(store::connect("memory:?max_calls=1").await.is_ok());
    for url in [
        "memory:?max_calls=0",
        "memory:?max_calls=",
        "memory:calls.db",
    ] {
        let error = match store::connect(url).await {
            Ok(_) => panic!("{url} was accepted"),
            Err(error) => error,
        };
        assert_eq!(
            error.to_string(),
            "database error: DATABASE_URL: a volatile store is `memory:` or \
             `memory:?max_calls=N` with N at least 1 (the default keeps 10000 calls)",
            "{url}"
        );
    }
    let error = match store::connect("mysql://localhost/calls").await {
        Ok(_) => panic!("a MySQL URL was accepted"),
        Err(error) => error,
    };
    assert_eq!(
        error.to_string(),
        "database error: DATABASE_URL must start with sqlite:, postgres:// or memory:"
    );
}
