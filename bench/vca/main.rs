//! The VCA webhook benchmark (bench/README.md): the real `callconfirm` binary, against a
//! standalone simulator whose customers never answer, is driven the way 8x8 drives it, and
//! compared with a bare axum handler parsing the same JSON.
//!
//! `cargo bench --bench vca -- --mode throughput|memory|churn [--db memory,sqlite,postgres] ...`
//! (`-- --help` lists every option). The same binary, re-executed with `--bare-server`, is
//! the bare handler's process.

mod bare;
mod calls;
mod churn;
mod cpu;
mod database;
mod http;
mod memory;
mod options;
mod paced;
mod payloads;
mod processes;
mod report;
mod throughput;

use clap::Parser;
use options::{Mode, Options};
use std::process::ExitCode;

/// Every failure of the benchmark is reported as a message and ends the run.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == bare::FLAG) {
        return bare::serve();
    }
    // `cargo bench` passes --bench; `cargo test --benches` (or --all-targets) does not, and
    // must not start a benchmark that takes minutes.
    if !args.iter().any(|arg| arg == "--bench") {
        eprintln!("vca: a benchmark, not a test; run it with `cargo bench --bench vca`");
        return ExitCode::SUCCESS;
    }
    let options = Options::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vca: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&options)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("vca: some requests failed (see the report above)");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("vca: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen mode on every chosen database; `Ok(false)` when a request failed.
async fn run(options: &Options) -> BenchResult<bool> {
    if options.repeat > 1 && options.mode != Mode::Throughput {
        return Err("--repeat is for the throughput mode only".into());
    }
    let machine = report::Machine::now();
    println!("{}", machine.describe());
    let mut sections = Vec::new();
    let mut clean = true;
    for &db in &options.db {
        let mut runs = Vec::new();
        for repetition in 1..=options.repeat {
            let database =
                database::Database::prepare(db, &options.postgres_url, options.calls_kept())
                    .await?;
            let which = match options.repeat {
                1 => String::new(),
                all => format!(", run {repetition} of {all}"),
            };
            println!(
                "\n== {} on {}{which}",
                options.mode.name(),
                database.label()
            );
            let outcome = match options.mode {
                Mode::Throughput => throughput::run(options, &database).await,
                Mode::Memory => memory::run(options, &database).await,
                Mode::Churn => churn::run(options, &database).await,
            };
            database.dispose().await;
            let section = outcome?;
            clean &= section.clean;
            println!("{}", section.markdown);
            runs.push(section);
        }
        if options.repeat > 1 {
            let markdown = report::repetitions(db.label(), &runs)?;
            println!("{markdown}");
            runs.push(report::Section {
                markdown,
                clean: true,
                targets: Vec::new(),
            });
        }
        sections.extend(runs);
    }
    let markdown = report::document(options, &machine, &sections);
    let written = report::save(options.mode, &markdown)?;
    println!("\n{markdown}\nwritten to {written}");
    Ok(clean)
}
