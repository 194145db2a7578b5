//! The processes under test: the real `callconfirm` release binary (serving, and as the
//! standalone simulator) and the bare handler; their addresses, warnings and resident memory.
//!
//! Each child logs JSON lines; its address is read from its own "listening" line, so no port
//! is guessed. The app logs at `warn`, except its one startup module, whose `info` line
//! carries the address.

use crate::BenchResult;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const API_KEY: &str = "bench-api-key";
pub const SUBACCOUNT: &str = "callconfirm-bench";
pub const TOKEN: &str = "bench-webhook-token";
pub const OUTBOUND: &str = "+6568332048";

/// A running child process, killed when dropped.
pub struct Process {
    pub name: &'static str,
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    child: Child,
    log: Arc<Mutex<Log>>,
}

/// What a child wrote after it started listening: warnings and errors, and the last lines.
#[derive(Default)]
struct Log {
    listening: bool,
    warnings: u64,
    first_warnings: Vec<String>,
    tail: VecDeque<String>,
}

const TAIL_LINES: usize = 20;
const KEPT_WARNINGS: usize = 5;

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The resident set size (VmRSS) now.
    pub fn rss_bytes(&self) -> BenchResult<u64> {
        rss_bytes(self.pid())
    }

    /// Warnings and errors logged since the process started listening, with the first few.
    pub fn warnings(&self) -> (u64, Vec<String>) {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (log.warnings, log.first_warnings.clone())
    }
}

/// The VmRSS of a process, from `/proc/{pid}/status`.
pub fn rss_bytes(pid: u32) -> BenchResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))?
        .parse()?;
    Ok(kib * 1024)
}

/// `callconfirm simulator` on a free port: its customers never answer before `ring` is over,
/// so every call it accepts stays pending (live) for the app until then. No webhooks are
/// registered with it: the benchmark itself plays 8x8's callbacks.
pub fn start_simulator(ring: Duration) -> BenchResult<Process> {
    let mut command = base_command();
    command.args(["simulator", "--host", "127.0.0.1", "--port", "0"]);
    command.args(["--api-key", API_KEY, "--subaccount", SUBACCOUNT]);
    command.args(["--timing", "instant", "--ring-ms"]);
    command.arg(ring.as_millis().to_string());
    command.env("RUST_LOG", "warn");
    launch(
        "simulator",
        command,
        "8x8 simulator listening; nobody is dialled",
    )
}

/// `callconfirm` serving on a free port, placing calls through the simulator at `simulator_url`.
pub fn start_app(simulator_url: &str, database_url: &str) -> BenchResult<Process> {
    let mut command = base_command();
    command
        .env("RUST_LOG", "warn,callconfirm::startup=info")
        .env("EIGHT_X_EIGHT_API_KEY", API_KEY)
        .env("EIGHT_X_EIGHT_SUBACCOUNT_ID", SUBACCOUNT)
        .env("EIGHT_X_EIGHT_BASE_URL", simulator_url)
        .env("OUTBOUND_PHONE_NUMBER", OUTBOUND)
        .env("WEBHOOK_AUTH_TOKEN", TOKEN)
        .env("DATABASE_URL", database_url);
    launch("app", command, "callconfirm listening")
}

/// This benchmark binary again, serving the bare handler.
pub fn start_bare() -> BenchResult<Process> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg(crate::bare::FLAG);
    launch("bare", command, crate::bare::LISTENING)
}

/// The release binary (or `BENCH_CALLCONFIRM_BIN`, e.g. a build with frame pointers for
/// `perf`) with a clean environment, run from the temporary directory so that no `.env` of
/// the developer's is read.
fn base_command() -> Command {
    let binary = std::env::var("BENCH_CALLCONFIRM_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_callconfirm").to_owned());
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .current_dir(std::env::temp_dir());
    command
}

/// Starts `command` and waits until it logs `ready` with its address.
fn launch(name: &'static str, mut command: Command, ready: &str) -> BenchResult<Process> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start {name}: {error}"))?;
    let log = Arc::new(Mutex::new(Log::default()));
    let (address_tx, address_rx) = std::sync::mpsc::channel::<String>();
    let streams: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stdout.take().ok_or("no stdout")?),
        Box::new(child.stderr.take().ok_or("no stderr")?),
    ];
    for stream in streams {
        let log = Arc::clone(&log);
        let address_tx = address_tx.clone();
        let ready = ready.to_owned();
        // The pipe must be drained for the child never to block on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let event = serde_json::from_str::<Value>(&line).unwrap_or(Value::Null);
                let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if event["message"] == ready.as_str()
                    && let Some(address) = event["address"].as_str()
                {
                    log.listening = true;
                    let address = if address.starts_with("http://") {
                        address.to_owned()
                    } else {
                        format!("http://{address}")
                    };
                    let _ = address_tx.send(address);
                } else if log.listening && matches!(event["level"].as_str(), Some("WARN" | "ERROR"))
                {
                    log.warnings += 1;
                    if log.first_warnings.len() < KEPT_WARNINGS {
                        log.first_warnings.push(line.clone());
                    }
                }
                log.tail.push_back(line);
                if log.tail.len() > TAIL_LINES {
                    log.tail.pop_front();
                }
            }
        });
    }
    match address_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => Ok(Process {
            name,
            address,
            child,
            log,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let tail: Vec<&str> = log.tail.iter().map(String::as_str).collect();
            Err(format!("{name} did not start listening:\n{}", tail.join("\n")).into())
        }
    }
}
