//! Durability and idempotency end to end: real `callconfirm` processes killed with SIGKILL and
//! restarted on the same database, two processes sharing one PostgreSQL database, webhooks
//! replayed in random order, concurrent make-calls with one Idempotency-Key, listing calls, bad
//! input that must never reach the store, and the live-session cache emptying itself.
//!
//! The simulator keeps its customers ringing for a minute in most of these tests, so that the
//! test plays 8x8's part and decides exactly which webhook arrives where and when.

use crate::databases;
use crate::helpers::APPOINTMENT_ACTION_ID as BASE;
use crate::helpers::APPOINTMENT_PROMPT as PROMPT;
use crate::helpers::say_and_hangup;
use crate::helpers::{
    API_KEY, AppOptions, OUTBOUND, SUBACCOUNT, TOKEN, TestApp, TestSimulator, appointment,
    arm_simulator_fault, basic, simulator_client, spawn_app_with, start_simulator,
    wait_for_summary,
};
use crate::process::{self, Running};
use callconfirm::registration;
use callconfirm::store::STOPPED_BEFORE_ANSWER;
use callconfirm::voice::simulator::{SimulatorConfig, SimulatorTiming};
use futures::future::join_all;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const CONFIRMED: &str =
    "Thank you for confirming. We look forward to seeing you at your appointment time.";
const CANCELLED: &str = "Your appointment has been cancelled. Thank you for letting us know.";

// ---------------------------------------------------------------------------------------------
// The pieces every scenario uses
// ---------------------------------------------------------------------------------------------

/// Customers take a minute to answer: no webhook comes from the simulator during a test.
fn ringing(config: &mut SimulatorConfig) {
    config.timing = SimulatorTiming {
        ring: Duration::from_secs(60),
        ..SimulatorTiming::instant()
    };
}

async fn ringing_simulator() -> TestSimulator {
    start_simulator(ringing).await
}

/// The in-process application on `database_url`, its customers ringing.
async fn app_with_ringing_calls(database_url: String) -> TestApp {
    spawn_app_with(AppOptions {
        configure_simulator: Box::new(ringing),
        register_webhooks: false,
        database_url: Some(database_url),
        ..AppOptions::default()
    })
    .await
}

/// A client of one callconfirm instance: the business's API (Basic auth) and 8x8's webhooks.
#[derive(Clone)]
struct Api {
    address: String,
    client: reqwest::Client,
}

impl Api {
    fn new(address: &str) -> Api {
        Api {
            address: address.to_owned(),
            client: reqwest::Client::new(),
        }
    }

    /// The status and the JSON body (the raw text as a JSON string if it is not JSON).
    async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    fn make_call_request(&self, key: Option<&str>) -> reqwest::RequestBuilder {
        let request = self
            .client
            .post(format!("{}/api/make-call", self.address))
            .header("Authorization", basic("admin", TOKEN));
        match key {
            Some(key) => request.header("Idempotency-Key", key),
            None => request,
        }
    }

    async fn make_call(&self, body: &Value, key: Option<&str>) -> (StatusCode, Value) {
        Self::send(self.make_call_request(key).json(body)).await
    }

    /// Places a call that 8x8 accepts: its (sessionId, callId).
    async fn place(&self, body: &Value) -> (String, String) {
        let (status, answer) = self.make_call(body, None).await;
        assert_eq!(status, StatusCode::OK, "make-call failed: {answer}");
        (
            answer["data"]["sessionId"].as_str().unwrap().to_owned(),
            answer["callId"].as_str().unwrap().to_owned(),
        )
    }

    /// `GET {path_and_query}` with the business's credentials.
    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        Self::send(
            self.client
                .get(format!("{}{path_and_query}", self.address))
                .header("Authorization", basic("admin", TOKEN)),
        )
        .await
    }

    /// `GET /api/calls/{id}`, which must succeed.
    async fn call(&self, id: &str) -> Value {
        let (status, call) = self.get(&format!("/api/calls/{id}")).await;
        assert_eq!(status, StatusCode::OK, "GET /api/calls/{id}: {call}");
        call
    }

    /// `GET /api/calls{query}`, which must succeed.
    async fn list(&self, query: &str) -> Value {
        let (status, page) = self.get(&format!("/api/calls{query}")).await;
        assert_eq!(status, StatusCode::OK, "GET /api/calls{query}: {page}");
        page
    }

    /// Posts a webhook as 8x8 does (`kind` is `vca` or `vss`).
    async fn webhook(&self, kind: &str, event: &Value) -> (StatusCode, Value) {
        Self::send(
            self.client
                .post(format!("{}/api/webhooks/{kind}", self.address))
                .header("Authorization", TOKEN)
                .json(event),
        )
        .await
    }
}

/// A real `callconfirm` process and a client of its API.
struct Server {
    process: Running,
    api: Api,
}

