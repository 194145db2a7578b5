//! Running the real `callconfirm` binary as a child process, with its output captured.
//!
//! The child listens on port 0; its address is read from its own "listening" log line, so no
//! test guesses a port or sleeps waiting for it.

#![allow(dead_code)] // Each helper is used by some test module, not necessarily all of them.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `callconfirm` process; killed when dropped.
pub struct Running {
    pub child: Child,
    /// `http://127.0.0.1:{port}` once it listens.
    pub address: String,
    output: Arc<Mutex<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Everything the process wrote so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown, no flushing, nothing the process can do about it.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The simulator's base URL in `--simulate` mode, read from its log line.
    pub fn simulator_url(&self) -> Option<String> {
        self.output()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| {
                line["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("SIMULATION MODE"))
            })
            .and_then(|line| line["simulator"].as_str().map(str::to_owned))
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_callconfirm")
}

/// Starts `callconfirm {args}` with exactly `env` (plus PATH) and waits until it listens.
pub fn start(args: &[&str], env: &[(&str, String)]) -> Running {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        // No .env of the developer's may leak in: run from an empty directory.
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the callconfirm binary starts");
    let output = Arc::new(Mutex::new(String::new()));
    let (address_tx, address_rx) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = Arc::clone(&output);
        let address_tx = address_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && event["message"] == "callconfirm listening"
                    && let Some(address) = event["address"].as_str()
                {
                    let _ = address_tx.send(format!("http://{address}"));
                }
                let mut all = output.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
    }
    match address_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(address) => Running {
            child,
            address,
            output,
        },
        Err(_) => {
            let _ = child.kill();
            panic!(
                "callconfirm did not start listening:\n{}",
                output.lock().unwrap()
            );
        }
    }
}

/// Runs `callconfirm {args}` to completion: (exit code, stdout, stderr). Async, so that a
/// simulator served by the test's own runtime keeps answering meanwhile.
pub async fn run(args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let mut command = tokio::process::Command::new(binary());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().await.expect("the callconfirm binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
