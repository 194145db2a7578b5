//! Open-loop driving: VCAs sent at a fixed rate, the way 8x8 sends them (a webhook is sent
//! when the customer presses a key, not when the previous webhook was answered), for the
//! latency a server gives at a given throughput.
//!
//! Request `i` of a phase is due at `start + i / rate`. Each connection takes the next due
//! request and sends it when it is due. When every connection is still waiting for an answer
//! the next request goes out late, and its latency counts from when it was due, not from
//! when it could be sent: a slow answer shows in every request it held up (no "coordinated
//! omission", which would hide exactly the stalls a p99 is meant to show). A request sent on
//! time counts from its sending, so that the generator's own timer (tokio's: 1 ms
//! resolution) is not counted against the server.

use crate::BenchResult;
use crate::calls::{Expect, VCA_PATH, check_vca, webhook_auth};
use crate::http::{Summary, Tally, open_many, run_workers};
use crate::payloads::{self, CONFIRM_KEY, WRONG_KEY};
use crate::processes::Process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sends every session a wrong key, then (a second phase, at the same rate) 1 echoing the
/// re-prompt's clientActionId, `rate` requests per second over `concurrency` connections.
pub async fn drive_at(
    server: &Process,
    sessions: Arc<Vec<String>>,
    rate: f64,
    concurrency: usize,
    is_app: bool,
) -> BenchResult<Summary> {
    let (first, second) = Expect::wrong_key_then_confirm(is_app);
    let echoed: Arc<Vec<Mutex<Option<String>>>> =
        Arc::new(sessions.iter().map(|_| Mutex::new(None)).collect());
    let mut elapsed = Duration::ZERO;
    let mut tallies = Vec::new();
    for (phase, expect) in [(Phase::WrongKey, first), (Phase::Confirm, second)] {
        let connections = open_many(&server.address, concurrency).await?;
        let next = Arc::new(AtomicUsize::new(0));
        let phase_start = Instant::now();
        tallies.extend(
            run_workers(connections, |_, mut connection| {
                let sessions = Arc::clone(&sessions);
                let echoed = Arc::clone(&echoed);
                let next = Arc::clone(&next);
                async move {
                    let auth = webhook_auth();
                    let mut tally = Tally::default();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(session) = sessions.get(index) else {
                            return Ok(tally);
                        };
                        let due = phase_start + Duration::from_secs_f64(index as f64 / rate);
                        let late = Instant::now() > due;
                        if !late {
                            tokio::time::sleep_until(due.into()).await;
                        }
                        let body = match phase {
                            Phase::WrongKey => payloads::vca(session, WRONG_KEY, None),
                            Phase::Confirm => {
                                let action = echoed[index].lock().expect("not poisoned").take();
                                payloads::vca(session, CONFIRM_KEY, action.as_deref())
                            }
                        };
                        let mut answer = connection.post(VCA_PATH, &auth, body).await?;
                        if late {
                            answer.micros =
                                u32::try_from(due.elapsed().as_micros()).unwrap_or(u32::MAX);
                        }
                        tally.record(&answer);
                        match (phase, check_vca(&answer, expect)) {
                            (Phase::WrongKey, Ok(action)) => {
                                *echoed[index].lock().expect("not poisoned") = Some(action);
                            }
                            (Phase::Confirm, Ok(_)) => {}
                            (_, Err(error)) => tally.fail(error),
                        }
                    }
                }
            })
            .await?,
        );
        elapsed += phase_start.elapsed();
    }
    Ok(Summary::of(Tally::merge(tallies), elapsed))
}

/// Which of a session's two VCAs a phase sends.
#[derive(Debug, Clone, Copy)]
enum Phase {
    WrongKey,
    Confirm,
}
