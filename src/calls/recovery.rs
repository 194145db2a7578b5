//! Recovering after a crash: calls left `placing` by a dead process become `unknown` (never
//! dialled again automatically), and expired idempotency keys are purged.

use crate::store::SharedStore;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the sweep runs while the service is up.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Which `placing` calls a sweep may declare in doubt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepScope {
    /// Every one: at the start of a process that is the only user of its database (SQLite).
    All,
    /// Only those past their deadline: other live instances may be placing the rest.
    PastDeadline,
}

/// Marks calls whose placement can no longer finish as `unknown`; returns how many.
pub async fn sweep_in_doubt(store: &SharedStore, scope: SweepScope, now: DateTime<Utc>) -> u64 {
    let deadline_before = match scope {
        SweepScope::All => DateTime::<Utc>::MAX_UTC,
        SweepScope::PastDeadline => now,
    };
    match store.mark_in_doubt(deadline_before, now).await {
        Ok(0) => 0,
        Ok(count) => {
            tracing::warn!(
                count,
                "calls left placing by a stopped process are now unknown; they will not be dialled again"
            );
            count
        }
        Err(error) => {
            tracing::error!(error = %error, "could not sweep calls left placing");
            0
        }
    }
}

/// Runs the periodic sweep and key purge until `shutdown`.
pub async fn run_maintenance(store: SharedStore, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(SWEEP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = Utc::now();
        sweep_in_doubt(&store, SweepScope::PastDeadline, now).await;
        match store.purge_expired_idempotency_keys(now).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired idempotency keys purged"),
            Err(error) => tracing::error!(error = %error, "could not purge idempotency keys"),
        }
    }
}
