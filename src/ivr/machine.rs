//! The call script as a pure state machine: (state, event) -> (state', reply). No I/O, no clock.
//!
//! A VCA webhook carries the key the customer pressed (or nothing); the machine answers with
//! the next callflow and the new state. A VSS webhook carries 8x8's session outcome; it never
//! overwrites a customer decision, and a key that arrives after it is still honoured.

use crate::domain::{CallStatus, MenuStep};
use crate::ivr::callflow;
use crate::ivr::script::CallScript;
use crate::voice::wire::{Action, VcaReply};
use serde::{Deserialize, Serialize};

/// The IVR's memory of one call, stored with the call and cached for live sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IvrState {
    pub status: CallStatus,
    pub step: MenuStep,
    /// Prompts played so far; the initial Send Callflow counts as the first.
    pub prompts_played: u16,
    pub reprompts: u8,
    pub repeats: u8,
    /// Every key pressed, in order (each capture is one key).
    pub digits: String,
    /// 8x8's session summary has arrived: the call is over.
    pub summary_received: bool,
}

impl IvrState {
    /// The state right after 8x8 accepted the call: the main prompt is about to play.
    pub fn placed() -> Self {
        IvrState {
            status: CallStatus::Pending,
            step: MenuStep::Main,
            prompts_played: 1,
            reprompts: 0,
            repeats: 0,
            digits: String::new(),
            summary_received: false,
        }
    }

    /// The `clientActionId` of the prompt the customer is hearing now.
    pub fn client_action_id(&self, script: &CallScript) -> String {
        match self.step {
            MenuStep::Done => script.client_action_base.clone(),
            step => format!(
                "{}.{}.{}",
                script.client_action_base,
                step.as_str(),
                self.prompts_played
            ),
        }
    }
}

/// What a VCA did, recorded in the call's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Confirmed,
    Cancelled,
    /// 0 on a template that double-checks: the cancel question was asked.
    AskedToConfirmCancel,
    /// 1 at the cancel question: the appointment stays.
    Kept,
    Repeated,
    Reprompted,
    /// No valid key after every re-prompt: goodbye.
    GaveUp,
    Transferred,
    /// The call had already ended its script; the reply only hangs up.
    AfterEnd,
    /// The VCA answered an older prompt than the one being played; the current one is repeated.
    Stale,
    /// 8x8's session summary.
    SessionEnded,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Confirmed => "confirmed",
            Effect::Cancelled => "cancelled",
            Effect::AskedToConfirmCancel => "asked_to_confirm_cancel",
            Effect::Kept => "kept",
            Effect::Repeated => "repeated",
            Effect::Reprompted => "reprompted",
            Effect::GaveUp => "gave_up",
            Effect::Transferred => "transferred",
            Effect::AfterEnd => "after_end",
            Effect::Stale => "stale",
            Effect::SessionEnded => "session_ended",
        }
    }

    /// Whether the effect changes the stored state (and so is a transition in the timeline).
    pub fn changes_state(self) -> bool {
        !matches!(self, Effect::AfterEnd | Effect::Stale)
    }
}

/// The machine's answer to a VCA.
#[derive(Debug, Clone, PartialEq)]
pub struct VcaDecision {
    pub state: IvrState,
    pub reply: VcaReply,
    pub effect: Effect,
}

/// Answers a VCA: `dtmf` is the key pressed (`None` for no input); `echoed_action_id` is the
/// `clientActionId` 8x8 passed back, naming the prompt the key answers.
pub fn on_keys(
    script: &CallScript,
    state: &IvrState,
    dtmf: Option<&str>,
    echoed_action_id: Option<&str>,
) -> VcaDecision {
    if state.step == MenuStep::Done {
        return VcaDecision {
            state: state.clone(),
            reply: hangup_only(script),
            effect: Effect::AfterEnd,
        };
    }
    if answers_an_older_prompt(script, state, echoed_action_id) {
        return VcaDecision {
            state: state.clone(),
            reply: current_prompt(script, state),
            effect: Effect::Stale,
        };
    }

    let mut next = state.clone();
    if let Some(keys) = dtmf {
        next.digits.push_str(keys);
    }
    let effect = match (state.step, dtmf) {
        (MenuStep::Main, Some("1")) => finish(&mut next, CallStatus::Confirmed, Effect::Confirmed),
        (MenuStep::Main, Some("0")) if script.menu.confirm_cancel => {
            next.step = MenuStep::ConfirmCancel;
            next.prompts_played += 1;
            Effect::AskedToConfirmCancel
        }
        (MenuStep::Main, Some("0")) => finish(&mut next, CallStatus::Cancelled, Effect::Cancelled),
        (MenuStep::Main, Some("9")) if script.menu.repeat && state.repeats < script.max_repeats => {
            next.repeats += 1;
            next.prompts_played += 1;
            Effect::Repeated
        }
        (MenuStep::Main, Some("2")) if script.menu.staff && script.staff_phone.is_some() => {
            finish(&mut next, CallStatus::Transferred, Effect::Transferred)
        }
        (MenuStep::ConfirmCancel, Some("0")) => {
            finish(&mut next, CallStatus::Cancelled, Effect::Cancelled)
        }
        (MenuStep::ConfirmCancel, Some("1")) => {
            finish(&mut next, CallStatus::Confirmed, Effect::Kept)
        }
        _ if state.reprompts < script.max_reprompts => {
            next.reprompts += 1;
            next.prompts_played += 1;
            Effect::Reprompted
        }
        _ => finish(&mut next, CallStatus::NoResponse, Effect::GaveUp),
    };

    // The call is already over on 8x8's side (its summary came first): the key still counts
    // when it is a decision, otherwise the summary's verdict stands.
    if state.summary_received && !next.status.is_customer_decision() {
        next.status = CallStatus::NoResponse;
        next.step = MenuStep::Done;
    }

    let reply = reply_for(script, &next, effect);
    VcaDecision {
        state: next,
        reply,
        effect,
    }
}

