//! Settings the real binary gives its own process.

use crate::process;

/// The service opts out of transparent huge pages (their first touch stalls a thread for
/// milliseconds; src/main.rs). The kernel reports the process's setting in its status.
#[cfg(target_os = "linux")]
#[test]
fn the_service_runs_without_transparent_huge_pages() {
    let running = process::start(
        &["--simulate"],
        &[
            ("SIMULATOR_PORT", "0".to_owned()),
            ("DATABASE_URL", "memory:".to_owned()),
        ],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", running.child.id()))
        .expect("the process's status is readable");
    let thp: Vec<&str> = status
        .lines()
        .filter(|line| line.starts_with("THP_enabled:"))
        .collect();
    assert_eq!(thp, vec!["THP_enabled:\t0"], "{status}");
}
