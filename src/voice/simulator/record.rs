//! The simulator's memory, for the inspection API: one record per session with its ordered events, and request counters.
//!
//! Every event is also logged once at info, with the session id and masked numbers only.

use crate::domain::mask_digits;
use crate::voice::simulator::payloads::timestamp_millis;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What an app answered to one webhook POST.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The app answered: its HTTP status and body (JSON when it was JSON, else the text).
    Answered { http_status: u16, reply: Value },
    /// Nothing usable came back: no webhook registered, connection refused, timeout...
    Failed { error: String },
}

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CallflowRequest {
        body: Value,
    },
    Dialled {
        leg: &'static str,
        destination: String,
    },
    Answered {
        leg: &'static str,
    },
    /// The leg was not answered: `no_answer`, `busy`, `failed`, `no_coverage`, `expired`.
    NotAnswered {
        leg: &'static str,
        outcome: &'static str,
    },
    Heard {
        text: String,
    },
    HeardFile {
        file_url: String,
    },
    Pressed {
        keys: String,
    },
    NoInput,
    CustomerHungUp {
        during: String,
    },
    Webhook {
        kind: &'static str,
        delivery: u32,
        body: Value,
        result: Delivery,
    },
    ReplyRejected {
        reason: String,
    },
    Bridged {
        destination: String,
    },
    Hangup {
        by: &'static str,
    },
    Ended {
        session_status: String,
    },
    Interrupted,
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::CallflowRequest { .. } => "callflow_request",
            Event::Dialled { .. } => "dialled",
            Event::Answered { .. } => "answered",
            Event::NotAnswered { outcome, .. } => outcome,
            Event::Heard { .. } | Event::HeardFile { .. } => "heard",
            Event::Pressed { .. } => "pressed",
            Event::NoInput => "no_input",
            Event::CustomerHungUp { .. } => "customer_hung_up",
            Event::Webhook { .. } => "webhook",
            Event::ReplyRejected { .. } => "reply_rejected",
            Event::Bridged { .. } => "bridged",
            Event::Hangup { .. } => "hangup",
            Event::Ended { .. } => "ended",
            Event::Interrupted => "interrupted",
        }
    }

    /// The event as the inspection API shows it. Numbers are masked; webhook and request
    /// bodies are kept as they went over the wire.
    fn to_json(&self, at: DateTime<Utc>) -> Value {
        let mut value = match self {
            Event::CallflowRequest { body } => json!({ "body": body }),
            Event::Dialled { leg, destination } => {
                json!({ "leg": leg, "destination": mask_digits(destination) })
            }
            Event::Answered { leg } | Event::NotAnswered { leg, .. } => json!({ "leg": leg }),
            Event::Heard { text } => json!({ "text": text }),
            Event::HeardFile { file_url } => json!({ "fileUrl": file_url }),
            Event::Pressed { keys } => json!({ "keys": keys }),
            Event::NoInput | Event::Interrupted => json!({}),
            Event::CustomerHungUp { during } => json!({ "during": during }),
            Event::Webhook {
                kind,
                delivery,
                body,
                result,
            } => {
                let mut webhook = json!({ "type": kind, "delivery": delivery, "body": body });
                match result {
                    Delivery::Answered { http_status, reply } => {
                        webhook["httpStatus"] = json!(http_status);
                        webhook["reply"] = reply.clone();
                    }
                    Delivery::Failed { error } => webhook["error"] = json!(error),
                }
                webhook
            }
            Event::ReplyRejected { reason } => json!({ "reason": reason }),
            Event::Bridged { destination } => json!({ "destination": mask_digits(destination) }),
            Event::Hangup { by } => json!({ "by": by }),
            Event::Ended { session_status } => json!({ "sessionStatus": session_status }),
        };
        value["event"] = json!(self.name());
        value["at"] = json!(timestamp_millis(at));
        value
    }

    /// One log line's text: no body, no spoken text (it may hold names), masked numbers.
    fn describe(&self) -> String {
        match self {
            Event::CallflowRequest { .. } => "Send Callflow accepted".to_owned(),
            Event::Dialled { leg, destination } => {
                format!("{leg} dialled {}", mask_digits(destination))
            }
            Event::Answered { leg } => format!("{leg} answered"),
            Event::NotAnswered { leg, outcome } => format!("{leg} not answered: {outcome}"),
            Event::Heard { text } => {
                format!(
                    "customer heard a prompt ({} characters)",
                    text.chars().count()
                )
            }
            Event::HeardFile { .. } => "customer heard a played file".to_owned(),
            Event::Pressed { keys } => format!("customer pressed {keys}"),
            Event::NoInput => "customer pressed nothing".to_owned(),
            Event::CustomerHungUp { .. } => "customer hung up during a prompt".to_owned(),
            Event::Webhook {
                kind,
                delivery,
                result,
                ..
            } => match result {
                Delivery::Answered { http_status, .. } => {
                    format!("{kind} webhook delivery {delivery}: app answered HTTP {http_status}")
                }
                Delivery::Failed { error } => {
                    format!("{kind} webhook delivery {delivery} failed: {error}")
                }
            },
            Event::ReplyRejected { reason } => format!("the app's VCA reply was refused: {reason}"),
            Event::Bridged { destination } => {
                format!("callB bridged to {}", mask_digits(destination))
            }
            Event::Hangup { by } => format!("call hung up by the {by}"),
            Event::Ended { session_status } => format!("session ended {session_status}"),
            Event::Interrupted => "session stopped: the simulator is shutting down".to_owned(),
        }
    }
}

