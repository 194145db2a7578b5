//! Throughput mode: VCAs per second and their latency, the app beside the bare handler, the
//! same requests from the same generator.
//!
//! Every session gets a wrong key (the app re-prompts; the session stays live) and then 1
//! (the app confirms, finishes the session and evicts it from its cache): each VCA is a real
//! transition committed to the store, with a fresh eventId.

use crate::BenchResult;
use crate::calls::{self, Expect, VCA_PATH, check_vca, webhook_auth};
use crate::database::Database;
use crate::http::{Summary, Tally, ms, open_many, run_workers};
use crate::options::Options;
use crate::payloads::{self, CONFIRM_KEY, WRONG_KEY};
use crate::processes::{self, Process};
use crate::report::{self, Section};
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longer than any run: no customer answers while the benchmark plays 8x8.
const RING: Duration = Duration::from_secs(6 * 3600);

pub async fn run(options: &Options, database: &Database) -> BenchResult<Section> {
    let load_before = report::load_average();
    let simulator = processes::start_simulator(RING)?;
    let app = processes::start_app(&simulator.address, &database.url)?;
    let bare = processes::start_bare()?;

    let total = options.warmup + options.sessions;
    println!("placing {total} calls through POST /api/make-call");
    let (sessions, placing) = calls::place_many(
        &app.address,
        &report::run_id(),
        0,
        total,
        options.concurrency,
    )
    .await?;
    if sessions.len() != total {
        return Err(format!(
            "only {} of {total} calls were placed: {:?}",
            sessions.len(),
            placing.first_errors
        )
        .into());
    }
    let warm_up = Arc::new(sessions[..options.warmup].to_vec());
    let measured = Arc::new(sessions[options.warmup..].to_vec());

    let mut rows = Vec::new();
    for (process, is_app) in [(&bare, false), (&app, true)] {
        println!("{}: warm-up", process.name);
        drive(process, Arc::clone(&warm_up), options.concurrency, is_app).await?;
        let load = report::load_average();
        println!("{}: measuring (load average {load})", process.name);
        let summary = drive(process, Arc::clone(&measured), options.concurrency, is_app).await?;
        rows.push((process.name, summary, load));
    }
    let statuses = calls::sample_statuses(&app.address, &measured).await?;

    let (bare_summary, app_summary) = (&rows[0].1, &rows[1].1);
    let ratio = app_summary.rps / bare_summary.rps;
    let mut md = String::new();
    writeln!(
        md,
        "### Throughput, {} ({} live sessions, {} VCAs each, {} connections)\n",
        database.label, options.sessions, 2, options.concurrency
    )?;
    writeln!(
        md,
        "| server | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | answer bytes | load avg at start |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")?;
    for (name, summary, load) in &rows {
        let server = match *name {
            "bare" => "bare axum handler".to_owned(),
            _ => format!("callconfirm, {}", database.label),
        };
        writeln!(
            md,
            "| {server} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {load} |",
            summary.requests,
            summary.errors,
            summary.rps,
            ms(summary.p50),
            ms(summary.p90),
            ms(summary.p99),
            ms(summary.max),
            summary.mean_body_bytes
        )?;
    }
    writeln!(md)?;
    writeln!(
        md,
        "- app / bare throughput: **{ratio:.2}**; app p99 {} ms",
        ms(app_summary.p99)
    )?;
    writeln!(
        md,
        "- issue 2 target (≥ 0.50 of bare, p99 < 5 ms): **{}**",
        verdict(ratio >= 0.5 && app_summary.p99 < 5_000)
    )?;
    if database.url.starts_with("sqlite:") {
        writeln!(
            md,
            "- issue 4 target (every transition committed to SQLite: ≥ 0.25 of bare, p99 < 10 ms): **{}**",
            verdict(ratio >= 0.25 && app_summary.p99 < 10_000)
        )?;
    }
    writeln!(
        md,
        "- placing the {total} calls (make-call, the app calling the simulator): {:.1} s, \
         {:.0} calls/s, p50 {} ms, p99 {} ms, {} errors",
        placing.elapsed.as_secs_f64(),
        placing.rps,
        ms(placing.p50),
        ms(placing.p99),
        placing.errors
    )?;
    writeln!(
        md,
        "- the app's API after the run, first, middle and last session: {}; load average \
         before the run {load_before}, after {}",
        statuses.join(", "),
        report::load_average()
    )?;
    let all_confirmed = statuses.iter().all(|status| status == "confirmed");
    let clean = report::note_problems(&mut md, &[&placing, bare_summary, app_summary], &app)?;
    Ok(Section {
        markdown: md,
        clean: clean && all_confirmed,
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

/// Sends every session a wrong key, then 1 (echoing the re-prompt's clientActionId), over
/// `concurrency` connections; worker `w` owns sessions `w`, `w + concurrency`, ...
async fn drive(
    server: &Process,
    sessions: Arc<Vec<String>>,
    concurrency: usize,
    is_app: bool,
) -> BenchResult<Summary> {
    let (first, second) = if is_app {
        (Expect::Reprompt, Expect::Closing)
    } else {
        (Expect::AnyCallflow, Expect::AnyCallflow)
    };
    let connections = open_many(&server.address, concurrency).await?;
    let started = Instant::now();
    let tallies = run_workers(connections, |worker, mut connection| {
        let sessions = Arc::clone(&sessions);
        async move {
            let auth = webhook_auth();
            let mine: Vec<&String> = sessions.iter().skip(worker).step_by(concurrency).collect();
            let mut tally = Tally::default();
            let mut echoed = Vec::with_capacity(mine.len());
            for session in &mine {
                let body = payloads::vca(session, WRONG_KEY, None);
                let answer = connection.post(VCA_PATH, &auth, body).await?;
                tally.record(&answer);
                match check_vca(&answer, first) {
                    Ok(action) => echoed.push(Some(action)),
                    Err(error) => {
                        tally.fail(error);
                        echoed.push(None);
                    }
                }
            }
            for (session, action) in mine.iter().zip(&echoed) {
                let body = payloads::vca(session, CONFIRM_KEY, action.as_deref());
                let answer = connection.post(VCA_PATH, &auth, body).await?;
                tally.record(&answer);
                if let Err(error) = check_vca(&answer, second) {
                    tally.fail(error);
                }
            }
            Ok(tally)
        }
    })
    .await?;
    Ok(Summary::of(Tally::merge(tallies), started.elapsed()))
}
