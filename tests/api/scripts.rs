//! The call scripts end to end: a scripted customer of the simulator presses keys, the app
//! answers 8x8's webhooks, and every path of the menu ends as it should. Each test checks the
//! call as `GET /api/calls` shows it, every VCA reply the app sent (whole JSON) and what the
//! customer heard, in order; refusals are checked to reach neither the store nor 8x8.

use crate::helpers::{AppOptions, TestApp, basic, ended_session, spawn_app, spawn_app_with};
use crate::process;
use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The 8x8 number calls come from, as the callflows carry it (digits only).
const SOURCE: &str = "6568332048";
const STAFF_PHONE: &str = "+6561115777";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Scripts the simulated customer at `phone` (`"9,1"`, `"none,none"`, as SIMULATOR_CUSTOMERS).
async fn script_customer(app: &TestApp, phone: &str, keys: &str) {
    let response = app
        .client
        .put(format!(
            "{}/_simulator/customers/{phone}",
            app.simulator.url
        ))
        .json(&json!({ "keys": keys }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{}",
        response.text().await.unwrap()
    );
}

/// A make-call body for Riverside Clinic's appointment of Sunday 20 April 2025, 19:30 UTC,
/// with `extra` fields added or replaced.
fn body(phone: &str, extra: Value) -> Value {
    let mut body = json!({
        "orderId": "APT123",
        "customerPhone": phone,
        "businessName": "Riverside Clinic",
        "appointmentTime": "2025-04-20T19:30:00Z"
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// What the simulator recorded of one session, once it ended.
struct Played {
    /// The customer's side of the call, in order: `heard: ...`, `pressed: 9`, `no input`,
    /// `bridged`, `hangup by app`.
    transcript: Vec<String>,
    /// The app's answers to the session's VCA webhooks, in order.
    replies: Vec<Value>,
    record: Value,
}

async fn played(client: &reqwest::Client, simulator_url: &str, session_id: &str) -> Played {
    let record = ended_session(client, simulator_url, session_id).await;
    let events = record["events"].as_array().unwrap();
    let transcript = events
        .iter()
        .filter_map(|event| match event["event"].as_str().unwrap() {
            "heard" => Some(format!("heard: {}", event["text"].as_str().unwrap())),
            "pressed" => Some(format!("pressed: {}", event["keys"].as_str().unwrap())),
            "no_input" => Some("no input".to_owned()),
            "bridged" => Some("bridged".to_owned()),
            "hangup" => Some(format!("hangup by {}", event["by"].as_str().unwrap())),
            _ => None,
        })
        .collect();
    let replies = events
        .iter()
        .filter(|event| event["event"] == "webhook" && event["type"] == "VCA")
        .map(|event| {
            assert_eq!(event["httpStatus"], 200, "{event:#}");
            event["reply"].clone()
        })
        .collect();
    Played {
        transcript,
        replies,
        record,
    }
}

/// Places the call, lets the scripted customer play it out, and returns the simulator's record
/// and the call as the API shows it at the end.
async fn play(app: &TestApp, body: &Value) -> (Played, Value) {
    let session_id = app.place(body).await;
    let played = played(&app.client, &app.simulator.url, &session_id).await;
    let call = app.finished_call(&session_id).await;
    (played, call)
}

/// The parts of a finished call a script decides, with its timeline as
/// `event:from->to:effect:digits` lines.
fn outcome(call: &Value) -> Value {
    let timeline: Vec<String> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{}:{}->{}:{}:{}",
                entry["event"].as_str().unwrap(),
                entry["from"].as_str().unwrap_or("-"),
                entry["to"].as_str().unwrap(),
                entry["effect"].as_str().unwrap_or("-"),
                entry["digits"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    json!({
        "status": call["status"],
        "digits": call["digits"],
        "promptsPlayed": call["promptsPlayed"],
        "step": call["step"],
        "template": call["template"],
        "language": call["language"],
        "sessionStatus": call["session"]["sessionStatus"],
        "callCount": call["session"]["callCount"],
        "timeline": timeline,
    })
}

/// The voice settings every callflow of a call carries.
#[derive(Clone, Copy)]
struct Voice {
    profile: &'static str,
    speed: f64,
    /// The template's `failure_message`, which 8x8 says between capture tries.
    failure: &'static str,
}

impl Voice {
    fn speed(&self) -> Value {
        // 8x8's examples write 1, not 1.0; the app sends whole speeds as integers.
        if self.speed.fract() == 0.0 {
            json!(self.speed as i64)
        } else {
            json!(self.speed)
        }
    }

    /// The sayAndCapture of one key after `text`.
    fn capture_action(&self, text: &str) -> Value {
        json!({"action": "sayAndCapture", "params": {
            "promptMessage": text, "voiceProfile": self.profile, "repetition": 2,
            "speed": self.speed(), "minDigits": 1, "maxDigits": 1, "digitTimeout": 10000,
            "overallTimeout": 10000, "completeOnHash": false, "noOfTries": 2,
            "successMessage": null, "failureMessage": self.failure
        }})
    }

    /// A VCA reply asking for one key after `text`.
    fn capture(&self, client_action_id: &str, text: &str) -> Value {
        json!({"clientActionId": client_action_id, "callflow": [self.capture_action(text)]})
    }

    fn say(&self, text: &str) -> Value {
        json!({"action": "say", "params": {
            "text": text, "voiceProfile": self.profile, "repetition": 1, "speed": self.speed()
        }})
    }

    /// A VCA reply saying `text`, then hanging up.
    fn say_and_hang_up(&self, client_action_id: &str, text: &str) -> Value {
        json!({
            "clientActionId": client_action_id,
            "callflow": [self.say(text), {"action": "hangup"}]
        })
    }
}

const MEDICAL_EN: Voice = Voice {
    profile: "en-US-BenjaminRUS",
    speed: 1.0,
    failure: "Sorry, that is not a valid choice. Please try again.",
};

/// `clientActionId` of Riverside Clinic's appointment; prompts add `.{step}.{n}`.
const RIVERSIDE: &str = "APT123_20250420_1930_Riverside_Clinic";

const MEDICAL_PROMPT: &str = "Hello, this is Riverside Clinic calling with an appointment \
    reminder. The appointment is on Sunday, April 20th, 2025 at 7:30 PM. To confirm the \
    appointment, press one. To cancel it, press zero. To hear these details again, press nine.";
const MEDICAL_REPEAT: &str = "Here are the appointment details again.";
const MEDICAL_SORRY: &str = "Sorry, we didn't catch that.";
const MEDICAL_CONFIRMED: &str =
    "Thank you. The appointment is confirmed, and we look forward to seeing you.";
const MEDICAL_FAILURE: &str = "Sorry, that is not a valid choice. Please try again.";

fn medical(phone: &str) -> Value {
    body(phone, json!({"template": "medical"}))
}

fn heard(text: &str) -> String {
    format!("heard: {text}")
}

fn pressed(keys: &str) -> String {
    format!("pressed: {keys}")
}

/// A prompt asked again: the prefix, one space, the prompt (as the state machine joins them).
fn prefixed(prefix: &str, text: &str) -> String {
    format!("{prefix} {text}")
}

/// A file under the temp dir for one test, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir =
            std::env::temp_dir().join(format!("cc_scripts_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn example_templates_file() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates.example.toml")
        .display()
        .to_string()
}

/// The app never asked 8x8 for a call, and has no call to show.
async fn assert_nothing_was_placed(app: &TestApp) {
    assert_eq!(app.simulator_stats().await["callflowRequests"], 0);
    let (status, page) = app.list_calls("").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({"calls": [], "nextCursor": null}));
}

// ---------------------------------------------------------------------------------------------
// The medical template: every path of its menu
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn nine_repeats_the_details_then_one_confirms() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230001", "9,1").await;

    let (played, call) = play(&app, &medical("+6591230001")).await;

    let repeated = prefixed(MEDICAL_REPEAT, MEDICAL_PROMPT);
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.main.2"), &repeated),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, MEDICAL_CONFIRMED),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(MEDICAL_PROMPT),
            pressed("9"),
            heard(&repeated),
            pressed("1"),
            heard(MEDICAL_CONFIRMED),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "91", "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:repeated:9",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn nine_repeats_at_most_max_repeats_times_then_counts_as_a_wrong_key() {
    let app = spawn_app_with(AppOptions {
        env: vec![("MAX_REPEATS", "1".to_owned())],
        ..AppOptions::default()
    })
    .await;
    script_customer(&app, "+6591230001", "9,9,1").await;

    let (played, call) = play(&app, &medical("+6591230001")).await;

    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(
                &format!("{RIVERSIDE}.main.2"),
                &prefixed(MEDICAL_REPEAT, MEDICAL_PROMPT)
            ),
            MEDICAL_EN.capture(
                &format!("{RIVERSIDE}.main.3"),
                &prefixed(MEDICAL_SORRY, MEDICAL_PROMPT)
            ),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, MEDICAL_CONFIRMED),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "991", "promptsPlayed": 3, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:repeated:9",
                "vca:pending->pending:reprompted:9",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn zero_asks_again_and_one_keeps_the_appointment() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230002", "0,1").await;

    let (played, call) = play(&app, &medical("+6591230002")).await;

    let question = "You pressed zero to cancel the appointment. To cancel it, press zero again. \
                    To keep it, press one.";
    let kept = "Thank you. The appointment is still booked, and we look forward to seeing you.";
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.confirm_cancel.2"), question),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, kept),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(MEDICAL_PROMPT),
            pressed("0"),
            heard(question),
            pressed("1"),
            heard(kept),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "01", "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:asked_to_confirm_cancel:0",
                "vca:pending->confirmed:kept:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn zero_then_zero_again_cancels() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230003", "0,0").await;

    let (played, call) = play(&app, &medical("+6591230003")).await;

    let question = "You pressed zero to cancel the appointment. To cancel it, press zero again. \
                    To keep it, press one.";
    let cancelled = "The appointment has been cancelled. Thank you for letting us know. Please \
                     call us whenever you would like to book a new one.";
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.confirm_cancel.2"), question),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, cancelled),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(MEDICAL_PROMPT),
            pressed("0"),
            heard(question),
            pressed("0"),
            heard(cancelled),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "cancelled", "digits": "00", "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:asked_to_confirm_cancel:0",
                "vca:pending->cancelled:cancelled:0",
                "vss:cancelled->cancelled:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn two_bridges_the_customer_to_the_staff_number() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230004", "2").await;

    let (played, call) = play(
        &app,
        &body(
            "+6591230004",
            json!({"template": "medical", "staffPhone": STAFF_PHONE}),
        ),
    )
    .await;

    let prompt = "Hello, this is Riverside Clinic calling with an appointment reminder. The \
                  appointment is on Sunday, April 20th, 2025 at 7:30 PM. To confirm the \
                  appointment, press one. To cancel it, press zero. To speak with a member of \
                  our staff, press two. To hear these details again, press nine.";
    let transferring = "Please hold while we connect you to a member of our staff.";
    assert_eq!(
        played.replies,
        [json!({
            "clientActionId": RIVERSIDE,
            "callflow": [
                MEDICAL_EN.say(transferring),
                {"action": "makeCall", "params": {"source": SOURCE, "destination": "6561115777"}}
            ]
        })]
    );
    assert_eq!(
        played.transcript,
        [
            heard(prompt),
            pressed("2"),
            heard(transferring),
            "bridged".to_owned(),
            "hangup by customer".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "transferred", "digits": "2", "promptsPlayed": 1, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 2,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->transferred:transferred:2",
                "vss:transferred->transferred:session_ended:-",
            ]
        })
    );
    assert_eq!(played.record["vss"]["payload"]["callCount"], 2);
}

