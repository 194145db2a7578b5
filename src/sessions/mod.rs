//! Live call sessions: a DashMap cache keyed by 8x8's sessionId in front of the store.
//!
//! The VCA hot path reads the cache; on a miss (after a restart, or on another instance) the
//! call is loaded from the store. Only calls still live on 8x8's side are cached, and a
//! session leaves the cache as soon as its script ends or its summary arrives, so memory is
//! bounded by the calls in progress, not by the calls ever made.

use crate::ivr::{CallScript, IvrState};
use crate::store::{CallRecord, SharedStore, StoreError};
use dashmap::DashMap;
use std::sync::Arc;
use uuid::Uuid;

/// What the IVR needs to answer a webhook without touching the database.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSession {
    pub call_id: Uuid,
    /// The stored version this state was read at (the optimistic lock).
    pub version: i64,
    pub order_id: Arc<str>,
    pub state: IvrState,
    pub script: Arc<CallScript>,
}

impl LiveSession {
    pub fn from_record(record: CallRecord) -> Self {
        LiveSession {
            call_id: record.id,
            version: record.version,
            order_id: record.order_id.into(),
            state: record.state,
            script: record.script,
        }
    }

    /// Still worth keeping in memory: 8x8 may send more webhooks and the script expects keys.
    pub fn is_live(&self) -> bool {
        self.state.status.is_live() && !self.state.summary_received
    }
}

/// The cache of live sessions plus the store it falls back to.
#[derive(Clone)]
pub struct Sessions {
    cache: Arc<DashMap<Box<str>, LiveSession>>,
    store: SharedStore,
}

impl Sessions {
    pub fn new(store: SharedStore) -> Self {
        Sessions {
            cache: Arc::new(DashMap::new()),
            store,
        }
    }

    /// The session, from the cache or else the store; `None` if we never placed it.
    pub async fn load(&self, session_id: &str) -> Result<Option<LiveSession>, StoreError> {
        // The guard is dropped at the end of this statement, before any await.
        if let Some(live) = self.cache.get(session_id).map(|entry| entry.clone()) {
            return Ok(Some(live));
        }
        self.reload(session_id).await
    }

    /// Reads the session from the store, refreshing (or dropping) the cached copy.
    pub async fn reload(&self, session_id: &str) -> Result<Option<LiveSession>, StoreError> {
        let Some(record) = self.store.call_by_session(session_id).await? else {
            return Ok(None);
        };
        let live = LiveSession::from_record(record);
        self.remember(session_id, &live);
        Ok(Some(live))
    }

    /// Caches the session if it is live, evicts it otherwise.
    ///
    /// Two webhooks of one session handled concurrently may finish out of order; a copy older
    /// than the cached one is ignored. (A stale copy would only cost a version conflict and a
    /// reload, never a wrong answer.)
    pub fn remember(&self, session_id: &str, live: &LiveSession) {
        if !live.is_live() {
            self.cache
                .remove_if(session_id, |_, cached| cached.version <= live.version);
            return;
        }
        match self.cache.entry(session_id.into()) {
            dashmap::Entry::Occupied(mut cached) => {
                if cached.get().version <= live.version {
                    cached.insert(live.clone());
                }
            }
            dashmap::Entry::Vacant(slot) => {
                slot.insert(live.clone());
            }
        }
    }

    pub fn cached_count(&self) -> usize {
        self.cache.len()
    }
}
