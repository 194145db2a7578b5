//! The session engine: plays one accepted callflow out over time as 8x8 would, one tokio task per session.
//!
//! The model is CONTRACT §3.5 (inferred): `makeCall` dials the customer; once answered the
//! remaining actions run in order. A `sayAndCapture` loops over its tries, then a VCA asks the
//! app what to do next, and the app's reply replaces whatever the callflow had left. A
//! `makeCall` after the first bridges a second leg. The session ends with a hangup (by the
//! app, the customer, or the platform when nothing is left to do), or with an error, and its
//! VSS is sent once (twice for the duplicate-webhook customer).

use crate::voice::simulator::codes::SessionError;
use crate::voice::simulator::customer::{Behaviour, Customer, CustomerInput};
use crate::voice::simulator::numbers::e164;
use crate::voice::simulator::payloads::{self, Leg, VcaFacts, VssFacts};
use crate::voice::simulator::record::{Delivery, Event, Stats};
use crate::voice::simulator::state::Shared;
use crate::voice::simulator::validate::{self, CallflowPlan, Capture, Dial, Step};
use crate::voice::wire::WebhookType;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A session accepted by Send Callflow, about to be played.
#[derive(Debug)]
pub struct NewSession {
    pub session_id: String,
    pub plan: CallflowPlan,
    pub behaviour: Behaviour,
}

/// Plays the session on its own task; it stops early when the simulator shuts down.
pub fn spawn(shared: Arc<Shared>, new: NewSession) {
    let session_id = new.session_id.clone();
    let session = Session {
        shared: shared.clone(),
        id: new.session_id,
        client_action_id_of_request: new.plan.client_action_id,
        client_request_id: new.plan.client_request_id,
        behaviour: new.behaviour,
        customer: None,
        legs: Vec::new(),
        last_action: "MAKE_CALL",
        make_calls: 0,
        vcas_sent: 0,
        reply_client_action_id: None,
        started: Utc::now(),
    };
    let steps = new.plan.steps;
    tokio::spawn(async move {
        tokio::select! {
            () = session.run(steps) => {}
            () = shared.shutdown.cancelled() => {
                shared.records.push(&session_id, Event::Interrupted);
                shared.records.finish(&session_id, None, None);
            }
        }
    });
}

/// How a session ended, before its VSS is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The call was answered and hung up (by anyone): `COMPLETED`.
    Completed,
    /// The customer's leg was never answered: `NO_ANSWER`, `BUSY` or `FAILED`.
    NotAnswered(&'static str),
    Error(SessionError),
}

struct Session {
    shared: Arc<Shared>,
    id: String,
    client_action_id_of_request: Option<String>,
    client_request_id: Option<String>,
    behaviour: Behaviour,
    /// Present once the customer answered.
    customer: Option<Customer>,
    /// callA (the customer), then callB (a bridged party).
    legs: Vec<Leg>,
    /// VSS `lastAction`: the action running or last run.
    last_action: &'static str,
    make_calls: usize,
    vcas_sent: usize,
    /// The `clientActionId` of the app's last VCA reply, echoed on the next VCA.
    reply_client_action_id: Option<String>,
    started: DateTime<Utc>,
}

impl Session {
    async fn run(mut self, steps: Vec<Step>) {
        let ending = match self.play(steps).await {
            Ok(ending) | Err(ending) => ending,
        };
        let ended = Utc::now();
        for leg in &mut self.legs {
            leg.disconnected.get_or_insert(ended);
        }
        let (status, error) = match ending {
            Ending::Completed => ("COMPLETED", None),
            Ending::NotAnswered(status) => (status, None),
            Ending::Error(error) => ("ERROR", Some(error)),
        };
        let vss = payloads::vss(&VssFacts {
            session_id: &self.id,
            sub_account_id: &self.shared.config.subaccount_id,
            session_status: status,
            start: self.started,
            end: ended,
            last_action: self.last_action,
            legs: &self.legs,
            client_request_id: self.client_request_id.as_deref(),
            error,
        });
        self.deliver(WebhookType::Vss, &vss).await;
        self.note(Event::Ended {
            session_status: status.to_owned(),
        });
        self.shared
            .records
            .finish(&self.id, Some(status), Some(vss));
    }

    /// Runs the actions; `Err` ends the session early (unanswered, hung up, app failure).
    async fn play(&mut self, steps: Vec<Step>) -> Result<Ending, Ending> {
        let mut queue: VecDeque<Step> = steps.into();
        while let Some(step) = queue.pop_front() {
            self.last_action = step.last_action_name();
            match step {
                Step::MakeCall(dial) if self.legs.is_empty() => self.dial_customer(&dial).await?,
                Step::MakeCall(dial) => self.bridge(&dial).await?,
                Step::Say(say) => {
                    for _ in 0..say.repetition {
                        self.speak(&say.text).await?;
                    }
                }
                Step::PlayFile(file) => {
                    for _ in 0..file.repetition {
                        self.play_file(&file.file_url).await?;
                    }
                }
                Step::SayAndCapture(capture) => {
                    let dtmf = self.capture(&capture).await?;
                    // The app's reply is what happens next; anything the callflow had left
                    // after this capture is dropped.
                    queue = self.ask_app(dtmf.as_deref()).await?.into();
                }
                Step::Hangup => {
                    self.note(Event::Hangup { by: "app" });
                    return Ok(Ending::Completed);
                }
            }
        }
        // Nothing left to do: bridged parties talk, then hang up; otherwise the platform does.
        if self.legs.len() > 1 {
            self.pause(self.shared.config.timing.talk).await;
            self.note(Event::Hangup { by: "customer" });
        } else {
            self.note(Event::Hangup { by: "platform" });
        }
        Ok(Ending::Completed)
    }

