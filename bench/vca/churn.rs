//! Churn mode: `--calls` calls placed and completed (make-call, VCA 1, VSS) one after the
//! other on every connection, the app's VmRSS sampled every `--sample-every` completed calls.
//! A cache that evicts finished sessions keeps it flat.

use crate::BenchResult;
use crate::calls::{self, api_auth, webhook_auth};
use crate::database::Database;
use crate::http::{Summary, Tally, ms, open_many, run_workers};
use crate::options::{Db, Options};
use crate::processes;
use crate::report::{self, Section, mib};
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each call is completed within milliseconds; after this the simulator's customer gives up
/// ringing and the simulator forgets the session (it has no webhook to call).
const RING: Duration = Duration::from_secs(30);
/// Flat: the last sample is within this fraction of the first.
const FLAT_WITHIN: f64 = 0.10;

/// One reading of the app's memory.
#[derive(Debug, Clone, Copy)]
struct Sample {
    completed: usize,
    elapsed: Duration,
    rss: u64,
}

pub async fn run(options: &Options, database: &Database) -> BenchResult<Section> {
    let load_before = report::load_average();
    let simulator = processes::start_simulator(RING)?;
    let app = processes::start_app(&simulator.address, &database.url)?;
    let run = report::run_id();
    let calls = options.calls;
    let every = options.sample_every.max(1);
    let pid = app.pid();

    let started = Instant::now();
    let samples = Arc::new(Mutex::new(vec![Sample {
        completed: 0,
        elapsed: Duration::ZERO,
        rss: app.rss_bytes()?,
    }]));
    let next = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    println!("placing and completing {calls} calls, app RSS sampled every {every}");
    let tallies = run_workers(
        open_many(&app.address, options.concurrency).await?,
        |_, mut connection| {
            let (samples, next, completed) = (
                Arc::clone(&samples),
                Arc::clone(&next),
                Arc::clone(&completed),
            );
            let run = run.clone();
            async move {
                let (api, webhook) = (api_auth(), webhook_auth());
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= calls {
                        break;
                    }
                    let Some(session_id) =
                        calls::place(&mut connection, &api, &run, n, &mut tally).await?
                    else {
                        continue;
                    };
                    calls::complete(&mut connection, &webhook, &session_id, &mut tally).await?;
                    let done = completed.fetch_add(1, Ordering::Relaxed) + 1;
                    if done % every == 0 {
                        let sample = Sample {
                            completed: done,
                            elapsed: started.elapsed(),
                            rss: processes::rss_bytes(pid)?,
                        };
                        println!(
                            "{done} calls completed in {:.0} s: app RSS {} MiB",
                            sample.elapsed.as_secs_f64(),
                            mib(sample.rss)
                        );
                        samples
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push(sample);
                    }
                }
                Ok(tally)
            }
        },
    )
    .await?;
    let requests = Summary::of(Tally::merge(tallies), started.elapsed());
    let mut samples = samples
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    samples.sort_by_key(|sample| sample.completed);
    let stored = database.size_bytes().await;

    let mut md = String::new();
    writeln!(
        md,
        "### Churn, {} ({} calls, {} connections)\n",
        database.label(),
        calls,
        options.concurrency
    )?;
    writeln!(
        md,
        "| completed calls | elapsed s | calls/s so far | app VmRSS MiB |"
    )?;
    writeln!(md, "|---:|---:|---:|---:|")?;
    for sample in &samples {
        let seconds = sample.elapsed.as_secs_f64();
        writeln!(
            md,
            "| {} | {seconds:.0} | {:.0} | {} |",
            sample.completed,
            sample.completed as f64 / seconds.max(f64::EPSILON),
            mib(sample.rss)
        )?;
    }
    writeln!(md)?;
    // The first sample after calls began is the reference: the start has no pools grown yet.
    let reference = samples.get(1).or(samples.first());
    if let (Some(first), Some(last)) = (reference, samples.last()) {
        let growth = last.rss as f64 / first.rss as f64 - 1.0;
        writeln!(
            md,
            "- {} (memory flat over 1,000,000 completed calls): **{}** \
             (from {} MiB at {} calls to {} MiB at {} calls: {:+.1} %; flat means within ±{:.0} %)",
            match database.db {
                // Issue 4's target is the cache in front of a durable store; the volatile
                // store stays flat by forgetting its oldest finished calls.
                Db::Memory => "the volatile store's bound",
                _ => "issue 4 target",
            },
            match (growth.abs() <= FLAT_WITHIN, last.completed >= 1_000_000) {
                (true, true) => "met",
                (true, false) => "flat over this smaller count",
                (false, _) => "missed",
            },
            mib(first.rss),
            first.completed,
            mib(last.rss),
            last.completed,
            growth * 100.0,
            FLAT_WITHIN * 100.0
        )?;
    }
    writeln!(
        md,
        "- {} requests (make-call, VCA, VSS) in {:.0} s: {:.0} calls/s, request p50 {} ms, \
         p99 {} ms",
        requests.requests,
        requests.elapsed.as_secs_f64(),
        completed.load(Ordering::Relaxed) as f64 / requests.elapsed.as_secs_f64(),
        ms(requests.p50),
        ms(requests.p99)
    )?;
    if let Some(bytes) = stored {
        writeln!(md, "- database size at the end: {} MiB", mib(bytes))?;
    }
    writeln!(
        md,
        "- load average before the run {load_before}, after {}",
        report::load_average()
    )?;
    let clean = report::note_problems(&mut md, &[&requests], &app)?;
    Ok(Section {
        markdown: md,
        clean,
        targets: Vec::new(),
    })
}
