//! The service's use cases: placing a call, answering 8x8's webhooks, recovering after a crash.
//!
//! Handlers in `routes` translate HTTP to these calls; these translate to the pure IVR, the
//! store and the 8x8 client. Every state change is committed before the answer is sent.

use crate::domain::PhoneNumber;
use crate::ivr::Catalog;
use crate::sessions::LiveSession;
use crate::sessions::Sessions;
use crate::store::SharedStore;
use crate::store::StoreError;
use crate::voice::client::VoiceClient;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

pub mod place;
pub mod recovery;
pub mod webhooks;

/// Numbers used when a make-call request gives none.
#[derive(Debug, Clone, Default)]
pub struct CallDefaults {
    pub staff_phone: Option<PhoneNumber>,
    pub callback_phone: Option<PhoneNumber>,
}

/// Everything the use cases need, built once at startup and shared by every request.
pub struct CallService {
    pub voice: VoiceClient,
    pub store: SharedStore,
    pub sessions: Sessions,
    pub catalog: Catalog,
    /// The 8x8 virtual number calls come from.
    pub outbound: PhoneNumber,
    pub defaults: CallDefaults,
    placements: Arc<PlacementsInFlight>,
}

/// How long a webhook for an unknown session waits for a placement that may be creating it.
///
/// 8x8 can call back before our own record of its answer is committed (a call that fails at
/// once, a fast simulator, another instance still writing); the session is then looked up
/// again for this long before it is treated as one we never placed.
pub const UNKNOWN_SESSION_GRACE: Duration = Duration::from_secs(2);

/// Placements between "8x8 was asked" and "its answer is stored", so that a webhook that
/// arrives in between can wait for them instead of polling blindly.
#[derive(Default)]
struct PlacementsInFlight {
    count: AtomicUsize,
    recorded: Notify,
}

/// Marks one placement in flight until dropped (also on error or cancellation).
pub(crate) struct PlacementGuard(Arc<PlacementsInFlight>);

impl Drop for PlacementGuard {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.recorded.notify_waiters();
    }
}

impl CallService {
    pub fn new(
        voice: VoiceClient,
        store: SharedStore,
        catalog: Catalog,
        outbound: PhoneNumber,
        defaults: CallDefaults,
    ) -> Self {
        CallService {
            voice,
            sessions: Sessions::new(store.clone()),
            store,
            catalog,
            outbound,
            defaults,
            placements: Arc::default(),
        }
    }

    pub(crate) fn placement_started(&self) -> PlacementGuard {
        self.placements.count.fetch_add(1, Ordering::SeqCst);
        PlacementGuard(Arc::clone(&self.placements))
    }

    /// The live session, waiting up to [`UNKNOWN_SESSION_GRACE`] for a placement still being
    /// recorded; `None` for a session we never placed.
    pub async fn find_session(&self, session_id: &str) -> Result<Option<LiveSession>, StoreError> {
        if let Some(live) = self.sessions.load(session_id).await? {
            return Ok(Some(live));
        }
        let give_up_at = tokio::time::Instant::now() + UNKNOWN_SESSION_GRACE;
        let mut pause = Duration::from_millis(10);
        while tokio::time::Instant::now() < give_up_at {
            let recorded = self.placements.recorded.notified();
            if self.placements.count.load(Ordering::SeqCst) > 0 {
                // Woken as soon as a placement of this process is recorded.
                let _ = tokio::time::timeout(pause, recorded).await;
            } else {
                // Another instance may be recording it.
                tokio::time::sleep(pause).await;
            }
            if let Some(live) = self.sessions.reload(session_id).await? {
                return Ok(Some(live));
            }
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        Ok(None)
    }

    /// The longest a Send Callflow can take: after this, a call still `placing` belongs to a
    /// process that died.
    pub fn placing_budget(&self) -> Duration {
        let settings = self.voice.settings();
        settings.connect_timeout + settings.request_timeout + Duration::from_secs(5)
    }
}