#[tokio::test]
async fn no_input_twice_is_reprompted_once_then_goodbye_with_max_reprompts_1() {
    let app = spawn_app_with(AppOptions {
        env: vec![("MAX_REPROMPTS", "1".to_owned())],
        ..AppOptions::default()
    })
    .await;
    // Each sayAndCapture gives the customer two tries (noOfTries 2): four silences are two
    // VCAs without a key.
    script_customer(&app, "+6591230005", "none,none,none,none").await;

    let (played, call) = play(&app, &medical("+6591230005")).await;

    let reprompt = prefixed(MEDICAL_SORRY, MEDICAL_PROMPT);
    let goodbye = "We didn't receive a response, so the appointment has not been changed. Goodbye.";
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.main.2"), &reprompt),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, goodbye),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(MEDICAL_PROMPT),
            "no input".to_owned(),
            heard(MEDICAL_FAILURE),
            heard(MEDICAL_PROMPT),
            "no input".to_owned(),
            heard(&reprompt),
            "no input".to_owned(),
            heard(MEDICAL_FAILURE),
            heard(&reprompt),
            "no input".to_owned(),
            heard(goodbye),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "no_response", "digits": null, "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:reprompted:-",
                "vca:pending->no_response:gave_up:-",
                "vss:no_response->no_response:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn with_max_reprompts_2_silence_is_reprompted_twice_before_goodbye() {
    let app = spawn_app_with(AppOptions {
        env: vec![("MAX_REPROMPTS", "2".to_owned())],
        ..AppOptions::default()
    })
    .await;
    script_customer(&app, "+6591230006", "none,none,none,none,none,none").await;

    let (played, call) = play(&app, &medical("+6591230006")).await;

    let reprompt = prefixed(MEDICAL_SORRY, MEDICAL_PROMPT);
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.main.2"), &reprompt),
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.main.3"), &reprompt),
            MEDICAL_EN.say_and_hang_up(
                RIVERSIDE,
                "We didn't receive a response, so the appointment has not been changed. Goodbye."
            ),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "no_response", "digits": null, "promptsPlayed": 3, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:reprompted:-",
                "vca:pending->pending:reprompted:-",
                "vca:pending->no_response:gave_up:-",
                "vss:no_response->no_response:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn a_wrong_key_is_reprompted_then_one_confirms() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230007", "7,1").await;

    let (played, call) = play(&app, &medical("+6591230007")).await;

    let reprompt = prefixed(MEDICAL_SORRY, MEDICAL_PROMPT);
    assert_eq!(
        played.replies,
        [
            MEDICAL_EN.capture(&format!("{RIVERSIDE}.main.2"), &reprompt),
            MEDICAL_EN.say_and_hang_up(RIVERSIDE, MEDICAL_CONFIRMED),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(MEDICAL_PROMPT),
            pressed("7"),
            heard(&reprompt),
            pressed("1"),
            heard(MEDICAL_CONFIRMED),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "71", "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:reprompted:7",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Other templates and languages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_default_template_does_not_offer_nine_so_nine_is_a_wrong_key() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230008", "9,1").await;

    let (played, call) = play(&app, &body("+6591230008", json!({}))).await;

    let voice = Voice {
        profile: "en-US-BenjaminRUS",
        speed: 1.0,
        failure: "Invalid input, please try again",
    };
    let prompt = "Hello, you have an appointment at Riverside Clinic on April 20th, 2025 at 7:30 \
                  PM. Will you be arriving on time? If yes, press one. If you wish to cancel, \
                  press zero.";
    let reprompt = prefixed("Sorry, we did not get a valid answer.", prompt);
    let confirmed =
        "Thank you for confirming. We look forward to seeing you at your appointment time.";
    assert_eq!(
        played.replies,
        [
            voice.capture(&format!("{RIVERSIDE}.main.2"), &reprompt),
            voice.say_and_hang_up(RIVERSIDE, confirmed),
        ]
    );
    assert_eq!(
        played.transcript,
        [
            heard(prompt),
            pressed("9"),
            heard(&reprompt),
            pressed("1"),
            heard(confirmed),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "91", "promptsPlayed": 2, "step": "done",
            "template": "default", "language": "en-US",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:reprompted:9",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn a_french_restaurant_call_greets_by_name_in_paris_time_and_confirms() {
    let app = spawn_app().await;
    script_customer(&app, "+33612345678", "1").await;

    let (played, call) = play(
        &app,
        &json!({
            "orderId": "RES42",
            "customerPhone": "+33 6 12 34 56 78",
            "businessName": "Chez Luigi",
            "appointmentTime": "2025-04-20T19:30:00Z",
            "template": "restaurant",
            "language": "fr-FR",
            "timeZone": "Europe/Paris",
            "customerName": "Camille"
        }),
    )
    .await;

    let prompt = "Bonjour, ici Chez Luigi, nous vous appelons au sujet de votre réservation. \
                  Camille, nous avons une table réservée pour vous le dimanche 20 avril 2025 à \
                  21 h 30. Pouvons-nous compter sur vous ? Pour confirmer votre réservation, \
                  appuyez sur 1. Pour l'annuler, appuyez sur 0. Pour réécouter les détails, \
                  appuyez sur 9.";
    let confirmed = "Merci, votre table est confirmée. Au plaisir de vous accueillir.";
    let voice = Voice {
        profile: "fr-FR-HortenseRUS",
        speed: 1.0,
        failure: "Choix non valide, veuillez réessayer.",
    };
    // The first prompt is the Send Callflow's own sayAndCapture.
    assert_eq!(
        played.record["events"][0]["body"]["callflow"][1],
        voice.capture_action(prompt)
    );
    assert_eq!(
        played.replies,
        [voice.say_and_hang_up("RES42_20250420_2130_Chez_Luigi", confirmed)]
    );
    assert_eq!(
        played.transcript,
        [
            heard(prompt),
            pressed("1"),
            heard(confirmed),
            "hangup by app".to_owned()
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "1", "promptsPlayed": 1, "step": "done",
            "template": "restaurant", "language": "fr-FR",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
}

#[tokio::test]
async fn a_salon_call_names_the_customer_and_the_stylist_and_confirms() {
    let app = spawn_app().await;
    script_customer(&app, "+6591230009", "1").await;

    let (played, call) = play(
        &app,
        &json!({
            "orderId": "CUT7",
            "customerPhone": "+6591230009",
            "businessName": "Studio Nova",
            "appointmentTime": "2025-04-20T19:30:00Z",
            "template": "salon",
            "customerName": "Anna",
            "staffName": "Maria",
            "staffPhone": STAFF_PHONE
        }),
    )
    .await;

    let prompt = "Hello, this is Studio Nova calling about your upcoming appointment. Anna, \
                  you're scheduled with Maria for Sunday, April 20th, 2025 at 7:30 PM. To \
                  confirm, press one. To cancel, press zero. To speak with Maria, press two. To \
                  hear the details again, press nine.";
    let confirmed = "Thank you, your appointment is confirmed. See you soon!";
    assert_eq!(
        played.record["events"][0]["body"]["callflow"][1],
        MEDICAL_EN.capture_action(prompt)
    );
    assert_eq!(
        played.replies,
        [MEDICAL_EN.say_and_hang_up("CUT7_20250420_1930_Studio_Nova", confirmed)]
    );
    assert_eq!(
        played.transcript,
        [
            heard(prompt),
            pressed("1"),
            heard(confirmed),
            "hangup by app".to_owned()
        ]
    );
    assert_eq!(outcome(&call)["status"], "confirmed");
    assert_eq!(outcome(&call)["template"], "salon");
}

/// What README's "try it" promises a new user: `callconfirm --simulate`, a Spanish medical
/// call in Madrid time for a customer scripted to press 9 then 1.
#[tokio::test]
async fn a_new_user_with_simulate_hears_the_spanish_prompt_twice_and_confirms() {
    let database_url = crate::databases::fresh_sqlite_url();
    let running = process::start(
        &["--simulate"],
        &[
            ("SIMULATOR_PORT", "0".to_owned()),
            ("SIMULATOR_TIMING", "instant".to_owned()),
            ("SIMULATOR_CUSTOMERS", "+34600111222=9,1".to_owned()),
            ("DATABASE_URL", database_url.clone()),
        ],
    );
    let simulator_url = running
        .simulator_url()
        .expect("the simulator's address is logged");
    let client = reqwest::Client::new();

    let response = client
        .post(format!("{}/api/make-call", running.address))
        .header("Authorization", basic("admin", "simulate-token"))
        .json(&json!({
            "orderId": "CITA-1",
            "customerPhone": "+34 600 111 222",
            "businessName": "Clínica Sonrisa",
            "appointmentTime": "2025-07-10T16:30:00Z",
            "template": "medical",
            "language": "es-ES",
            "timeZone": "Europe/Madrid"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    let session_id = answer["data"]["sessionId"].as_str().unwrap();
    let played = played(&client, &simulator_url, session_id).await;
    // The simulator ends a session's record only once the app has answered its VSS.
    let call: Value = client
        .get(format!("{}/api/calls/{session_id}", running.address))
        .header("Authorization", basic("admin", "simulate-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // 16:30 UTC is 18:30 in Madrid in July (CEST, UTC+2).
    let prompt = "Hola, le llamamos de Clínica Sonrisa para recordarle una cita. La cita es el \
                  jueves 10 de julio de 2025 a las 18:30. Para confirmar la cita, pulse 1. Para \
                  cancelarla, pulse 0. Para volver a escuchar los datos, pulse 9.";
    let repeated = prefixed("Le repetimos los datos de la cita.", prompt);
    let confirmed = "Gracias. La cita queda confirmada. Le esperamos.";
    assert_eq!(played.record["behaviour"], "scripted: 9,1");
    assert_eq!(
        played.transcript,
        [
            heard(prompt),
            pressed("9"),
            heard(&repeated),
            pressed("1"),
            heard(confirmed),
            "hangup by app".to_owned(),
        ]
    );
    let voice = Voice {
        profile: "es-ES-HelenaRUS",
        speed: 1.0,
        failure: "Opción no válida. Inténtelo de nuevo.",
    };
    let base = "CITA-1_20250710_1830_Clnica_Sonrisa";
    assert_eq!(
        played.replies,
        [
            voice.capture(&format!("{base}.main.2"), &repeated),
            voice.say_and_hang_up(base, confirmed),
        ]
    );
    assert_eq!(
        outcome(&call),
        json!({
            "status": "confirmed", "digits": "91", "promptsPlayed": 2, "step": "done",
            "template": "medical", "language": "es-ES",
            "sessionStatus": "COMPLETED", "callCount": 1,
            "timeline": [
                "placing:-->placing:-:-",
                "placed:placing->pending:-:-",
                "vca:pending->pending:repeated:9",
                "vca:pending->confirmed:confirmed:1",
                "vss:confirmed->confirmed:session_ended:-",
            ]
        })
    );
    drop(running);
    crate::databases::remove_sqlite(&database_url);
}

// ---------------------------------------------------------------------------------------------
// Custom templates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_example_templates_file_speaks_its_own_words_end_to_end() {
    let app = spawn_app_with(AppOptions {
        env: vec![("TEMPLATES_FILE", example_templates_file())],
        ..AppOptions::default()
    })
    .await;
    // my_clinic extends medical without the staff option: 2 is a wrong key even with a staff
    // number, then 1 confirms with the clinic's own words, voice and speed.
    script_customer(&app, "+6591230010", "2,1").await;
    // yoga_class is written from scratch: 0 cancels at once.
    script_customer(&app, "+6591230011", "0").await;

    let (clinic, clinic_call) = play(
        &app,
        &body(
            "+6591230010",
            json!({"template": "my_clinic", "staffPhone": STAFF_PHONE}),
        ),
    )
    .await;
    let (yoga, yoga_call) = play(
        &app,
        &json!({
            "orderId": "YOGA1",
            "customerPhone": "+6591230011",
            "businessName": "Lotus Studio",
            "appointmentTime": "2025-04-20T07:00:00Z",
            "template": "yoga_class",
            "customerName": "Sam",
            "staffName": "Priya"
        }),
    )
    .await;

    let clinic_voice = Voice {
        profile: "en-US-ZiraRUS",
        speed: 0.9,
        failure: MEDICAL_FAILURE,
    };
    let prompt = "Hello, this is Riverside Clinic with a reminder about your visit. Your visit \
                  is on Sunday, April 20th, 2025 at 7:30 PM. To confirm the appointment, press \
                  one. To cancel it, press zero. To hear these details again, press nine.";
    let confirmed = "Thank you, your visit is confirmed. Please arrive ten minutes early.";
    let reprompt = prefixed(MEDICAL_SORRY, prompt);
    assert_eq!(
        clinic.replies,
        [
            clinic_voice.capture(&format!("{RIVERSIDE}.main.2"), &reprompt),
            clinic_voice.say_and_hang_up(RIVERSIDE, confirmed),
        ]
    );
    assert_eq!(
        clinic.transcript,
        [
            heard(prompt),
            pressed("2"),
            heard(&reprompt),
            pressed("1"),
            heard(confirmed),
            "hangup by app".to_owned(),
        ]
    );
    assert_eq!(outcome(&clinic_call)["status"], "confirmed");
    assert_eq!(outcome(&clinic_call)["template"], "my_clinic");

    let yoga_prompt = "Hi, this is Lotus Studio about your yoga class. Sam, your class with Priya \
                       is on Sunday, April 20th, 2025 at 7 AM. To keep your spot, press one. To \
                       free it for someone else, press zero.";
    let released = "Your spot has been released. Thanks for letting us know.";
    assert_eq!(
        yoga.transcript,
        [
            heard(yoga_prompt),
            pressed("0"),
            heard(released),
            "hangup by app".to_owned()
        ]
    );
    assert_eq!(
        yoga.replies,
        [Voice {
            profile: "en-US-BenjaminRUS",
            speed: 1.0,
            failure: "Sorry, that is not a valid choice."
        }
        .say_and_hang_up("YOGA1_20250420_0700_Lotus_Studio", released)]
    );
    assert_eq!(outcome(&yoga_call)["status"], "cancelled");
}

#[tokio::test]
async fn a_voice_profile_the_account_lacks_is_refused_by_8x8_with_1002() {
    // Well formed and Spanish, so the app accepts it; only 8x8 knows the account's voices.
    let file = TempFile::new(
        "templates.toml",
        "[voice_profiles]\nes-ES = \"es-ES-AlvaroNeural\"\n",
    );
    let app = spawn_app_with(AppOptions {
        env: vec![("TEMPLATES_FILE", file.path())],
        ..AppOptions::default()
    })
    .await;

    let (status, answer) = app
        .make_call(&body(
            "+34600111223",
            json!({"template": "medical", "language": "es-ES"}),
        ))
        .await;

    let details = "8x8 answered HTTP 400 with statusCode -1002: Speech profile or language \
                   parameter invalid";
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        answer,
        json!({"success": false, "error": "8x8 request failed", "details": details})
    );
    let (_, page) = app.list_calls("").await;
    assert_eq!(page["calls"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["calls"][0]["status"], "not_placed");
    assert_eq!(page["calls"][0]["failure"], details);
    let stats = app.simulator_stats().await;
    assert_eq!(
        (&stats["callflowRequests"], &stats["sessionsCreated"]),
        (&json!(1), &json!(0))
    );

    // Other languages keep their own voices.
    let (status, _) = app.make_call(&medical("+6591230001")).await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Refusals: a clear message, and nothing reaches 8x8
// ---------------------------------------------------------------------------------------------

fn invalid(fields: &[(&str, &str)]) -> Value {
    json!({
        "success": false,
        "error": "invalid request",
        "details": fields
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; "),
        "fields": fields
            .iter()
            .map(|(field, message)| json!({"field": field, "message": message}))
            .collect::<Vec<_>>(),
    })
}

const UNKNOWN_TEMPLATE: &str = "unknown template \"spa\"; known templates: default, medical, \
    professional, restaurant, salon, vehicle_service";
const UNSUPPORTED_LANGUAGE: &str = "unsupported language \"pt-BR\"; supported languages: en-US, \
    en-GB, es-ES, fr-FR, de-DE, zh-CN, ja-JP";
const UNKNOWN_ZONE: &str =
    "unknown time zone \"Europe/Atlantis\"; use an IANA name such as America/New_York";

#[tokio::test]
async fn an_unknown_template_is_refused_listing_the_known_ones_and_nothing_is_placed() {
    let app = spawn_app().await;
    let (status, answer) = app
        .make_call(&body("+6591230001", json!({"template": "spa"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer, invalid(&[("template", UNKNOWN_TEMPLATE)]));
    assert_nothing_was_placed(&app).await;
}

#[tokio::test]
async fn an_unsupported_language_is_refused_listing_the_supported_ones_and_nothing_is_placed() {
    let app = spawn_app().await;
    let (status, answer) = app
        .make_call(&body(
            "+6591230001",
            json!({"template": "medical", "language": "pt-BR"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer, invalid(&[("language", UNSUPPORTED_LANGUAGE)]));
    assert_nothing_was_placed(&app).await;
}

#[tokio::test]
async fn an_unknown_time_zone_is_refused_and_nothing_is_placed() {
    let app = spawn_app().await;
    let (status, answer) = app
        .make_call(&body("+6591230001", json!({"timeZone": "Europe/Atlantis"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer, invalid(&[("timeZone", UNKNOWN_ZONE)]));
    assert_nothing_was_placed(&app).await;
}

#[tokio::test]
async fn every_script_problem_of_a_request_is_named_at_once() {
    let app = spawn_app().await;
    let (status, answer) = app
        .make_call(&body(
            "+6591230001",
            json!({"template": "spa", "language": "pt-BR", "timeZone": "Europe/Atlantis"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer,
        invalid(&[
            ("template", UNKNOWN_TEMPLATE),
            ("language", UNSUPPORTED_LANGUAGE),
            ("timeZone", UNKNOWN_ZONE),
        ])
    );
    assert_nothing_was_placed(&app).await;
}

#[tokio::test]
async fn a_local_appointment_time_is_read_in_the_zone_however_its_name_is_cased() {
    let app = spawn_app().await;
    script_customer(&app, "+34600111224", "1").await;

    let (played, call) = play(
        &app,
        &body(
            "+34600111224",
            json!({
                "appointmentTime": "2025-07-10T18:30",
                "timeZone": "europe/madrid",
                "language": "es-ES"
            }),
        ),
    )
    .await;

    assert_eq!(
        played.transcript[0],
        heard(
            "Hola, tiene una cita en Riverside Clinic el 10 de julio de 2025 a las 18:30. \
             ¿Podrá acudir a la hora prevista? Si es así, pulse 1. Si desea cancelarla, pulse 0."
        )
    );
    assert_eq!(call["appointmentTime"], "2025-07-10T18:30");
    assert_eq!(call["status"], "confirmed");
}

#[tokio::test]
async fn a_templates_file_with_a_template_too_long_to_speak_stops_startup() {
    let file = TempFile::new(
        "templates.toml",
        &format!(
            "[templates.long_clinic]\nextends = \"medical\"\n\
             [templates.long_clinic.languages.en-US]\nprompt = \"Hello, this is {{business}}. {}\"\n",
            "Please listen carefully. ".repeat(120).trim_end()
        ),
    );
    let database_url = crate::databases::fresh_sqlite_url();

    let (code, stdout, stderr) = process::run(
        &["--simulate"],
        &[
            ("HOST", "127.0.0.1".to_owned()),
            ("PORT", "0".to_owned()),
            ("SIMULATOR_PORT", "0".to_owned()),
            ("DATABASE_URL", database_url.clone()),
            ("TEMPLATES_FILE", file.path()),
        ],
    )
    .await;

    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(
        stderr,
        format!(
            "callconfirm: invalid templates: {}: template \"long_clinic\", field \
             \"languages.en-US.prompt\": too long: repeat_prefix + prompt would be 3290 \
             characters even with one-letter names; 8x8 speaks at most 3000\n",
            file.path()
        )
    );
    // Nothing was started: no database was created.
    assert!(!Path::new(database_url.trim_start_matches("sqlite:")).exists());
}