/// Everything the inspection API knows about one session.
#[derive(Debug, Clone)]
struct SessionRecord {
    seq: u64,
    session_id: String,
    call_flow_request_id: String,
    destination: String,
    behaviour: String,
    created_at: DateTime<Utc>,
    ended: bool,
    session_status: Option<String>,
    vss: Option<Value>,
    events: Vec<Value>,
}

impl SessionRecord {
    fn summary(&self) -> Value {
        json!({
            "sessionId": self.session_id,
            "callFlowRequestId": self.call_flow_request_id,
            "destination": mask_digits(&self.destination),
            "behaviour": self.behaviour,
            "createdAt": timestamp_millis(self.created_at),
            "state": if self.ended { "ended" } else { "active" },
            "sessionStatus": self.session_status,
        })
    }

    fn detail(&self) -> Value {
        let mut detail = self.summary();
        detail["vss"] = self.vss.clone().unwrap_or(Value::Null);
        detail["events"] = Value::Array(self.events.clone());
        detail
    }
}

/// The records of every session (bounded), and a wake-up for whoever waits for one to end.
#[derive(Debug)]
pub struct Records {
    sessions: Mutex<RecordsInner>,
    ended: Notify,
    capacity: usize,
}

#[derive(Debug, Default)]
struct RecordsInner {
    next_seq: u64,
    by_id: HashMap<String, SessionRecord>,
}

/// The identity of a new session, as recorded.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub session_id: &'a str,
    pub call_flow_request_id: &'a str,
    pub destination: &'a str,
    pub behaviour: String,
}

impl Records {
    pub fn new(capacity: usize) -> Self {
        Records {
            sessions: Mutex::new(RecordsInner::default()),
            ended: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecordsInner> {
        // A panic while holding this lock leaves only a half-written event behind; the
        // records stay usable.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn open(&self, session: NewSession<'_>) {
        let mut inner = self.lock();
        if inner.by_id.len() >= self.capacity {
            let oldest_ended = inner
                .by_id
                .values()
                .filter(|record| record.ended)
                .min_by_key(|record| record.seq)
                .map(|record| record.session_id.clone());
            if let Some(id) = oldest_ended {
                inner.by_id.remove(&id);
            }
        }
        inner.next_seq += 1;
        let record = SessionRecord {
            seq: inner.next_seq,
            session_id: session.session_id.to_owned(),
            call_flow_request_id: session.call_flow_request_id.to_owned(),
            destination: session.destination.to_owned(),
            behaviour: session.behaviour,
            created_at: Utc::now(),
            ended: false,
            session_status: None,
            vss: None,
            events: Vec::new(),
        };
        inner.by_id.insert(record.session_id.clone(), record);
    }

    /// Appends an event to a session's record and logs it.
    pub fn push(&self, session_id: &str, event: Event) {
        tracing::info!(
            session_id,
            event = event.name(),
            "simulator: {}",
            event.describe()
        );
        let value = event.to_json(Utc::now());
        if let Some(record) = self.lock().by_id.get_mut(session_id) {
            record.events.push(value);
        }
    }

    /// Marks a session ended with its final status and VSS, and wakes every waiter.
    pub fn finish(&self, session_id: &str, session_status: Option<&str>, vss: Option<Value>) {
        if let Some(record) = self.lock().by_id.get_mut(session_id) {
            record.ended = true;
            record.session_status = session_status.map(str::to_owned);
            record.vss = vss;
        }
        self.ended.notify_waiters();
    }

    /// Summaries of every recorded session, newest first.
    pub fn summaries(&self) -> Vec<Value> {
        let inner = self.lock();
        let mut records: Vec<&SessionRecord> = inner.by_id.values().collect();
        records.sort_by_key(|record| std::cmp::Reverse(record.seq));
        records.iter().map(|record| record.summary()).collect()
    }

    pub fn detail(&self, session_id: &str) -> Option<Value> {
        self.lock().by_id.get(session_id).map(SessionRecord::detail)
    }

    pub fn active_count(&self) -> usize {
        self.lock()
            .by_id
            .values()
            .filter(|record| !record.ended)
            .count()
    }

    fn is_settled(&self, session_id: &str) -> bool {
        self.lock()
            .by_id
            .get(session_id)
            .is_none_or(|record| record.ended)
    }

    /// Waits until the session has ended (or is unknown), at most `limit`, or until shutdown.
    pub async fn wait_until_ended(
        &self,
        session_id: &str,
        limit: Duration,
        shutdown: &CancellationToken,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Registered before the check, so that an end between check and wait is not lost.
            let notified = self.ended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_settled(session_id) {
                return;
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(deadline) => return,
                () = shutdown.cancelled() => return,
            }
        }
    }
}

/// Request and delivery counters for `GET /_simulator/stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub callflow_requests: AtomicU64,
    pub sessions_created: AtomicU64,
    pub webhooks_delivered: AtomicU64,
    pub webhooks_failed: AtomicU64,
}

impl Stats {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn to_json(&self, active_sessions: usize) -> Value {
        json!({
            "callflowRequests": self.callflow_requests.load(Ordering::Relaxed),
            "sessionsCreated": self.sessions_created.load(Ordering::Relaxed),
            "activeSessions": active_sessions,
            "webhooksDelivered": self.webhooks_delivered.load(Ordering::Relaxed),
            "webhooksFailed": self.webhooks_failed.load(Ordering::Relaxed),
        })
    }
}
