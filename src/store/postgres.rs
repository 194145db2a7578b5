//! PostgreSQL implementation of the store. PLACEHOLDER: to be written.

use super::*;

/// The PostgreSQL store.
pub struct PgStore;

impl PgStore {
    pub async fn connect(_database_url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Database(
            "PostgreSQL store not implemented yet".into(),
        ))
    }
}

fn unimplemented<T>() -> Result<T, StoreError> {
    Err(StoreError::Database("not implemented yet".into()))
}

#[async_trait]
impl Store for PgStore {
    async fn insert_call(&self, _: &NewCall) -> Result<(), StoreError> {
        unimplemented()
    }
    async fn record_placement(
        &self,
        _: Uuid,
        _: &Placement,
        _: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        unimplemented()
    }
    async fn call_by_id(&self, _: Uuid) -> Result<Option<CallRecord>, StoreError> {
        unimplemented()
    }
    async fn call_by_session(&self, _: &str) -> Result<Option<CallRecord>, StoreError> {
        unimplemented()
    }
    async fn list_calls(&self, _: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        unimplemented()
    }
    async fn timelines(&self, _: &[Uuid]) -> Result<HashMap<Uuid, Vec<TimelineEntry>>, StoreError> {
        unimplemented()
    }
    async fn apply_change(&self, _: &StateChange) -> Result<ApplyResult, StoreError> {
        unimplemented()
    }
    async fn mark_in_doubt(&self, _: DateTime<Utc>, _: DateTime<Utc>) -> Result<u64, StoreError> {
        unimplemented()
    }
    async fn claim_idempotency_key(
        &self,
        _: &str,
        _: &str,
        _: Uuid,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        unimplemented()
    }
    async fn complete_idempotency_key(
        &self,
        _: &str,
        _: &StoredResponse,
    ) -> Result<(), StoreError> {
        unimplemented()
    }
    async fn release_idempotency_key(&self, _: &str) -> Result<(), StoreError> {
        unimplemented()
    }
    async fn purge_expired_idempotency_keys(&self, _: DateTime<Utc>) -> Result<u64, StoreError> {
        unimplemented()
    }
}