fn finish(state: &mut IvrState, status: CallStatus, effect: Effect) -> Effect {
    state.status = status;
    state.step = MenuStep::Done;
    effect
}

/// The `clientActionId` 8x8 echoed names a prompt number lower than the one being played.
/// The first VCA carries no `clientActionId` (8x8 does not echo the initial request's, A-4),
/// which is read as "answers the current prompt".
fn answers_an_older_prompt(script: &CallScript, state: &IvrState, echoed: Option<&str>) -> bool {
    let Some(suffix) = echoed.and_then(|id| id.strip_prefix(script.client_action_base.as_str()))
    else {
        return false;
    };
    let prompt_number = suffix
        .rsplit('.')
        .next()
        .and_then(|n| n.parse::<u16>().ok());
    matches!(prompt_number, Some(n) if n < state.prompts_played)
}

fn reply_for(script: &CallScript, next: &IvrState, effect: Effect) -> VcaReply {
    let texts = &script.texts;
    let closing = |text: &str| VcaReply {
        client_action_id: script.client_action_base.clone(),
        callflow: vec![callflow::say(script, text), Action::Hangup],
    };
    match effect {
        Effect::Confirmed => closing(&texts.confirmed),
        Effect::Kept => closing(&texts.kept),
        Effect::Cancelled => closing(&texts.cancelled),
        Effect::GaveUp => closing(&texts.goodbye),
        Effect::Transferred => VcaReply {
            client_action_id: script.client_action_base.clone(),
            callflow: vec![
                callflow::say(script, &texts.transferring),
                callflow::bridge(
                    script,
                    script.staff_phone.as_deref().unwrap_or(&script.source),
                ),
            ],
        },
        Effect::AskedToConfirmCancel | Effect::Repeated | Effect::Reprompted => {
            if next.step == MenuStep::Done {
                // The summary already ended the call: nobody is listening any more.
                hangup_only(script)
            } else {
                current_prompt_with(script, next, effect)
            }
        }
        Effect::AfterEnd | Effect::Stale | Effect::SessionEnded => hangup_only(script),
    }
}

/// The prompt for the step the customer is at, introduced as `effect` requires.
fn current_prompt_with(script: &CallScript, state: &IvrState, effect: Effect) -> VcaReply {
    let texts = &script.texts;
    let question = match state.step {
        MenuStep::ConfirmCancel => texts.confirm_cancel.as_str(),
        _ => texts.prompt.as_str(),
    };
    let text = match effect {
        Effect::Reprompted => join(&texts.reprompt_prefix, question),
        Effect::Repeated => join(&texts.repeat_prefix, question),
        _ => question.to_owned(),
    };
    VcaReply {
        client_action_id: state.client_action_id(script),
        callflow: vec![callflow::capture(script, text)],
    }
}

fn current_prompt(script: &CallScript, state: &IvrState) -> VcaReply {
    current_prompt_with(script, state, Effect::Stale)
}

fn join(prefix: &str, text: &str) -> String {
    if prefix.is_empty() {
        text.to_owned()
    } else {
        format!("{prefix} {text}")
    }
}

fn hangup_only(script: &CallScript) -> VcaReply {
    VcaReply {
        client_action_id: script.client_action_base.clone(),
        callflow: vec![Action::Hangup],
    }
}

/// What the machine needs from 8x8's session summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryFacts {
    /// The customer's leg was connected (a connected timestamp, a duration, or COMPLETED).
    pub answered: bool,
}

/// Applies 8x8's session summary: customer decisions and an IVR goodbye stand; a call still
/// pending becomes `no_response` if it was answered and `unreachable` otherwise.
pub fn on_summary(state: &IvrState, facts: SummaryFacts) -> IvrState {
    let mut next = state.clone();
    next.summary_received = true;
    if state.status == CallStatus::Pending {
        // A VCA reached us, so the customer answered, whatever the legs say.
        let answered = facts.answered || state.prompts_played > 1 || !state.digits.is_empty();
        next.status = if answered {
            CallStatus::NoResponse
        } else {
            CallStatus::Unreachable
        };
        // The step stays where the customer was: a VCA that 8x8 delivers after its summary
        // still carries a key that must count (issue: VSS before the last VCA).
    }
    next
}
