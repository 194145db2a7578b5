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
    // when it is a decision, otherwise the summary's verdict stands. The step is left where
    // the key took the customer: 8x8 may still deliver a later VCA of the same call (a wrong
    // key, then 1) whose decision must count too.
    if state.summary_received && !next.status.is_customer_decision() {
        next.status = CallStatus::NoResponse;
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
            if next.step == MenuStep::Done || next.summary_received {
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
        MenuStep::ConfirmCancel => &*texts.confirm_cancel,
        _ => &*texts.prompt,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ivr::script::{MenuOptions, ScriptTexts};
    use serde_json::{Value, json};

    fn script(menu: MenuOptions) -> CallScript {
        CallScript {
            template: "test".into(),
            language: "en-US".into(),
            voice_profile: "en-US-BenjaminRUS".into(),
            speed: 1.0,
            client_action_base: "A1_20250420_1930_Acme".into(),
            source: "6568332048".into(),
            staff_phone: Some("6561115777".into()),
            menu,
            max_reprompts: 1,
            max_repeats: 1,
            texts: ScriptTexts {
                prompt: "PROMPT".into(),
                repeat_prefix: "AGAIN".into(),
                reprompt_prefix: "SORRY".into(),
                confirm_cancel: "SURE?".into(),
                confirmed: "CONFIRMED".into(),
                kept: "KEPT".into(),
                cancelled: "CANCELLED".into(),
                transferring: "CONNECTING".into(),
                goodbye: "GOODBYE".into(),
                failure_message: "INVALID".into(),
            },
        }
    }

    fn full_menu() -> CallScript {
        script(MenuOptions {
            repeat: true,
            staff: true,
            confirm_cancel: true,
        })
    }

    fn say_hangup(text: &str) -> Value {
        json!({
            "clientActionId": "A1_20250420_1930_Acme",
            "callflow": [
                {"action": "say", "params": {"text": text, "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1}},
                {"action": "hangup"}
            ]
        })
    }

    fn capture(id: &str, text: &str) -> Value {
        json!({
            "clientActionId": id,
            "callflow": [{"action": "sayAndCapture", "params": {
                "promptMessage": text, "voiceProfile": "en-US-BenjaminRUS", "repetition": 2,
                "speed": 1, "minDigits": 1, "maxDigits": 1, "digitTimeout": 10000,
                "overallTimeout": 10000, "completeOnHash": false, "noOfTries": 2,
                "successMessage": null, "failureMessage": "INVALID"
            }}]
        })
    }

    fn reply(decision: &VcaDecision) -> Value {
        serde_json::to_value(&decision.reply).unwrap()
    }

    /// Presses each key (None = no input) in turn from the placed state.
    fn run(script: &CallScript, keys: &[Option<&str>]) -> Vec<VcaDecision> {
        let mut state = IvrState::placed();
        keys.iter()
            .map(|key| {
                let decision = on_keys(script, &state, *key, None);
                state = decision.state.clone();
                decision
            })
            .collect()
    }

    #[test]
    fn one_confirms_and_hangs_up() {
        let [decision] = run(&script(MenuOptions::default()), &[Some("1")])
            .try_into()
            .unwrap();
        assert_eq!(decision.effect, Effect::Confirmed);
        assert_eq!(decision.state.status, CallStatus::Confirmed);
        assert_eq!(decision.state.step, MenuStep::Done);
        assert_eq!(decision.state.digits, "1");
        assert_eq!(reply(&decision), say_hangup("CONFIRMED"));
    }

    #[test]
    fn zero_cancels_when_the_template_does_not_double_check() {
        let [decision] = run(&script(MenuOptions::default()), &[Some("0")])
            .try_into()
            .unwrap();
        assert_eq!(decision.state.status, CallStatus::Cancelled);
        assert_eq!(reply(&decision), say_hangup("CANCELLED"));
    }

    #[test]
    fn zero_asks_again_then_zero_cancels() {
        let decisions = run(&full_menu(), &[Some("0"), Some("0")]);
        assert_eq!(decisions[0].effect, Effect::AskedToConfirmCancel);
        assert_eq!(decisions[0].state.status, CallStatus::Pending);
        assert_eq!(
            reply(&decisions[0]),
            capture("A1_20250420_1930_Acme.confirm_cancel.2", "SURE?")
        );
        assert_eq!(decisions[1].state.status, CallStatus::Cancelled);
        assert_eq!(decisions[1].state.digits, "00");
        assert_eq!(reply(&decisions[1]), say_hangup("CANCELLED"));
    }

    #[test]
    fn zero_then_one_keeps_the_appointment() {
        let decisions = run(&full_menu(), &[Some("0"), Some("1")]);
        assert_eq!(decisions[1].effect, Effect::Kept);
        assert_eq!(decisions[1].state.status, CallStatus::Confirmed);
        assert_eq!(reply(&decisions[1]), say_hangup("KEPT"));
    }

    #[test]
    fn nine_repeats_the_details_until_the_limit() {
        let decisions = run(&full_menu(), &[Some("9"), Some("9"), Some("1")]);
        assert_eq!(decisions[0].effect, Effect::Repeated);
        assert_eq!(
            reply(&decisions[0]),
            capture("A1_20250420_1930_Acme.main.2", "AGAIN PROMPT")
        );
        // max_repeats is 1: the second 9 counts as a wrong key.
        assert_eq!(decisions[1].effect, Effect::Reprompted);
        assert_eq!(
            reply(&decisions[1]),
            capture("A1_20250420_1930_Acme.main.3", "SORRY PROMPT")
        );
        assert_eq!(decisions[2].state.status, CallStatus::Confirmed);
        assert_eq!(decisions[2].state.prompts_played, 3);
    }

    #[test]
    fn nine_is_a_wrong_key_when_repeat_is_not_offered() {
        let [decision] = run(&script(MenuOptions::default()), &[Some("9")])
            .try_into()
            .unwrap();
        assert_eq!(decision.effect, Effect::Reprompted);
    }

    #[test]
    fn two_bridges_to_staff() {
        let [decision] = run(&full_menu(), &[Some("2")]).try_into().unwrap();
        assert_eq!(decision.state.status, CallStatus::Transferred);
        assert_eq!(
            reply(&decision),
            json!({
                "clientActionId": "A1_20250420_1930_Acme",
                "callflow": [
                    {"action": "say", "params": {"text": "CONNECTING", "voiceProfile": "en-US-BenjaminRUS", "repetition": 1, "speed": 1}},
                    {"action": "makeCall", "params": {"source": "6568332048", "destination": "6561115777"}}
                ]
            })
        );
    }

    #[test]
    fn two_is_a_wrong_key_without_a_staff_number() {
        let mut no_staff = full_menu();
        no_staff.staff_phone = None;
        let [decision] = run(&no_staff, &[Some("2")]).try_into().unwrap();
        assert_eq!(decision.effect, Effect::Reprompted);
    }

    #[test]
    fn no_input_reprompts_once_then_says_goodbye() {
        let decisions = run(&script(MenuOptions::default()), &[None, None]);
        assert_eq!(
            reply(&decisions[0]),
            capture("A1_20250420_1930_Acme.main.2", "SORRY PROMPT")
        );
        assert_eq!(decisions[0].state.status, CallStatus::Pending);
        assert_eq!(decisions[1].effect, Effect::GaveUp);
        assert_eq!(decisions[1].state.status, CallStatus::NoResponse);
        assert_eq!(decisions[1].state.digits, "");
        assert_eq!(reply(&decisions[1]), say_hangup("GOODBYE"));
    }

    #[test]
    fn a_wrong_key_then_one_confirms() {
        let decisions = run(&script(MenuOptions::default()), &[Some("7"), Some("1")]);
        assert_eq!(decisions[0].effect, Effect::Reprompted);
        assert_eq!(decisions[1].state.status, CallStatus::Confirmed);
        assert_eq!(decisions[1].state.digits, "71");
    }

    #[test]
    fn the_cancel_question_is_reprompted_then_abandoned() {
        let decisions = run(&full_menu(), &[Some("0"), Some("5"), None]);
        assert_eq!(
            reply(&decisions[1]),
            capture("A1_20250420_1930_Acme.confirm_cancel.3", "SORRY SURE?")
        );
        assert_eq!(decisions[2].state.status, CallStatus::NoResponse);
    }

    #[test]
    fn keys_after_the_end_only_hang_up() {
        let decisions = run(&script(MenuOptions::default()), &[Some("1"), Some("0")]);
        assert_eq!(decisions[1].effect, Effect::AfterEnd);
        assert_eq!(decisions[1].state, decisions[0].state);
        assert_eq!(
            reply(&decisions[1]),
            json!({"clientActionId": "A1_20250420_1930_Acme", "callflow": [{"action": "hangup"}]})
        );
    }

    #[test]
    fn a_key_for_an_older_prompt_repeats_the_current_one_without_a_transition() {
        let script = full_menu();
        let first = on_keys(&script, &IvrState::placed(), Some("9"), None);
        let stale = on_keys(
            &script,
            &first.state,
            Some("1"),
            Some("A1_20250420_1930_Acme.main.1"),
        );
        assert_eq!(stale.effect, Effect::Stale);
        assert_eq!(stale.state, first.state);
        assert_eq!(
            serde_json::to_value(&stale.reply).unwrap(),
            capture("A1_20250420_1930_Acme.main.2", "PROMPT")
        );
        let current = on_keys(
            &script,
            &first.state,
            Some("1"),
            Some("A1_20250420_1930_Acme.main.2"),
        );
        assert_eq!(current.state.status, CallStatus::Confirmed);
    }

    #[test]
    fn the_summary_of_an_unanswered_call_makes_it_unreachable() {
        let state = on_summary(&IvrState::placed(), SummaryFacts { answered: false });
        assert_eq!(state.status, CallStatus::Unreachable);
        assert!(state.summary_received);
    }

    #[test]
    fn the_summary_of_an_answered_call_without_a_key_is_no_response() {
        let state = on_summary(&IvrState::placed(), SummaryFacts { answered: true });
        assert_eq!(state.status, CallStatus::NoResponse);
    }

    #[test]
    fn the_summary_never_overwrites_a_decision() {
        let script = full_menu();
        for key in ["1", "2"] {
            let decided = on_keys(&script, &IvrState::placed(), Some(key), None).state;
            let after = on_summary(&decided, SummaryFacts { answered: true });
            assert_eq!(after.status, decided.status);
            assert!(after.summary_received);
        }
    }

    #[test]
    fn a_key_arriving_after_the_summary_still_counts() {
        let script = script(MenuOptions::default());
        let ended = on_summary(&IvrState::placed(), SummaryFacts { answered: false });
        let decision = on_keys(&script, &ended, Some("1"), None);
        assert_eq!(decision.state.status, CallStatus::Confirmed);
        let wrong = on_keys(&script, &ended, Some("7"), None);
        assert_eq!(wrong.state.status, CallStatus::NoResponse);
        assert_eq!(
            serde_json::to_value(&wrong.reply).unwrap(),
            json!({"clientActionId": "A1_20250420_1930_Acme", "callflow": [{"action": "hangup"}]})
        );
    }

    #[test]
    fn a_wrong_key_then_one_both_arriving_after_the_summary_confirm() {
        let script = script(MenuOptions::default());
        let ended = on_summary(&IvrState::placed(), SummaryFacts { answered: true });
        let wrong = on_keys(&script, &ended, Some("7"), None);
        assert_eq!(wrong.effect, Effect::Reprompted);
        assert_eq!(wrong.state.status, CallStatus::NoResponse);
        let decision = on_keys(
            &script,
            &wrong.state,
            Some("1"),
            Some("A1_20250420_1930_Acme.main.2"),
        );
        assert_eq!(decision.effect, Effect::Confirmed);
        assert_eq!(decision.state.status, CallStatus::Confirmed);
        assert_eq!(decision.state.digits, "71");
        // Out of re-prompts, a last wrong key after the summary ends the script.
        let gave_up = on_keys(
            &script,
            &wrong.state,
            Some("7"),
            Some("A1_20250420_1930_Acme.main.2"),
        );
        assert_eq!(gave_up.effect, Effect::GaveUp);
        assert_eq!(gave_up.state.status, CallStatus::NoResponse);
        assert_eq!(gave_up.state.step, MenuStep::Done);
    }
}
