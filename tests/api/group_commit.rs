//! Concurrent state changes, which the SQLite store commits together in one transaction
//! (group commit): each still succeeds or fails on its own, exactly as if applied one by one.
//! Run on both backends, since the promise is the store's, not SQLite's.

use crate::databases::{on_postgres, on_sqlite};
use crate::store::confirm_change;
use callconfirm::domain::CallStatus;
use callconfirm::store::{ApplyResult, CallRecord, SharedStore, StateChange, StoreError};
use futures::future::join_all;
use pretty_assertions::assert_eq;
use uuid::Uuid;

// Every change below is queued at once; on SQLite the writer thread takes whatever is queued
// into one transaction, so they share batches.
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
        .map(|call| confirm_change(call, &event_of(call)))
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
    let refused = store.call_by_id(calls[4].id).await.unwrap().unwrap();
    assert_eq!(
        (refused.version, refused.state.status),
        (2, CallStatus::Pending)
    );
    // Not even its webhook row was kept: the same event, now valid, is new.
    let retried = confirm_change(&calls[4], &event_of(&calls[4]));
    assert_eq!(
        store.apply_change(&retried).await.unwrap(),
        ApplyResult::Applied { version: 3 }
    );
    for placed in &calls {
        let call = store.call_by_id(placed.id).await.unwrap().unwrap();
        assert_eq!(
            (call.version, call.state.status),
            (3, CallStatus::Confirmed)
        );
    }
}

async fn concurrent_changes_of_different_kinds_each_get_their_own_answer(store: SharedStore) {
    let first = pending_call(&store, 0).await;
    let second = pending_call(&store, 1).await;
    let applied_before = confirm_change(&first, "ev-a");
    store.apply_change(&applied_before).await.unwrap();

    let changes = [
        // Applies.
        confirm_change(&second, "ev-b"),
        // The same event again: a duplicate, answered with the stored reply.
        applied_before.clone(),
        // A new event read at an old version (2, as placed): a conflict.
        confirm_change(&first, "ev-c"),
        // A call that does not exist.
        StateChange {
            call_id: Uuid::new_v4(),
            ..confirm_change(&first, "ev-d")
        },
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
    assert_eq!(
        store.call_by_id(first.id).await.unwrap().unwrap().version,
        3
    );
}

// ---------------------------------------------------------------------------------------------
// Test data (the store suite's, `tests/api/store.rs`)

/// A call placed with 8x8: pending, version 2.
async fn pending_call(store: &SharedStore, n: usize) -> CallRecord {
    let session = format!("sess-{n}-{}", Uuid::new_v4().simple());
    let record = crate::store::pending_call(store, &format!("ORD-{n}"), &session).await;
    assert_eq!(record.version, 2);
    record
}

/// The event id of the call's confirming VCA.
fn event_of(call: &CallRecord) -> String {
    format!("ev-{}", call.session_id.as_deref().unwrap_or_default())
}