    async fn dial_customer(&mut self, dial: &Dial) -> Result<(), Ending> {
        self.make_calls += 1;
        self.legs.push(new_leg(dial));
        self.note(Event::Dialled {
            leg: "callA",
            destination: dial.destination.clone(),
        });
        self.pause(self.shared.config.timing.ring).await;
        let unanswered = match self.behaviour {
            Behaviour::NeverAnswers => Some(("NO_ANSWER", "no_answer")),
            Behaviour::Busy => Some(("BUSY", "busy")),
            Behaviour::Fails => Some(("FAILED", "failed")),
            // The VSS-VM no-coverage example reports the leg as ERROR.
            Behaviour::NoCoverage => Some(("ERROR", "no_coverage")),
            _ => None,
        };
        if let Some((leg_status, outcome)) = unanswered {
            self.legs[0].status = leg_status;
            self.note(Event::NotAnswered {
                leg: "callA",
                outcome,
            });
            return Err(match self.behaviour {
                Behaviour::NoCoverage => Ending::Error(SessionError::NoCoverage),
                _ => Ending::NotAnswered(leg_status),
            });
        }
        self.legs[0].connected = Some(Utc::now());
        self.customer = self.behaviour.answering_customer();
        self.note(Event::Answered { leg: "callA" });
        Ok(())
    }

    /// A second `makeCall`: the staff (or whoever) always answers, and is bridged.
    async fn bridge(&mut self, dial: &Dial) -> Result<(), Ending> {
        self.make_calls += 1;
        self.legs.push(new_leg(dial));
        self.note(Event::Dialled {
            leg: "callB",
            destination: dial.destination.clone(),
        });
        self.pause(self.shared.config.timing.ring).await;
        if let Some(leg) = self.legs.last_mut() {
            leg.connected = Some(Utc::now());
        }
        self.note(Event::Answered { leg: "callB" });
        self.note(Event::Bridged {
            destination: dial.destination.clone(),
        });
        Ok(())
    }

    /// The customer hears `text`, unless they hang up during it.
    async fn speak(&mut self, text: &str) -> Result<(), Ending> {
        if self
            .customer
            .as_mut()
            .is_some_and(Customer::hangs_up_during_prompt)
        {
            return Err(self.customer_hangs_up(text));
        }
        self.note(Event::Heard {
            text: text.to_owned(),
        });
        self.pause(self.shared.config.timing.prompt).await;
        Ok(())
    }

    async fn play_file(&mut self, file_url: &str) -> Result<(), Ending> {
        if self
            .customer
            .as_mut()
            .is_some_and(Customer::hangs_up_during_prompt)
        {
            return Err(self.customer_hangs_up(file_url));
        }
        self.note(Event::HeardFile {
            file_url: file_url.to_owned(),
        });
        self.pause(self.shared.config.timing.prompt).await;
        Ok(())
    }

    fn customer_hangs_up(&mut self, during: &str) -> Ending {
        self.note(Event::CustomerHungUp {
            during: during.to_owned(),
        });
        Ending::Completed
    }

    /// The capture loop: for each try, the prompt, then the customer's input. A valid capture
    /// (minDigits..maxDigits keys) returns the digits, after the success message; a failed
    /// try plays the failure message when another try follows. `None` after the last try.
    async fn capture(&mut self, capture: &Capture) -> Result<Option<String>, Ending> {
        let timing = self.shared.config.timing;
        for attempt in 1..=capture.no_of_tries {
            let input = self
                .customer
                .as_mut()
                .map_or(CustomerInput::NoInput, Customer::next_input);
            if input == CustomerInput::HangUp {
                return Err(self.customer_hangs_up(&capture.prompt_message));
            }
            self.speak(&capture.prompt_message).await?;
            let captured = match input {
                CustomerInput::Keys(keys) => {
                    self.pause(timing.answer).await;
                    self.note(Event::Pressed { keys: keys.clone() });
                    collect_digits(&keys, capture)
                }
                _ => {
                    self.pause(timing.silence).await;
                    self.note(Event::NoInput);
                    None
                }
            };
            if let Some(digits) = captured {
                if let Some(message) = &capture.success_message {
                    self.speak(message).await?;
                }
                return Ok(Some(digits));
            }
            if attempt < capture.no_of_tries
                && let Some(message) = &capture.failure_message
            {
                self.speak(message).await?;
            }
        }
        Ok(None)
    }

