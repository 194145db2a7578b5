//! Where a run's CPU went: each thread's time on a CPU (`/proc/{pid}/task/*/schedstat`),
//! summed by thread name, read before and after a measured run and divided by its requests.
//! The figures that say which of the app's threads a VCA costs most in, without a profiler.

use crate::BenchResult;
use std::collections::BTreeMap;
use std::fmt;

/// One process's time on a CPU so far, in nanoseconds, by thread name.
pub struct CpuSnapshot {
    pid: u32,
    by_thread: BTreeMap<String, u64>,
}

impl CpuSnapshot {
    pub fn of(pid: u32) -> BenchResult<CpuSnapshot> {
        let mut by_thread = BTreeMap::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let task = entry?.path();
            // A thread that ends between the listing and the reads is skipped: its time is
            // lost to both snapshots alike.
            let (Ok(name), Ok(schedstat)) = (
                std::fs::read_to_string(task.join("comm")),
                std::fs::read_to_string(task.join("schedstat")),
            ) else {
                continue;
            };
            // The first field is the time spent on a CPU, in nanoseconds.
            let on_cpu: u64 = schedstat
                .split_whitespace()
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or_else(|| format!("unexpected {}: {schedstat:?}", task.display()))?;
            *by_thread.entry(name.trim().to_owned()).or_default() += on_cpu;
        }
        Ok(CpuSnapshot { pid, by_thread })
    }

    /// The CPU each thread name used since this snapshot, per request answered.
    pub fn per_request_since(&self, requests: usize) -> BenchResult<CpuPerRequest> {
        let now = CpuSnapshot::of(self.pid)?;
        let requests = requests.max(1) as f64;
        let mut threads: Vec<(String, f64)> = now
            .by_thread
            .into_iter()
            .map(|(name, nanos)| {
                let before = self.by_thread.get(&name).copied().unwrap_or(0);
                (
                    name,
                    nanos.saturating_sub(before) as f64 / 1000.0 / requests,
                )
            })
            .filter(|(_, micros)| *micros >= 0.5)
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(CpuPerRequest { threads })
    }
}

/// Microseconds of CPU per request, by thread name, busiest first.
pub struct CpuPerRequest {
    threads: Vec<(String, f64)>,
}

impl CpuPerRequest {
    pub fn total(&self) -> f64 {
        self.threads.iter().map(|(_, micros)| micros).sum()
    }
}

impl fmt::Display for CpuPerRequest {
    /// `62 µs (tokio-rt-worker 27, sqlite-writer 24, sqlite-wal 11)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0} µs", self.total())?;
        let each: Vec<String> = self
            .threads
            .iter()
            .map(|(name, micros)| format!("{name} {micros:.0}"))
            .collect();
        if !each.is_empty() {
            write!(f, " ({})", each.join(", "))?;
        }
        Ok(())
    }
}
