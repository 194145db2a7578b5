//! The yardstick: a bare axum handler in its own process that parses the VCA into the app's
//! own `VcaEvent` and answers a fixed callflow, with no auth, state, store or logging.

use axum::routing::post;
use axum::{Json, Router};
use callconfirm::voice::wire::VcaEvent;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::LazyLock;

/// The argument that makes the benchmark binary serve the bare handler instead.
pub const FLAG: &str = "--bare-server";
/// The message of the line announcing the address, as the app's own JSON logs do.
pub const LISTENING: &str = "bare handler listening";

/// A re-prompt like the app's (a `sayAndCapture` of the main prompt), of similar size.
static CALLFLOW: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "clientActionId": "BENCH-1_20261201_0930_Bright Smile Dental.2",
        "callflow": [{
            "action": "sayAndCapture",
            "params": {
                "promptMessage": "Sorry, we did not get that. Hello, this is Bright Smile Dental \
                    calling to confirm your appointment on Tuesday, December 1 at 9:30 AM. \
                    Press 1 to confirm your appointment. Press 0 to cancel it. Press 9 to hear \
                    these details again. If you have questions, please call us at +65 6833 2048.",
                "voiceProfile": "en-US-BenjaminRUS",
                "repetition": 2,
                "speed": 1,
                "minDigits": 1,
                "maxDigits": 1,
                "digitTimeout": 10000,
                "overallTimeout": 10000,
                "completeOnHash": false,
                "noOfTries": 1,
                "successMessage": null,
                "failureMessage": "Sorry, that is not a valid choice."
            }
        }]
    })
});

async fn vca(Json(event): Json<VcaEvent>) -> Json<Value> {
    // Read the keys as the app does, so that the parse cannot be optimised away.
    std::hint::black_box(event.payload.dtmf());
    Json(CALLFLOW.clone())
}

/// Serves on a free loopback port until killed; the address goes to stdout as a JSON line.
pub fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bare: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        println!(
            "{}",
            json!({"level": "INFO", "message": LISTENING, "address": format!("http://{address}")})
        );
        axum::serve(
            listener,
            Router::new().route("/api/webhooks/vca", post(vca)),
        )
        .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bare: {error}");
            ExitCode::FAILURE
        }
    }
}