    /// Sends the VCA and reads the app's reply into the next steps. A failed delivery, a
    /// non-2xx answer or an invalid callflow ends the session with -2003.
    async fn ask_app(&mut self, dtmf: Option<&str>) -> Result<Vec<Step>, Ending> {
        self.vcas_sent += 1;
        let client_action_id =
            if self.vcas_sent == 1 && self.shared.config.echo_initial_client_action_id {
                self.client_action_id_of_request.clone()
            } else {
                self.reply_client_action_id.clone()
            };
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = payloads::vca(&VcaFacts {
            event_id: &event_id,
            session_id: &self.id,
            sub_account_id: &self.shared.config.subaccount_id,
            leg: &self.legs[0],
            dtmf,
            client_action_id: client_action_id.as_deref(),
            at: Utc::now(),
        });
        let reply = match self.deliver(WebhookType::Vca, &body).await {
            Delivery::Answered { http_status, reply } if (200..300).contains(&http_status) => reply,
            Delivery::Answered { http_status, .. } => {
                return Err(self.reply_failed(format!("the app answered HTTP {http_status}")));
            }
            // The cause is already in the webhook event.
            Delivery::Failed { .. } => return Err(Ending::Error(SessionError::CallflowInvalid)),
        };
        match validate::vca_reply_value(&reply, &self.shared.rules(), self.make_calls) {
            Ok(plan) => {
                self.reply_client_action_id = plan.client_action_id;
                Ok(plan.steps)
            }
            Err(rejection) => Err(self.reply_failed(rejection.to_string())),
        }
    }

    fn reply_failed(&mut self, reason: String) -> Ending {
        self.note(Event::ReplyRejected { reason });
        Ending::Error(SessionError::CallflowInvalid)
    }

    /// Posts a webhook (twice for the duplicate-webhook customer, same body and eventId) and
    /// returns the first answer; every delivery is recorded.
    async fn deliver(&mut self, kind: WebhookType, body: &Value) -> Delivery {
        let target = self.shared.webhooks.target(kind);
        let deliveries = if target.is_some() && self.behaviour.duplicates_webhooks() {
            2
        } else {
            1
        };
        let mut first = None;
        for delivery in 1..=deliveries {
            let result = self.shared.deliverer.post(target.as_ref(), body).await;
            if target.is_some() {
                let stats = &self.shared.stats;
                Stats::count(match result {
                    Delivery::Answered { .. } => &stats.webhooks_delivered,
                    Delivery::Failed { .. } => &stats.webhooks_failed,
                });
            }
            self.note(Event::Webhook {
                kind: kind.as_str(),
                delivery,
                body: body.clone(),
                result: result.clone(),
            });
            first.get_or_insert(result);
        }
        first.unwrap_or(Delivery::Failed {
            error: "not delivered".to_owned(),
        })
    }

    fn note(&self, event: Event) {
        self.shared.records.push(&self.id, event);
    }

    async fn pause(&self, duration: Duration) {
        if duration.is_zero() {
            // Still let other sessions and the HTTP server run between steps.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(duration).await;
        }
    }
}

fn new_leg(dial: &Dial) -> Leg {
    Leg {
        call_id: uuid::Uuid::new_v4().to_string(),
        source: e164(&dial.source),
        destination: e164(&dial.destination),
        initiated: Utc::now(),
        connected: None,
        disconnected: None,
        status: "COMPLETED",
    }
}

/// The digits a capture takes from the keys pressed: it stops at maxDigits, or at `#` when
/// completeOnHash (the `#` is not part of the digits, CONTRACT §3.4); valid means
/// minDigits..=maxDigits digits.
fn collect_digits(keys: &str, capture: &Capture) -> Option<String> {
    let mut digits = String::new();
    for key in keys.chars() {
        if key == '#' && capture.complete_on_hash {
            break;
        }
        digits.push(key);
        if digits.len() >= capture.max_digits {
            break;
        }
    }
    (capture.min_digits..=capture.max_digits)
        .contains(&digits.len())
        .then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(min: usize, max: usize, complete_on_hash: bool) -> Capture {
        Capture {
            prompt_message: "Press".into(),
            voice_profile: "en-US-BenjaminRUS".into(),
            speed: 1.0,
            min_digits: min,
            max_digits: max,
            digit_timeout_ms: None,
            overall_timeout_ms: 10_000,
            complete_on_hash,
            no_of_tries: 1,
            success_message: None,
            failure_message: None,
        }
    }

    #[test]
    fn digits_stop_at_max_digits_or_at_hash() {
        assert_eq!(
            collect_digits("12", &capture(1, 1, false)),
            Some("1".into())
        );
        assert_eq!(
            collect_digits("12#3", &capture(1, 5, true)),
            Some("12".into())
        );
        assert_eq!(
            collect_digits("1#", &capture(1, 5, false)),
            Some("1#".into())
        );
        assert_eq!(collect_digits("#", &capture(1, 5, true)), None);
        assert_eq!(collect_digits("12", &capture(3, 5, true)), None);
        assert_eq!(collect_digits("*", &capture(1, 1, true)), Some("*".into()));
    }
}
