//! Concurrent state changes, which the SQLite store commits together in one transaction
//! (group commit): each still succeeds or fails on its own, exactly as if applied one by one.
//! Run on both backends, since the promise is the store's, not SQLite's.

use crate::databases::{on_postgres, on_sqlite};
use callconfirm::domain::{CallStatus, MenuStep};
use callconfirm::ivr::{CallScript, IvrState, MenuOptions, ScriptTexts};
use callconfirm::store::{
    ApplyResult, NewCall, Placement, SharedStore, StateChange, StoreError, TimelineEntry,
    WebhookKind, WebhookRecord,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::future::join_all;
use pretty_assertions::assert_eq;
use serde_json::json;
use uuid::Uuid;

// A current-thread runtime: every change below is queued before the writer task runs, so on
// SQLite they all land in one batch.
#[tokio::test]
async fn on_sqlite_a_refused_change_among_concurrent_ones_fails_alone() {
    on_sqlite(|store, _url| a_refused_change_among_concurrent_ones_fails_alone(store)).await;
}

#[tokio::test]
async fn on_postgres_a_refused_change_among_concurrent_ones_fails_alone() {
    on_postgres(|store, _url| a_refused_change_among_concurrent_ones_fails_alone(store)).await;
}

#[tokio::test]
async fn on_sqlite_concurrent_changes_of_different_kinds_each_get_their_own_answer() {
    on_sqlite(|store, _url| concurrent_changes_of_different_kinds_each_get_their_own_answer(store))
        .await;
}

#[tokio::test]
async fn on_postgres_concurrent_changes_of_different_kinds_each_get_their_own_answer() {
    on_postgres(|store, _url| {
        concurrent_changes_of_different_kinds_each_get_their_own_answer(store)
    })
    .await;
}

async fn a_refused_change_among_concurrent_ones_fails_alone(store: SharedStore) {
    let mut calls = Vec::new();
    for n in 0..10 {
        calls.push(pending_call(&store, n).await);
    }
    let mut changes: Vec<StateChange> = calls
        .iter()
        .map(|(id, session)| confirm(*id, session, 2, &format!("ev-{session}")))
        .collect();
    // The schema refuses more than 1024 digits: this one change cannot be written.
    changes[4].state.digits = "1".repeat(1025);

    let results = join_all(changes.iter().map(|change| store.apply_change(change))).await;

    for (n, result) in results.iter().enumerate() {
        if n == 4 {
            assert!(
                matches!(result, Err(StoreError::Database(_))),
                "change {n}: {result:?}"
            );
        } else {
            assert_eq!(
                result.as_ref().ok(),
                Some(&ApplyResult::Applied { version: 3 }),
                "change {n}"
            );
        }
    }
    let (refused_id, refused_session) = &calls[4];
    let refused = store.call_by_id(*refused_id).await.unwrap().unwrap();
    assert_eq!(
        (refused.version, refused.state.status),
        (2, CallStatus::Pending)
    );
    // Not even its webhook row was kept: the same event, now valid, is new.
    let retried = confirm(
        *refused_id,
        refused_session,
        2,
        &format!("ev-{refused_session}"),
    );
    assert_eq!(
        store.apply_change(&retried).await.unwrap(),
        ApplyResult::Applied { version: 3 }
    );
    for (id, _) in &calls {
        let call = store.call_by_id(*id).await.unwrap().unwrap();
        assert_eq!(
            (call.version, call.state.status),
            (3, CallStatus::Confirmed)
        );
    }
}

async fn concurrent_changes_of_different_kinds_each_get_their_own_answer(store: SharedStore) {
    let (first, first_session) = pending_call(&store, 0).await;
    let (second, second_session) = pending_call(&store, 1).await;
    let applied_before = confirm(first, &first_session, 2, "ev-a");
    store.apply_change(&applied_before).await.unwrap();

    let changes = [
        // Applies.
        confirm(second, &second_session, 2, "ev-b"),
        // The same event again: a duplicate, answered with the stored reply.
        applied_before.clone(),
        // A new event read at an old version: a conflict.
        confirm(first, &first_session, 2, "ev-c"),
        // A call that does not exist.
        confirm(Uuid::new_v4(), &first_session, 2, "ev-d"),
    ];
    let mut results = join_all(changes.iter().map(|change| store.apply_change(change))).await;

    let missing = results.pop().unwrap();
    assert!(
        matches!(missing, Err(StoreError::MissingCall(id)) if id == changes[3].call_id),
        "{missing:?}"
    );
    let results: Vec<ApplyResult> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        results,
        vec![
            ApplyResult::Applied { version: 3 },
            ApplyResult::Duplicate {
                reply: applied_before.webhook.reply.clone()
            },
            ApplyResult::Conflict,
        ]
    );
    assert_eq!(store.call_by_id(first).await.unwrap().unwrap().version, 3);
}

// ---------------------------------------------------------------------------------------------
// Test data

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap() + Duration::minutes(minutes)
}

fn script() -> CallScript {
    let text = |s: &str| s.to_owned();
    CallScript {
        template: "default".into(),
        language: "en".into(),
        voice_profile: "en-US-BenjaminRUS".into(),
        speed: 1.0,
        client_action_base: "ORD_20261126_1430_Bright".into(),
        source: "6568332048".into(),
        staff_phone: None,
        menu: MenuOptions::default(),
        max_reprompts: 1,
        max_repeats: 2,
        texts: ScriptTexts {
            prompt: text("Press 1 to confirm, 0 to cancel."),
            repeat_prefix: text("Again:"),
            reprompt_prefix: text("Sorry."),
            confirm_cancel: text("Press 0 again to cancel."),
            confirmed: text("Confirmed."),
            kept: text("Kept."),
            cancelled: text("Cancelled."),
            transferring: text("Transferring."),
            goodbye: text("Goodbye."),
            failure_message: text("Invalid."),
        },
    }
}

/// A call placed with 8x8 (pending, version 2): its id and session id.
async fn pending_call(store: &SharedStore, n: usize) -> (Uuid, String) {
    let call = NewCall {
        id: Uuid::new_v4(),
        order_id: format!("ORD-{n}"),
        customer_phone: "6591234567".into(),
        client_action_id: "ORD_20261126_1430_Bright".into(),
        request: json!({"orderId": format!("ORD-{n}")}),
        script: script(),
        created_at: at(0),
        placing_deadline: at(1),
    };
    store.insert_call(&call).await.unwrap();
    let session = format!("sess-{n}-{}", Uuid::new_v4().simple());
    let placed = Placement::Created {
        session_id: session.clone(),
        call_flow_request_id: None,
    };
    let record = store
        .record_placement(call.id, &placed, at(1))
        .await
        .unwrap();
    assert_eq!(record.version, 2);
    (call.id, session)
}

/// Key 1 pressed on the call read at `version`: confirmed.
fn confirm(call_id: Uuid, session_id: &str, version: i64, event_id: &str) -> StateChange {
    StateChange {
        call_id,
        expected_version: version,
        webhook: WebhookRecord {
            key: format!("vca:{event_id}"),
            kind: WebhookKind::Vca,
            session_id: session_id.to_owned(),
            received_at: at(2),
            event: json!({"eventId": event_id, "dtmf": "1"}),
            reply: Some(json!({"callflow": [{"action": "hangup"}]})),
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
