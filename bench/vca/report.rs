//! The report: the machine the figures come from, the exact command, one section per
//! database, printed and written to `bench/results/` (git-ignored).

use crate::BenchResult;
use crate::http::{Summary, ms};
use crate::options::{Mode, Options};
use crate::processes::Process;
use chrono::Utc;
use std::fmt::Write;
use std::path::PathBuf;

/// One database's part of the report.
pub struct Section {
    pub markdown: String,
    /// No request failed, the app logged no warning, and its API agrees with what was sent.
    pub clean: bool,
    /// The issues' targets this run judged (throughput mode only).
    pub targets: Vec<TargetRun>,
}

/// One run's verdict on one of the issues' latency targets.
pub struct TargetRun {
    pub issue: u8,
    pub met: bool,
    /// The app's closed-loop throughput over the bare handler's.
    pub ratio: f64,
    /// The app's p99 at the target's share of the bare handler's rate, in microseconds.
    pub p99: u32,
}

/// For `--repeat`: how many of the runs met each target, with every run's figures.
pub fn repetitions(label: &str, runs: &[Section]) -> BenchResult<String> {
    let mut md = format!("### Repetitions, {label}: {} runs\n\n", runs.len());
    // Every run of one database judges the same targets, in the same order.
    let issues = runs
        .first()
        .map(|run| run.targets.iter().map(|target| target.issue));
    for issue in issues.into_iter().flatten() {
        let verdicts: Vec<&TargetRun> = runs
            .iter()
            .flat_map(|run| run.targets.iter().filter(|target| target.issue == issue))
            .collect();
        let met = verdicts.iter().filter(|target| target.met).count();
        let each = verdicts
            .iter()
            .map(|target| {
                let verdict = if target.met { "met" } else { "missed" };
                format!("{:.2} / {} ms ({verdict})", target.ratio, ms(target.p99))
            })
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            md,
            "- issue {issue} target met in **{met} of {}** runs; closed-loop ratio / app p99 at \
             the target's rate: {each}",
            verdicts.len()
        )?;
    }
    Ok(md)
}

/// Where the figures come from.
pub struct Machine {
    date: String,
    cores: usize,
    cpu: String,
    memory: String,
    kernel: String,
    load: String,
    commit: String,
}

impl Machine {
    pub fn now() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            date: Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            cpu: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".to_owned()),
            memory: field(&meminfo, "MemTotal").unwrap_or_else(|| "unknown".to_owned()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |text| text.trim().to_owned()),
            load: load_average(),
            commit: commit(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "- Date: {}\n- Machine: {} cores (nproc), {}, {} RAM, Linux {}\n\
             - Load average (1, 5, 15 min) before the run: {}\n- Commit: {}",
            self.date, self.cores, self.cpu, self.memory, self.kernel, self.load, self.commit
        )
    }
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
}

fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            if dirty {
                format!("{hash} (with uncommitted changes)")
            } else {
                hash
            }
        }
        None => "unknown".to_owned(),
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// A short id making this run's order ids unique.
pub fn run_id() -> String {
    Utc::now().format("%H%M%S").to_string()
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// Adds the failed requests and the app's warnings, if any; `Ok(true)` when there were none.
pub fn note_problems(md: &mut String, summaries: &[&Summary], app: &Process) -> BenchResult<bool> {
    let errors: u64 = summaries.iter().map(|summary| summary.errors).sum();
    let (warnings, first_warnings) = app.warnings();
    if errors == 0 && warnings == 0 {
        writeln!(md, "- no failed request, no warning logged by the app")?;
        return Ok(true);
    }
    writeln!(
        md,
        "- **{errors} failed requests, {warnings} warnings logged by the app**"
    )?;
    for error in summaries
        .iter()
        .flat_map(|summary| &summary.first_errors)
        .chain(&first_warnings)
    {
        writeln!(md, "  - `{}`", error.chars().take(400).collect::<String>())?;
    }
    Ok(false)
}

/// The whole report.
pub fn document(options: &Options, machine: &Machine, sections: &[Section]) -> String {
    let mut md = format!(
        "# callconfirm VCA benchmark: {}\n\n- Command: `{}`\n{}\n\n",
        options.mode.name(),
        command_line(),
        machine.describe()
    );
    for section in sections {
        md.push_str(&section.markdown);
        md.push('\n');
    }
    md
}

/// The command as typed, with the `BENCH_*` variables that were set.
fn command_line() -> String {
    let mut words: Vec<String> = std::env::vars()
        .filter(|(name, _)| name.starts_with("BENCH_"))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    words.push("cargo bench --bench vca --".to_owned());
    words.extend(std::env::args().skip(1).filter(|arg| arg != "--bench"));
    words.join(" ")
}

/// Writes `bench/results/latest.md` and a dated copy; the path of the dated copy.
pub fn save(mode: Mode, markdown: &str) -> BenchResult<String> {
    let directory = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results"));
    std::fs::create_dir_all(&directory)?;
    std::fs::write(directory.join("latest.md"), markdown)?;
    let dated = directory.join(format!(
        "{}-{}.md",
        mode.name(),
        Utc::now().format("%Y%m%d-%H%M%S")
    ));
    std::fs::write(&dated, markdown)?;
    Ok(dated.display().to_string())
}
