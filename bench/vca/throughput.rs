//! Throughput mode: VCAs per second and their latency, the app beside the bare handler, the
//! same requests from the same generator.
//!
//! Every session gets a wrong key (the app re-prompts; the session stays live) and then 1
//! (the app confirms, finishes the session and evicts it from its cache): each VCA is a real
//! transition committed to the store, with a fresh eventId.

use crate::BenchResult;
use crate::calls::{self, Expect, VCA_PATH, check_vca, webhook_auth};
use crate::cpu::{CpuPerRequest, CpuSnapshot};
use crate::database::Database;
use crate::http::{Summary, Tally, ms, open_many, run_workers};
use crate::options::{Db, Options};
use crate::paced;
use crate::payloads::{self, CONFIRM_KEY, WRONG_KEY};
use crate::processes::{self, Process};
use crate::report::{self, Section, TargetRun};
use std::fmt::Write;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longer than any run: no customer answers while the benchmark plays 8x8.
const RING: Duration = Duration::from_secs(6 * 3600);

pub async fn run(options: &Options, database: &Database) -> BenchResult<Section> {
    let load_before = report::load_average();
    let simulator = processes::start_simulator(RING)?;
    let app = processes::start_app(&simulator.address, &database.url)?;
    let bare = processes::start_bare()?;

    // Sessions for the closed-loop run and for each paced run: a session is finished (and
    // leaves the app's cache) by its second VCA, so none is driven twice on the app.
    let total = options.warmup + options.sessions * (1 + PACED.len());
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
    let batches: Vec<Arc<Vec<String>>> = sessions[options.warmup..]
        .chunks(options.sessions)
        .map(|chunk| Arc::new(chunk.to_vec()))
        .collect();

    let mut rows = Vec::new();
    for (process, is_app) in [(&bare, false), (&app, true)] {
        println!("{}: warm-up", process.name);
        drive(process, Arc::clone(&warm_up), options.concurrency, is_app).await?;
        let load = report::load_average();
        println!(
            "{}: measuring, closed loop (load average {load})",
            process.name
        );
        let (summary, cpu) = measured(
            process,
            drive(
                process,
                Arc::clone(&batches[0]),
                options.concurrency,
                is_app,
            ),
        )
        .await?;
        rows.push(Row {
            process: process.name,
            offered: None,
            summary,
            cpu,
            load,
        });
    }
    let bare_rps = rows[0].summary.rps;
    for (paced, batch) in PACED.iter().zip(&batches[1..]) {
        let rate = bare_rps * paced.share;
        for (process, is_app) in [(&bare, false), (&app, true)] {
            let load = report::load_average();
            println!(
                "{}: measuring at {rate:.0} req/s (load average {load})",
                process.name
            );
            let (summary, cpu) = measured(
                process,
                paced::drive_at(
                    process,
                    Arc::clone(batch),
                    rate,
                    options.concurrency,
                    is_app,
                ),
            )
            .await?;
            rows.push(Row {
                process: process.name,
                offered: Some((paced.label, rate)),
                summary,
                cpu,
                load,
            });
        }
    }
    let statuses = calls::sample_statuses(&app.address, &sessions[options.warmup..]).await?;

    let ratio = rows[1].summary.rps / bare_rps;
    let mut md = String::new();
    writeln!(
        md,
        "### Throughput, {} ({} live sessions per run, 2 VCAs each, {} connections)\n",
        database.label(),
        options.sessions,
        options.concurrency
    )?;
    writeln!(
        md,
        "| server | load | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | answer bytes | load avg at start |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")?;
    for row in &rows {
        let (server, load) = (row.server(database), row.load());
        let summary = &row.summary;
        writeln!(
            md,
            "| {server} | {load} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            summary.requests,
            summary.errors,
            summary.rps,
            ms(summary.p50),
            ms(summary.p90),
            ms(summary.p99),
            ms(summary.max),
            summary.mean_body_bytes,
            row.load
        )?;
    }
    writeln!(md)?;
    writeln!(
        md,
        "CPU per request: each thread's time on a CPU during the run, over its requests \
         (`/proc/<pid>/task/*/schedstat`); the load generator is this benchmark's process.\n"
    )?;
    for row in &rows {
        writeln!(
            md,
            "- {}, {}: {}; load generator {:.0} µs",
            row.server(database),
            row.load(),
            row.cpu.server,
            row.cpu.generator.total()
        )?;
    }
    writeln!(md)?;
    writeln!(
        md,
        "- app / bare throughput, closed loop: **{ratio:.2}**; app p99 {} ms",
        ms(rows[1].summary.p99)
    )?;
    let paced_app_rows = rows
        .iter()
        .filter(|row| row.process == app.name)
        .filter_map(|row| row.offered.map(|(_, rate)| (row, rate)));
    let mut targets = Vec::new();
    for (paced, (app_row, rate)) in PACED.iter().zip(paced_app_rows) {
        // Kept up: answered the offered rate (within 2 %: the last requests' latency
        // stretches a run's duration a little beyond its schedule).
        let kept_up = app_row.summary.rps >= rate * 0.98;
        let met = ratio >= paced.share && kept_up && app_row.summary.p99 < paced.p99_under_micros;
        if database.db == paced.store {
            targets.push(TargetRun {
                issue: paced.issue,
                met,
                ratio,
                p99: app_row.summary.p99,
            });
            writeln!(
                md,
                "- issue {} target ({}: ≥ {:.2} of bare, p99 < {} ms): **{}**: closed-loop ratio \
                 {ratio:.2}; at {rate:.0} req/s offered the app answered {:.0} req/s, p99 {} ms",
                paced.issue,
                paced.scope,
                paced.share,
                paced.p99_under_micros / 1000,
                verdict(met),
                app_row.summary.rps,
                ms(app_row.summary.p99),
            )?;
        }
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
    let mut summaries = vec![&placing];
    summaries.extend(rows.iter().map(|row| &row.summary));
    let clean = report::note_problems(&mut md, &summaries, &app)?;
    Ok(Section {
        markdown: md,
        clean: clean && all_confirmed,
        targets,
    })
}

/// One measured run of a server.
struct Row {
    process: &'static str,
    /// `None`: closed loop; else the paced run's label and offered rate.
    offered: Option<(&'static str, f64)>,
    summary: Summary,
    cpu: Cpu,
    load: String,
}

impl Row {
    fn server(&self, database: &Database) -> String {
        match self.process {
            "bare" => "bare axum handler".to_owned(),
            _ => format!("callconfirm, {}", database.label()),
        }
    }

    fn load(&self) -> String {
        match self.offered {
            None => "closed loop (as fast as answered)".to_owned(),
            Some((label, rate)) => format!("{rate:.0} req/s offered ({label} of bare)"),
        }
    }
}

/// The CPU a run cost per request: the server's, by thread, and the load generator's.
struct Cpu {
    server: CpuPerRequest,
    generator: CpuPerRequest,
}

/// Runs one measured load, reading around it the CPU of the server and of this process.
async fn measured(
    server: &Process,
    run: impl Future<Output = BenchResult<Summary>>,
) -> BenchResult<(Summary, Cpu)> {
    let server_before = CpuSnapshot::of(server.pid())?;
    let generator_before = CpuSnapshot::of(std::process::id())?;
    let summary = run.await?;
    let cpu = Cpu {
        server: server_before.per_request_since(summary.requests)?,
        generator: generator_before.per_request_since(summary.requests)?,
    };
    Ok((summary, cpu))
}

/// A target of the issues, measured at a fixed share of the bare handler's throughput.
struct Paced {
    issue: u8,
    /// The store the target is judged on; on the others the rate is measured and reported.
    store: Db,
    scope: &'static str,
    label: &'static str,
    share: f64,
    p99_under_micros: u32,
}

/// The issues' targets: "at least {share} of the bare axum handler's throughput with p99
/// under {n} ms" is read as both: the closed-loop ratio reaches the share, and the app
/// answers that rate, offered open loop, with that p99.
///
/// Issue 2's target is the port's, whose sessions lived in memory only: issue 4 ("the VCA
/// benchmark from the port issue is extended: with every transition committed to SQLite, at
/// least a quarter...") set the durable store its own. So issue 2's is judged on the volatile
/// store, which is the port's design, and issue 4's on SQLite (bench/README.md).
const PACED: [Paced; 2] = [
    Paced {
        issue: 4,
        store: Db::Sqlite,
        scope: "every transition committed to SQLite",
        label: "¼",
        share: 0.25,
        p99_under_micros: 10_000,
    },
    Paced {
        issue: 2,
        store: Db::Memory,
        scope: "the port: sessions in memory only",
        label: "½",
        share: 0.5,
        p99_under_micros: 5_000,
    },
];

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
    let (first, second) = Expect::wrong_key_then_confirm(is_app);
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
