//! The service's use cases: placing a call, answering 8x8's webhooks, recovering after a crash.
//!
//! Handlers in `routes` translate HTTP to these calls; these translate to the pure IVR, the
//! store and the 8x8 client. Every state change is committed before the answer is sent.

use crate::domain::PhoneNumber;
use crate::ivr::Catalog;
use crate::sessions::Sessions;
use crate::store::SharedStore;
use crate::voice::client::VoiceClient;
use std::time::Duration;

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
        }
    }

    /// The longest a Send Callflow can take: after this, a call still `placing` belongs to a
    /// process that died.
    pub fn placing_budget(&self) -> Duration {
        let settings = self.voice.settings();
        settings.connect_timeout + settings.request_timeout + Duration::from_secs(5)
    }
}