impl Server {
    /// Starts the binary on `database_url` against `simulator` and registers its webhooks
    /// there, as `callconfirm register-webhooks` does.
    async fn start(
        simulator: &TestSimulator,
        database_url: &str,
        extra_env: &[(&'static str, String)],
    ) -> Server {
        let mut env = vec![
            ("EIGHT_X_EIGHT_API_KEY", API_KEY.to_owned()),
            ("EIGHT_X_EIGHT_SUBACCOUNT_ID", SUBACCOUNT.to_owned()),
            ("OUTBOUND_PHONE_NUMBER", OUTBOUND.to_owned()),
            ("WEBHOOK_AUTH_TOKEN", TOKEN.to_owned()),
            ("EIGHT_X_EIGHT_BASE_URL", simulator.url.clone()),
            ("DATABASE_URL", database_url.to_owned()),
        ];
        env.extend_from_slice(extra_env);
        // Waiting for the child's "listening" line blocks: keep the runtime (and with it the
        // simulator) free meanwhile.
        let process = tokio::task::spawn_blocking(move || process::start(&[], &env))
            .await
            .unwrap();
        let requests = registration::plan(&process.address, &SecretString::from(TOKEN));
        registration::register(&simulator_client(&simulator.url), &requests)
            .await
            .unwrap();
        Server {
            api: Api::new(&process.address),
            process,
        }
    }

    /// SIGKILL: the process gets no chance to finish anything.
    fn kill_hard(self) {
        self.process.kill_hard();
    }
}

async fn simulator_stats(simulator: &TestSimulator) -> Value {
    reqwest::get(format!("{}/_simulator/stats", simulator.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn fixture(name: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/8x8")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// 8x8's VCA for `session_id`: the customer pressed `dtmf` at the prompt `answering` (`None`
/// for the first prompt, whose clientActionId 8x8 does not echo, CONTRACT A-4).
fn vca(session_id: &str, event_id: &str, dtmf: &str, answering: Option<&str>) -> Value {
    let mut event = fixture("vca-dtmf-1.json");
    let payload = &mut event["payload"];
    payload["sessionId"] = json!(session_id);
    payload["eventId"] = json!(event_id);
    payload["eventData"] = json!({ "dtmf": dtmf });
    match answering {
        Some(prompt) => payload["clientActionId"] = json!(prompt),
        None => {
            payload.as_object_mut().unwrap().remove("clientActionId");
        }
    }
    event
}

/// 8x8's summary of a completed session.
fn vss(session_id: &str) -> Value {
    let mut event = fixture("vss-ivr-completed-hangup.json");
    event["payload"]["sessionId"] = json!(session_id);
    event
}

/// The session as stored from [`vss`].
fn completed_session() -> Value {
    json!({
        "sessionStatus": "COMPLETED", "lastAction": "HANGUP", "errorDetails": null,
        "callDuration": 16, "startTime": "2026-01-13T08:31:51Z", "endTime": "2026-01-13T08:32:08Z",
        "callCount": 1
    })
}

fn ack() -> (StatusCode, Value) {
    (StatusCode::OK, json!({"status": "ok"}))
}

fn confirmation() -> Value {
    say_and_hangup(CONFIRMED)
}

/// The second prompt, after a wrong key.
fn reprompt() -> Value {
    json!({
        "clientActionId": format!("{BASE}.main.2"),
        "callflow": [{"action": "sayAndCapture", "params": {
            "promptMessage": format!("Sorry, we did not get a valid answer. {PROMPT}"),
            "voiceProfile": "en-US-BenjaminRUS", "repetition": 2, "speed": 1,
            "minDigits": 1, "maxDigits": 1, "digitTimeout": 10000, "overallTimeout": 10000,
            "completeOnHash": false, "noOfTries": 2, "successMessage": null,
            "failureMessage": "Invalid input, please try again"
        }}]
    })
}

/// The reply when nobody is listening any more.
fn hangup_only() -> Value {
    json!({"clientActionId": BASE, "callflow": [{"action": "hangup"}]})
}

/// A timeline entry without its time.
fn entry(
    event: &str,
    from: Option<&str>,
    to: &str,
    effect: Option<&str>,
    digits: Option<&str>,
) -> Value {
    json!({"event": event, "from": from, "to": to, "effect": effect, "digits": digits})
}

/// The first two entries of every call 8x8 accepted.
fn placed() -> Vec<Value> {
    vec![
        entry("placing", None, "placing", None, None),
        entry("placed", Some("placing"), "pending", None, None),
    ]
}

/// The customer pressed 1 at the first prompt.
fn confirmed_by_key() -> Value {
    entry(
        "vca",
        Some("pending"),
        "confirmed",
        Some("confirmed"),
        Some("1"),
    )
}

/// 8x8's summary of a confirmed call.
fn summary_after_confirmation() -> Value {
    entry(
        "vss",
        Some("confirmed"),
        "confirmed",
        Some("session_ended"),
        None,
    )
}

fn with(mut entries: Vec<Value>, more: impl IntoIterator<Item = Value>) -> Vec<Value> {
    entries.extend(more);
    entries
}

/// The call's timeline, each entry whole except its time (checked to be RFC 3339).
fn transitions(call: &Value) -> Vec<Value> {
    call["timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline: {call}"))
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            let at = entry.as_object_mut().unwrap().remove("at").unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap()).is_ok(),
                "{at}"
            );
            entry
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// (a) SIGKILL and restart
// ---------------------------------------------------------------------------------------------

/// A call placed by a process that is then killed is answered, confirmed and summarised by
/// the next process on the same database, and a third one still shows it.
async fn a_call_survives_a_sigkill(database_url: String) {
    let simulator = ringing_simulator().await;
    let first = Server::start(&simulator, &database_url, &[]).await;
    let (session_id, call_id) = first.api.place(&appointment("+6591234561")).await;
    first.kill_hard();

    let second = Server::start(&simulator, &database_url, &[]).await;
    let reply = second
        .api
        .webhook("vca", &vca(&session_id, "ev-confirm", "1", None))
        .await;
    assert_eq!(reply, (StatusCode::OK, confirmation()));
    let call = second.api.call(&session_id).await;
    assert_eq!(
        json!([
            call["callId"],
            call["status"],
            call["digits"],
            call["session"]
        ]),
        json!([call_id, "confirmed", "1", null])
    );
    assert_eq!(transitions(&call), with(placed(), [confirmed_by_key()]));

    assert_eq!(second.api.webhook("vss", &vss(&session_id)).await, ack());
    let call = second.api.call(&session_id).await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["session"], completed_session());
    assert_eq!(
        transitions(&call),
        with(placed(), [confirmed_by_key(), summary_after_confirmation()])
    );
    second.kill_hard();

    let third = Server::start(&simulator, &database_url, &[]).await;
    assert_eq!(third.api.call(&session_id).await, call);
    assert_eq!(third.api.call(&call_id).await, call);
}

#[tokio::test]
async fn a_call_placed_before_a_sigkill_is_confirmed_through_the_restarted_process_on_sqlite() {
    databases::on_sqlite(|_, url| a_call_survives_a_sigkill(url)).await;
}

#[tokio::test]
async fn a_call_placed_before_a_sigkill_is_confirmed_through_the_restarted_process_on_postgres() {
    databases::on_postgres(|_, url| a_call_survives_a_sigkill(url)).await;
}

/// The volatile store keeps its promise in both directions: a call is confirmed as on any
/// store, and the next process knows nothing of it (its webhooks get the unknown session's
/// apology), as README says; the process warns about it when it starts.
#[tokio::test]
async fn a_volatile_store_confirms_a_call_and_forgets_it_at_restart() {
    let simulator = ringing_simulator().await;
    let first = Server::start(&simulator, "memory:", &[]).await;
    let volatile_warning = |server: &Server| {
        server.process.output().lines().any(|line| {
            serde_json::from_str::<Value>(line).is_ok_and(|line| {
                line["level"] == "WARN"
                    && line["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("VOLATILE STORE (DATABASE_URL=memory:)"))
            })
        })
    };
    assert!(volatile_warning(&first), "{}", first.process.output());
    let (session_id, call_id) = first.api.place(&appointment("+6591234561")).await;
    let reply = first
        .api
        .webhook("vca", &vca(&session_id, "ev-confirm", "1", None))
        .await;
    assert_eq!(reply, (StatusCode::OK, confirmation()));
    let call = first.api.call(&session_id).await;
    assert_eq!(
        json!([call["callId"], call["status"], call["digits"]]),
        json!([call_id, "confirmed", "1"])
    );
    assert_eq!(transitions(&call), with(placed(), [confirmed_by_key()]));
    first.kill_hard();

    let second = Server::start(&simulator, "memory:", &[]).await;
    let (status, _) = second.api.get(&format!("/api/calls/{call_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, reply) = second.api.webhook("vss", &vss(&session_id)).await;
    assert_eq!((status, reply), ack());
    assert_eq!(second.api.list("").await["calls"], json!([]));
}

/// Polls `GET /api/calls` until `ready` holds for the page; gives up after 10 s.
async fn wait_for_page(api: &Api, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = api.list("").await;
        if ready(&page) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {page}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_call_left_placing_by_a_killed_process_is_unknown_after_restart_and_never_dialled_again()
{
    databases::on_sqlite(|_, url| async move {
        let simulator = ringing_simulator().await;
        // 8x8 creates the session but answers 30 s late: the process dies in between.
        arm_simulator_fault(&simulator.url, json!({"delayMs": 30000})).await;
        let patient = [("EIGHT_X_EIGHT_TIMEOUT_MS", "60000".to_owned())];
        let first = Server::start(&simulator, &url, &patient).await;
        let request = first
            .api
            .make_call_request(None)
            .json(&appointment("+6591234561"));
        let client_side = tokio::spawn(async move { request.send().await.map(|r| r.status()) });
        let page = wait_for_page(&first.api, |page| page["calls"][0]["status"] == "placing").await;
        let call_id = page["calls"][0]["callId"].as_str().unwrap().to_owned();
        first.kill_hard();
        let answer = client_side.await.unwrap();
        assert!(answer.is_err(), "the client got an answer: {answer:?}");

        let second = Server::start(&simulator, &url, &patient).await;
        let call = second.api.call(&call_id).await;
        assert_eq!(
            json!([
                call["status"],
                call["failure"],
                call["sessionId"],
                call["callFlowRequestId"]
            ]),
            json!(["unknown", STOPPED_BEFORE_ANSWER, null, null])
        );
        assert_eq!(
            transitions(&call),
            vec![
                entry("placing", None, "placing", None, None),
                entry("in_doubt", Some("placing"), "unknown", None, None),
            ]
        );
        let page = second.api.list("").await;
        assert_eq!(page["calls"], json!([call]));
        // 8x8 was asked once (and did create the session): nobody dials the customer again.
        let stats = simulator_stats(&simulator).await;
        assert_eq!(
            (&stats["callflowRequests"], &stats["sessionsCreated"]),
            (&json!(1), &json!(1)),
            "{stats}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// (b) Two processes, one PostgreSQL database
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_processes_sharing_postgres_serve_one_call_and_both_show_its_outcome() {
    databases::on_postgres(|_, url| async move {
        let simulator = ringing_simulator().await;
        let first = Server::start(&simulator, &url, &[]).await;
        let second = Server::start(&simulator, &url, &[]).await;

        let (session_id, call_id) = first.api.place(&appointment("+6591234561")).await;
        let reply = second
            .api
            .webhook("vca", &vca(&session_id, "ev-1", "1", None))
            .await;
        assert_eq!(reply, (StatusCode::OK, confirmation()));
        assert_eq!(second.api.webhook("vss", &vss(&session_id)).await, ack());
        let call = first.api.call(&session_id).await;
        assert_eq!(second.api.call(&session_id).await, call);
        assert_eq!(second.api.call(&call_id).await, call);
        assert_eq!(call["status"], "confirmed");
        assert_eq!(call["session"], completed_session());
        let confirmed_then_summarised =
            with(placed(), [confirmed_by_key(), summary_after_confirmation()]);
        assert_eq!(transitions(&call), confirmed_then_summarised);

        // The first process still holds this call as pending in its cache when the second
        // confirms it; the summary then reaches the first, which must not undo the decision.
        let (session_id, _) = first.api.place(&appointment("+6591234562")).await;
        let confirm = vca(&session_id, "ev-2", "1", None);
        assert_eq!(
            second.api.webhook("vca", &confirm).await,
            (StatusCode::OK, confirmation())
        );
        assert_eq!(first.api.webhook("vss", &vss(&session_id)).await, ack());
        // 8x8 re-delivers the VCA to the first process: the second's answer, no change.
        assert_eq!(
            first.api.webhook("vca", &confirm).await,
            (StatusCode::OK, confirmation())
        );
        let call = second.api.call(&session_id).await;
        assert_eq!(first.api.call(&session_id).await, call);
        assert_eq!(call["status"], "confirmed");
        assert_eq!(transitions(&call), confirmed_then_summarised);

        let listed = first.api.list("").await;
        assert_eq!(listed, second.api.list("").await);
        assert_eq!(listed["calls"].as_array().unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn one_vca_delivered_to_two_processes_at_once_makes_exactly_one_transition() {
    databases::on_postgres(|_, url| async move {
        let simulator = ringing_simulator().await;
        let first = Server::start(&simulator, &url, &[]).await;
        let second = Server::start(&simulator, &url, &[]).await;
        for index in 0..4 {
            let placer = if index % 2 == 0 { &first } else { &second };
            let (session_id, _) = placer
                .api
                .place(&appointment(&format!("+659123456{index}")))
                .await;
            let wrong = vca(&session_id, &format!("ev-{index}-wrong"), "3", None);
            let (on_first, on_second) = tokio::join!(
                first.api.webhook("vca", &wrong),
                second.api.webhook("vca", &wrong)
            );
            assert_eq!(on_first, (StatusCode::OK, reprompt()), "call {index}");
            assert_eq!(on_second, on_first, "call {index}");
            let confirm = vca(
                &session_id,
                &format!("ev-{index}-confirm"),
                "1",
                Some(&format!("{BASE}.main.2")),
            );
            let (on_first, on_second) = tokio::join!(
                first.api.webhook("vca", &confirm),
                second.api.webhook("vca", &confirm)
            );
            assert_eq!(on_first, (StatusCode::OK, confirmation()), "call {index}");
            assert_eq!(on_second, on_first, "call {index}");
            let call = first.api.call(&session_id).await;
            assert_eq!(call["digits"], "31", "call {index}");
            assert_eq!(
                transitions(&call),
                expected_transitions(&[Hook::WrongKey, Hook::Confirm]),
                "call {index}"
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// (c) Every webhook replayed five times in random order
// ---------------------------------------------------------------------------------------------

/// The three webhooks of a call where the customer presses a wrong key, then 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Hook {
    WrongKey,
    Confirm,
    Summary,
}

const REPLAYS: usize = 5;
/// Fixed, so that a failure can be replayed (each is printed with every assertion), and chosen
/// so that the summary's first delivery comes, in turn: before the wrong key's (2), in the
/// same concurrent round (6), between the two keys (4), with the confirmation's (0), last (10).
const REPLAY_SEEDS: [u64; 5] = [2, 6, 4, 0, 10];

/// Five deliveries of each webhook in a random order, cut into rounds of up to four that are
/// sent concurrently. The first delivery of the wrong key ends its round, so it is answered
/// before any delivery of the confirmation is sent: 8x8 only asks for the second key after
/// playing the re-prompt. The summary may come anywhere, even first.
fn delivery_plan(rng: &mut StdRng) -> Vec<Vec<Hook>> {
    let mut order: Vec<Hook> = [Hook::WrongKey, Hook::Confirm, Hook::Summary]
        .into_iter()
        .flat_map(|hook| [hook; REPLAYS])
        .collect();
    order.shuffle(rng);
    let first = |order: &[Hook], hook| order.iter().position(|h| *h == hook).unwrap();
    let (wrong, confirm) = (first(&order, Hook::WrongKey), first(&order, Hook::Confirm));
    if confirm < wrong {
        order.swap(confirm, wrong);
    }
    let first_wrong = first(&order, Hook::WrongKey);
    let mut rounds = Vec::new();
    let mut round = Vec::new();
    for (index, hook) in order.into_iter().enumerate() {
        round.push(hook);
        if index == first_wrong || round.len() >= rng.random_range(1..=4) {
            rounds.push(std::mem::take(&mut round));
        }
    }
    if !round.is_empty() {
        rounds.push(round);
    }
    rounds
}

/// What the IVR records for the webhooks in the order they took effect (the rules of
/// `ivr::machine` for this script, written out).
fn expected_transitions(applied: &[Hook]) -> Vec<Value> {
    let mut status = "pending";
    let mut summarised = false;
    let after_placed = applied.iter().map(|hook| {
        let from = status;
        let (event, to, effect, digits) = match hook {
            Hook::WrongKey if summarised => ("vca", "no_response", "reprompted", Some("3")),
            Hook::WrongKey => ("vca", "pending", "reprompted", Some("3")),
            Hook::Confirm => ("vca", "confirmed", "confirmed", Some("1")),
            // The customer answered (COMPLETED): a call still pending becomes no_response.
            Hook::Summary if status == "pending" => ("vss", "no_response", "session_ended", None),
            Hook::Summary => ("vss", status, "session_ended", None),
        };
        summarised |= *hook == Hook::Summary;
        status = to;
        entry(event, Some(from), to, Some(effect), digits)
    });
    with(placed(), after_placed.collect::<Vec<_>>())
}

/// Which webhook made each transition after the placement, read from the timeline.
fn applied_hooks(call: &Value) -> Vec<Hook> {
    transitions(call)
        .iter()
        .skip(2)
        .map(
            |entry| match (entry["event"].as_str(), entry["digits"].as_str()) {
                (Some("vss"), _) => Hook::Summary,
                (Some("vca"), Some("3")) => Hook::WrongKey,
                (Some("vca"), Some("1")) => Hook::Confirm,
                _ => panic!("unexpected timeline entry {entry}"),
            },
        )
        .collect()
}

async fn replayed_webhooks_make_one_transition_each(database_url: String) {
    let app = app_with_ringing_calls(database_url).await;
    let api = Api::new(&app.address);
    for (index, seed) in REPLAY_SEEDS.into_iter().enumerate() {
        let plan = delivery_plan(&mut StdRng::seed_from_u64(seed));
        let context = format!("seed {seed}, rounds {plan:?}");
        let (session_id, _) = api.place(&appointment(&format!("+659123457{index}"))).await;
        let events = HashMap::from([
            (
                Hook::WrongKey,
                (
                    "vca",
                    vca(&session_id, &format!("ev-{seed}-wrong"), "3", None),
                ),
            ),
            (
                Hook::Confirm,
                (
                    "vca",
                    vca(
                        &session_id,
                        &format!("ev-{seed}-confirm"),
                        "1",
                        Some(&format!("{BASE}.main.2")),
                    ),
                ),
            ),
            (Hook::Summary, ("vss", vss(&session_id))),
        ]);
        let mut answers: HashMap<Hook, Vec<(StatusCode, Value)>> = HashMap::new();
        for round in &plan {
            let sent = join_all(round.iter().map(|hook| {
                let (kind, event) = &events[hook];
                api.webhook(kind, event)
            }))
            .await;
            for (hook, answer) in round.iter().zip(sent) {
                answers.entry(*hook).or_default().push(answer);
            }
        }

        let call = api.call(&session_id).await;
        let applied = applied_hooks(&call);
        let mut distinct = applied.clone();
        distinct.sort_by_key(|hook| *hook as u8);
        assert_eq!(
            distinct,
            vec![Hook::WrongKey, Hook::Confirm, Hook::Summary],
            "exactly one transition per webhook; {context}\n{call}"
        );
        // Rounds run one after the other: a webhook first sent in an earlier round took
        // effect earlier (within a round, either order is right).
        let first_round = |hook| plan.iter().position(|round| round.contains(&hook)).unwrap();
        for (earlier, later) in applied.iter().zip(applied.iter().skip(1)) {
            assert!(
                first_round(*earlier) <= first_round(*later),
                "{earlier:?} took effect before {later:?}; {context}"
            );
        }
        assert_eq!(
            transitions(&call),
            expected_transitions(&applied),
            "{context}"
        );
        assert_eq!(
            (&call["status"], &call["digits"], &call["session"]),
            (&json!("confirmed"), &json!("31"), &completed_session()),
            "{context}"
        );

        let position = |hook| applied.iter().position(|h| *h == hook).unwrap();
        let wrong_key_reply = if position(Hook::Summary) < position(Hook::WrongKey) {
            hangup_only()
        } else {
            reprompt()
        };
        let expected = HashMap::from([
            (Hook::WrongKey, (StatusCode::OK, wrong_key_reply)),
            (Hook::Confirm, (StatusCode::OK, confirmation())),
            (Hook::Summary, ack()),
        ]);
        for (hook, got) in &answers {
            assert_eq!(
                got,
                &vec![expected[hook].clone(); REPLAYS],
                "{hook:?}; {context}"
            );
        }
    }
}

#[tokio::test]
async fn every_webhook_replayed_five_times_in_random_order_makes_one_transition_on_sqlite() {
    databases::on_sqlite(|_, url| replayed_webhooks_make_one_transition_each(url)).await;
}

#[tokio::test]
async fn every_webhook_replayed_five_times_in_random_order_makes_one_transition_in_memory() {
    replayed_webhooks_make_one_transition_each("memory:".into()).await;
}

#[tokio::test]
async fn every_webhook_replayed_five_times_in_random_order_makes_one_transition_on_postgres() {
    databases::on_postgres(|_, url| replayed_webhooks_make_one_transition_each(url)).await;
}

// ---------------------------------------------------------------------------------------------
// (d) One Idempotency-Key, many requests
// ---------------------------------------------------------------------------------------------

async fn one_idempotency_key_places_one_call(database_url: String) {
    let app = app_with_ringing_calls(database_url).await;
    let api = Api::new(&app.address);
    let body = appointment("+6591234561");
    let key = "APT123-first-attempt";

    let answers = join_all((0..20).map(|_| api.make_call(&body, Some(key)))).await;
    let first = answers[0].clone();
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(answers, vec![first.clone(); 20]);
    assert_eq!(app.simulator_stats().await["callflowRequests"], 1);
    let page = api.list("").await;
    let calls = page["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{page}");
    assert_eq!(calls[0]["callId"], first.1["callId"]);

    // After completion: the first answer again, 8x8 not asked again; the order of the body's
    // keys does not make it another request.
    assert_eq!(api.make_call(&body, Some(key)).await, first);
    let reordered = r#"{"orderId": "APT123", "customerPhone": "+6591234561",
        "businessName": "Bright Smile Dental", "appointmentTime": "2025-04-20T19:30:00Z"}"#;
    let replayed = Api::send(
        api.make_call_request(Some(key))
            .header("Content-Type", "application/json")
            .body(reordered),
    )
    .await;
    assert_eq!(replayed, first);

    // The same key with another body is refused, naming the header.
    let mut other = body.clone();
    other["orderId"] = json!("APT124");
    assert_eq!(
        api.make_call(&other, Some(key)).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "success": false,
                "error": "idempotency key reused",
                "details": "this Idempotency-Key was first used with a different request body",
                "fields": [{"field": "Idempotency-Key", "message": "already used with a different request body"}]
            })
        )
    );
    assert_eq!(app.simulator_stats().await["callflowRequests"], 1);
    assert_eq!(api.list("").await["calls"].as_array().unwrap().len(), 1);

    // A request that 8x8 refused is replayed as refused: 8x8 is not asked a second time.
    arm_simulator_fault(&app.simulator.url, json!({"status": 500})).await;
    let refused = api.make_call(&other, Some("APT124-first-attempt")).await;
    assert_eq!(
        refused,
        (
            StatusCode::BAD_GATEWAY,
            json!({
                "success": false,
                "error": "8x8 request failed",
                "details": "8x8 answered HTTP 500 with statusCode 500: Internal server error"
            })
        )
    );
    assert_eq!(
        api.make_call(&other, Some("APT124-first-attempt")).await,
        refused
    );
    assert_eq!(app.simulator_stats().await["callflowRequests"], 2);
    let page = api.list("").await;
    let statuses: Vec<&Value> = page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| &call["status"])
        .collect();
    assert_eq!(statuses, vec!["not_placed", "pending"]);
}

#[tokio::test]
async fn twenty_concurrent_make_calls_with_one_idempotency_key_place_one_call_on_sqlite() {
    databases::on_sqlite(|_, url| one_idempotency_key_places_one_call(url)).await;
}

#[tokio::test]
async fn twenty_concurrent_make_calls_with_one_idempotency_key_place_one_call_in_memory() {
    one_idempotency_key_places_one_call("memory:".into()).await;
}

#[tokio::test]
async fn twenty_concurrent_make_calls_with_one_idempotency_key_place_one_call_on_postgres() {
    databases::on_postgres(|_, url| one_idempotency_key_places_one_call(url)).await;
}

// ---------------------------------------------------------------------------------------------
// GET /api/calls
// ---------------------------------------------------------------------------------------------

fn call_ids(page: &Value) -> Vec<String> {
    page["calls"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|call| call["callId"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows `nextCursor` from `query` to the last page; the ids of every page.
async fn every_page(api: &Api, query: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut page = api.list(&format!("?{query}")).await;
    loop {
        pages.push(call_ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                page = api.list(&format!("?{query}&cursor={cursor}")).await;
            }
            None => return pages,
        }
    }
}

fn invalid(field: &str, message: &str) -> (StatusCode, Value) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "success": false,
            "error": "invalid request",
            "details": format!("{field}: {message}"),
            "fields": [{"field": field, "message": message}]
        }),
    )
}

async fn listing_calls(database_url: String) {
    // The simulator plays each call out: numbers ending in 1 confirm, 2 never answer, 3 are
    // busy.
    let app = spawn_app_with(AppOptions {
        database_url: Some(database_url),
        ..AppOptions::default()
    })
    .await;
    let api = Api::new(&app.address);
    let placed = [
        ("LIST-A", "+6591234561", "confirmed"),
        ("LIST-B", "+6591234562", "unreachable"),
        ("LIST-A", "+6591234563", "unreachable"),
        ("LIST-C", "+6591234571", "confirmed"),
        ("LIST-B", "+6591234581", "confirmed"),
        ("LIST-A", "+6591234572", "unreachable"),
        ("LIST-C", "+6591234591", "confirmed"),
    ];
    let mut oldest_first = Vec::new();
    for (order_id, phone, _) in placed {
        let mut body = appointment(phone);
        body["orderId"] = json!(order_id);
        oldest_first.push(api.place(&body).await);
    }
    for ((session_id, _), (_, _, status)) in oldest_first.iter().zip(placed) {
        let call = wait_for_summary(&api.client, &api.address, TOKEN, session_id).await;
        assert_eq!(call["status"], status, "{call}");
    }
    let ids_where = |keep: &dyn Fn(&(&str, &str, &str)) -> bool| -> Vec<String> {
        oldest_first
            .iter()
            .zip(placed)
            .rev()
            .filter(|(_, call)| keep(call))
            .map(|((_, call_id), _)| call_id.clone())
            .collect()
    };
    let newest_first = ids_where(&|_| true);

    let all = api.list("?limit=500").await;
    assert_eq!(call_ids(&all), newest_first);
    assert_eq!(all["nextCursor"], Value::Null);
    assert_eq!(api.list("").await, all);
    // Each call is listed whole, timeline included, as GET /api/calls/{id} shows it.
    for call in all["calls"].as_array().unwrap() {
        assert_eq!(call, &api.call(call["callId"].as_str().unwrap()).await);
        let events: Vec<Value> = transitions(call)
            .iter()
            .map(|entry| entry["event"].clone())
            .collect();
        let expected = match call["status"].as_str() {
            Some("confirmed") => json!(["placing", "placed", "vca", "vss"]),
            _ => json!(["placing", "placed", "vss"]),
        };
        assert_eq!(json!(events), expected, "{call}");
    }

    // Filters.
    for status in ["confirmed", "unreachable"] {
        let page = api.list(&format!("?status={status}")).await;
        assert_eq!(call_ids(&page), ids_where(&|call| call.2 == status));
    }
    assert_eq!(
        call_ids(&api.list("?status=cancelled").await),
        Vec::<String>::new()
    );
    let page = api.list("?orderId=LIST-A").await;
    assert_eq!(call_ids(&page), ids_where(&|call| call.0 == "LIST-A"));
    let page = api.list("?orderId=LIST-A&status=unreachable").await;
    assert_eq!(
        call_ids(&page),
        ids_where(&|call| call.0 == "LIST-A" && call.2 == "unreachable")
    );
    // `from` is inclusive, `to` exclusive: calls 2, 3 and 4 (oldest first, counting from 0).
    let created = |index: usize| {
        let id = &oldest_first[index].1;
        let call = all["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|call| call["callId"] == json!(id))
            .unwrap();
        call["createdAt"].as_str().unwrap().to_owned()
    };
    let page = api
        .list(&format!("?from={}&to={}", created(2), created(5)))
        .await;
    assert_eq!(
        call_ids(&page),
        vec![
            oldest_first[4].1.clone(),
            oldest_first[3].1.clone(),
            oldest_first[2].1.clone()
        ]
    );
    let page = api
        .list(&format!("?from={}&to={}", created(2), created(2)))
        .await;
    assert_eq!(call_ids(&page), Vec::<String>::new());
    // Bounds past the year 9999 once in UTC still compare as times.
    let year_10000 = "9999-12-31T23:00:00-05:00";
    assert_eq!(
        call_ids(&api.list(&format!("?to={year_10000}")).await),
        newest_first
    );
    assert_eq!(
        call_ids(&api.list(&format!("?from={year_10000}")).await),
        Vec::<String>::new()
    );

    // Pages follow each other without gaps or repeats, filtered or not.
    let pages = every_page(&api, "limit=3").await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    assert_eq!(pages.concat(), newest_first);
    let pages = every_page(&api, "status=confirmed&limit=2").await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 0]
    );
    assert_eq!(pages.concat(), ids_where(&|call| call.2 == "confirmed"));

    // Bad parameters are named.
    for limit in ["0", "501", "x", "-1"] {
        assert_eq!(
            api.get(&format!("/api/calls?limit={limit}")).await,
            invalid("limit", "must be a number from 1 to 500"),
            "limit={limit}"
        );
    }
    assert_eq!(
        api.get("/api/calls?colour=red").await,
        invalid(
            "colour",
            "is not a known parameter (status, orderId, from, to, limit, cursor)"
        )
    );
    assert_eq!(
        api.get("/api/calls?cursor=bm90LWEtY3Vyc29y").await,
        invalid("cursor", "is not a nextCursor this service returned")
    );
    // Cursors this service never issues: instants before year 0 and after 9999 (which
    // PostgreSQL cannot even hold).
    for forged in [
        "LTMwMDAwMDAwMDAwMDAwMDAwMDAuMDFhMjEzM2UtOGUzNS03NDA5LWI3ODQtYWZmMTdkOGE0MTMy",
        "ODAwMDAwMDAwMDAwMDAwMDAwMC4wMWEyMTMzZS04ZTM1LTc0MDktYjc4NC1hZmYxN2Q4YTQxMzI",
    ] {
        assert_eq!(
            api.get(&format!("/api/calls?cursor={forged}")).await,
            invalid("cursor", "is not a nextCursor this service returned")
        );
    }
    assert_eq!(
        api.get("/api/calls?from=yesterday").await,
        invalid(
            "from",
            "must be an RFC 3339 date and time, e.g. 2025-04-20T00:00:00Z"
        )
    );

    // Both endpoints want the business's credentials.
    let unauthorized = (
        StatusCode::UNAUTHORIZED,
        json!({"success": false, "error": "unauthorized", "details": "missing or wrong credentials"}),
    );
    let one_call = format!("/api/calls/{}", newest_first[0]);
    for path in ["/api/calls", one_call.as_str()] {
        let url = format!("{}{path}", api.address);
        assert_eq!(
            Api::send(api.client.get(&url)).await,
            unauthorized,
            "{path}"
        );
        assert_eq!(
            Api::send(
                api.client
                    .get(&url)
                    .header("Authorization", basic("admin", "not-the-token"))
            )
            .await,
            unauthorized,
            "{path}"
        );
    }
}

#[tokio::test]
async fn calls_are_listed_newest_first_filtered_and_paginated_on_sqlite() {
    databases::on_sqlite(|_, url| listing_calls(url)).await;
}

#[tokio::test]
async fn calls_are_listed_newest_first_filtered_and_paginated_in_memory() {
    listing_calls("memory:".into()).await;
}

#[tokio::test]
async fn calls_are_listed_newest_first_filtered_and_paginated_on_postgres() {
    databases::on_postgres(|_, url| listing_calls(url)).await;
}

// ---------------------------------------------------------------------------------------------
// Bad input never reaches the store
// ---------------------------------------------------------------------------------------------

async fn bad_input_never_reaches_the_store(database_url: String) {
    let app = app_with_ringing_calls(database_url).await;
    let api = Api::new(&app.address);
    let (session_id, call_id) = api.place(&appointment("+6591234561")).await;
    let before = api.call(&session_id).await;
    let long = "x".repeat(300);
    let ids = "must be 1 to 255 characters";
    let nul = "must not contain NUL characters";

    let mut typed_event_id = vca(&session_id, "ev-1", "1", None);
    typed_event_id["payload"]["eventId"] = json!(42);
    let mut typed_details = vss(&session_id);
    typed_details["payload"]["details"] = json!("callA");
    let mut nul_in_leg = vss(&session_id);
    nul_in_leg["payload"]["details"]["callA"]["callStatus"] = json!("COMP\u{0}LETED");
    let mut nul_in_extra = vca(&session_id, "ev-1", "1", None);
    nul_in_extra["payload"]["extra"] = json!({"notes": ["fine", "not\u{0}fine"]});
    let refused = [
        (
            "vca",
            vca(&session_id, &long, "1", None),
            "payload.eventId",
            ids,
        ),
        (
            "vca",
            vca(&long, "ev-1", "1", None),
            "payload.sessionId",
            ids,
        ),
        ("vss", vss(&long), "payload.sessionId", ids),
        (
            "vca",
            vca(&session_id, "ev\u{0}1", "1", None),
            "payload.eventId",
            nul,
        ),
        (
            "vca",
            vca(&session_id, "ev-1", "1\u{0}", None),
            "payload.eventData.dtmf",
            nul,
        ),
        ("vca", nul_in_extra, "payload.extra.notes[1]", nul),
        ("vss", nul_in_leg, "payload.details.callA.callStatus", nul),
        (
            "vca",
            vca(&session_id, "ev-1", &"1".repeat(65), None),
            "payload.eventData.dtmf",
            "must be at most 64 keys",
        ),
    ];
    for (kind, event, field, message) in refused {
        assert_eq!(
            api.webhook(kind, &event).await,
            invalid(field, message),
            "{kind} {field}"
        );
    }
    for (kind, event, field) in [
        ("vca", typed_event_id, "payload.eventId"),
        ("vss", typed_details, "payload.details"),
    ] {
        let (status, body) = api.webhook(kind, &event).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind} {field}: {body}"
        );
        assert_eq!(body["fields"][0]["field"], field, "{body}");
    }

    let mut nul_name = appointment("+6591234562");
    nul_name["businessName"] = json!("Bright\u{0}Smile");
    let mut nul_extra = appointment("+6591234562");
    nul_extra["notes"] = json!({"lines": ["fine", "not\u{0}fine"]});
    for (body, field) in [(&nul_name, "businessName"), (&nul_extra, "notes.lines[1]")] {
        // Refused before the key is claimed: the key stays free for a good request.
        assert_eq!(
            api.make_call(body, Some("bad-input-key")).await,
            invalid(field, nul),
            "{field}"
        );
    }
    assert_eq!(
        api.get("/api/calls?status=bogus").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        api.get("/api/calls?orderId=APT%00123").await,
        invalid("orderId", nul)
    );
    let (status, body) = api.get("/api/calls/sess%00ion").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Nothing was recorded, nothing reached 8x8.
    assert_eq!(api.call(&session_id).await, before);
    assert_eq!(call_ids(&api.list("").await), vec![call_id.clone()]);
    assert_eq!(app.simulator_stats().await["callflowRequests"], 1);

    // The database still works: the call is confirmed and summarised, a new one is placed.
    assert_eq!(
        api.webhook("vca", &vca(&session_id, "ev-1", "1", None))
            .await,
        (StatusCode::OK, confirmation())
    );
    assert_eq!(api.webhook("vss", &vss(&session_id)).await, ack());
    let call = api.call(&session_id).await;
    assert_eq!(call["status"], "confirmed");
    assert_eq!(call["session"], completed_session());
    let (status, answer) = api
        .make_call(&appointment("+6591234562"), Some("bad-input-key"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(api.list("").await["calls"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_write_on_sqlite() {
    databases::on_sqlite(|_, url| bad_input_never_reaches_the_store(url)).await;
}

#[tokio::test]
async fn bad_input_is_refused_before_any_write_in_memory() {
    bad_input_never_reaches_the_store("memory:".into()).await;
}

#[tokio::test]
async fn bad_input_is_refused_before_any_write_on_postgres() {
    databases::on_postgres(|_, url| bad_input_never_reaches_the_store(url)).await;
}

// ---------------------------------------------------------------------------------------------
// Memory: only live calls are cached
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn finished_calls_leave_no_session_in_memory() {
    let app = app_with_ringing_calls(databases::fresh_sqlite_url()).await;
    let api = Api::new(&app.address);
    let cached = || app.calls.sessions.cached_count();
    let mut sessions = Vec::new();
    for index in 0..12 {
        let (session_id, _) = api
            .place(&appointment(&format!("+65912345{index:02}")))
            .await;
        sessions.push(session_id);
    }
    assert_eq!(cached(), 12, "every ringing call is live");

    for (index, session_id) in sessions.iter().enumerate() {
        let still_live = 12 - index - 1;
        let event = |n: usize| format!("ev-{index}-{n}");
        match index % 4 {
            // The script ends with the key: the session leaves before 8x8's summary.
            0 => {
                let reply = api
                    .webhook("vca", &vca(session_id, &event(1), "1", None))
                    .await;
                assert_eq!(reply, (StatusCode::OK, confirmation()));
            }
            1 => {
                let reply = api
                    .webhook("vca", &vca(session_id, &event(1), "0", None))
                    .await;
                assert_eq!(reply, (StatusCode::OK, say_and_hangup(CANCELLED)));
            }
            2 => {
                api.webhook("vca", &vca(session_id, &event(1), "3", None))
                    .await;
                assert_eq!(cached(), still_live + 1, "re-prompted: still live");
                let main_2 = format!("{BASE}.main.2");
                api.webhook("vca", &vca(session_id, &event(2), "3", Some(&main_2)))
                    .await;
            }
            // No key at all: the summary ends it.
            _ => assert_eq!(cached(), still_live + 1),
        }
        assert_eq!(api.webhook("vss", &vss(session_id)).await, ack());
        assert_eq!(cached(), still_live, "call {index}");
    }

    // Late and re-delivered webhooks of finished calls do not bring them back.
    for (index, session_id) in sessions.iter().enumerate() {
        api.webhook(
            "vca",
            &vca(session_id, &format!("ev-{index}-late"), "1", None),
        )
        .await;
        api.webhook("vss", &vss(session_id)).await;
    }
    assert_eq!(cached(), 0);
}
