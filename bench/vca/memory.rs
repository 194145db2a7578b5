//! Memory mode: the app's resident memory per live session, from its VmRSS before and after
//! placing `--live-sessions` calls that stay pending (nobody answers).
//!
//! A warm-up of placed and completed calls comes first, so that connection pools, SQLite's
//! page cache and the allocator's arenas are already grown when "before" is read. The live
//! sessions are then completed, to show what the app gives back once they leave its cache.

use crate::BenchResult;
use crate::calls;
use crate::database::Database;
use crate::http::ms;
use crate::options::Options;
use crate::processes;
use crate::report::{self, Section, mib};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

pub const WARM_UP_CALLS: usize = 2_000;
/// Issue 2's budget per live session.
const TARGET_BYTES: f64 = 2048.0;
/// Longer than any run: the sessions stay live until the benchmark completes them.
const RING: Duration = Duration::from_secs(6 * 3600);

pub async fn run(options: &Options, database: &Database) -> BenchResult<Section> {
    let load_before = report::load_average();
    let simulator = processes::start_simulator(RING)?;
    let app = processes::start_app(&simulator.address, &database.url)?;
    let run = report::run_id();
    let concurrency = options.concurrency;

    println!("warm-up: {WARM_UP_CALLS} calls placed and completed");
    let (warm, warm_placing) =
        calls::place_many(&app.address, &run, 0, WARM_UP_CALLS, concurrency).await?;
    let warm_completing = calls::complete_many(&app.address, Arc::new(warm), concurrency).await?;
    let before = app.rss_bytes()?;

    let count = options.live_sessions;
    println!(
        "placing {count} calls that stay live (app RSS {} MiB)",
        mib(before)
    );
    let (live, placing) =
        calls::place_many(&app.address, &run, WARM_UP_CALLS, count, concurrency).await?;
    let with_live = app.rss_bytes()?;
    let per_session = (with_live as f64 - before as f64) / live.len().max(1) as f64;
    println!(
        "{} live sessions: app RSS {} MiB, {per_session:.0} bytes per live session",
        live.len(),
        mib(with_live)
    );

    let live = Arc::new(live);
    println!("completing them (VCA 1, VSS)");
    let completing = calls::complete_many(&app.address, Arc::clone(&live), concurrency).await?;
    let after = app.rss_bytes()?;
    let statuses = calls::sample_statuses(&app.address, &live).await?;

    let mut md = String::new();
    writeln!(
        md,
        "### Memory, {} ({} live sessions)\n",
        database.label(),
        live.len()
    )?;
    writeln!(
        md,
        "| app VmRSS after warm-up | with {} live sessions | per live session | after completing them |",
        live.len()
    )?;
    writeln!(md, "|---:|---:|---:|---:|")?;
    writeln!(
        md,
        "| {} MiB | {} MiB | **{per_session:.0} bytes** | {} MiB |\n",
        mib(before),
        mib(with_live),
        mib(after)
    )?;
    writeln!(
        md,
        "- issue 2 target (≤ 2 KiB = 2048 bytes per live session at 100,000 sessions): **{}**",
        if per_session <= TARGET_BYTES && live.len() >= 100_000 {
            "met"
        } else if per_session <= TARGET_BYTES {
            "met at this smaller count"
        } else {
            "missed"
        }
    )?;
    writeln!(
        md,
        "- placing them: {:.1} s ({:.0} calls/s, p50 {} ms, p99 {} ms); completing them: \
         {:.1} s ({:.0} webhooks/s)",
        placing.elapsed.as_secs_f64(),
        placing.rps,
        ms(placing.p50),
        ms(placing.p99),
        completing.elapsed.as_secs_f64(),
        completing.rps
    )?;
    writeln!(
        md,
        "- the app's API after completion, first, middle and last session: {}; load average \
         before the run {load_before}, after {}",
        statuses.join(", "),
        report::load_average()
    )?;
    let clean = report::note_problems(
        &mut md,
        &[&warm_placing, &warm_completing, &placing, &completing],
        &app,
    )?;
    Ok(Section {
        markdown: md,
        clean: clean && statuses.iter().all(|status| status == "confirmed"),
        targets: Vec::new(),
    })
}
