//! The `callconfirm` binary: parse the command line, start telemetry, run the chosen command.

use callconfirm::cli::{Cli, Command, SimulatorArgs};
use callconfirm::config::{LogFormat, RegistrationSettings, Settings};
use callconfirm::registration;
use callconfirm::startup::Application;
use callconfirm::telemetry;
use callconfirm::voice::client::VoiceClient;
use callconfirm::voice::simulator::{
    Simulator, SimulatorConfig, SimulatorTiming, parse_customer_scripts,
};
use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// mimalloc rather than glibc's malloc: the webhook path allocates and frees many small
/// buffers across the runtime's threads and the SQLite writer, and glibc's arenas (their
/// locks, `malloc_consolidate`) took about a third of the request path's time
/// (bench/README.md, "Where the time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Opts the process out of transparent huge pages. mimalloc asks for them (`MADV_HUGEPAGE`)
/// on the memory it takes from the kernel, and a thread touching such memory first waits
/// for a whole 2 MiB page to be found and zeroed: 6 to 9 ms at the median, up to 18 ms, on
/// the dev machine (against about 1 ms for the same 2 MiB as 4 KiB pages, spread over 512
/// faults). Every webhook waiting on that thread waited as long: in the VCA benchmark the
/// volatile store's p99 at a quarter of the bare handler's rate went from 4.1-8.7 ms to
/// 1.4-3.7 ms without them (bench/README.md, item 12). The service's heap is too small for
/// huge pages to pay.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        // Not fatal: the service only loses some latency. Telemetry is not up yet.
        eprintln!("callconfirm: could not opt out of transparent huge pages: {error}");
    }
}

fn main() -> ExitCode {
    without_transparent_huge_pages();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("callconfirm: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    // A missing .env is normal (Docker passes the environment directly).
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let log_format = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        _ => LogFormat::Text,
    };
    // The one-shot commands print their result on stdout; their logs go to stderr.
    match cli.command {
        None | Some(Command::Simulator(_)) => {
            telemetry::init(log_format, std::io::stdout, std::io::stdout().is_terminal())
        }
        Some(_) => telemetry::init(log_format, std::io::stderr, std::io::stderr().is_terminal()),
    }

    let outcome = match cli.command {
        None => serve(cli.simulate).await,
        Some(Command::Simulator(args)) => simulator(*args).await,
        Some(Command::RegisterWebhooks { dry_run }) => register_webhooks(dry_run).await,
        Some(Command::Healthcheck { url }) => healthcheck(url).await,
        Some(Command::Openapi) => {
            let document = callconfirm::routes::openapi();
            document
                .to_pretty_json()
                .map(|json| println!("{json}"))
                .map_err(|error| error.to_string())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("callconfirm: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(simulate: bool) -> Result<(), String> {
    let settings = Settings::from_env(simulate).map_err(|error| error.to_string())?;
    let application = Application::build(settings)
        .await
        .map_err(|error| error.to_string())?;
    application
        .run_until_stopped(shutdown_signal())
        .await
        .map_err(|error| format!("server error: {error}"))
}

async fn simulator(args: SimulatorArgs) -> Result<(), String> {
    let mut config = SimulatorConfig::new(args.api_key, args.subaccount);
    let preset = match args.timing.as_str() {
        "instant" => SimulatorTiming::instant(),
        "realistic" => SimulatorTiming::realistic(),
        other => {
            return Err(format!(
                "--timing must be instant or realistic, not {other:?}"
            ));
        }
    };
    config.timing = args.delays.apply(preset);
    if let Some(spec) = &args.customers {
        config.customers = parse_customer_scripts(spec).map_err(|e| format!("--customers: {e}"))?;
    }
    if !args.voice_profiles.is_empty() {
        config.voice_profiles = args.voice_profiles;
    }
    config.vca_timeout = Duration::from_millis(args.vca_timeout_ms);
    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .map_err(|error| format!("cannot listen on {}:{}: {error}", args.host, args.port))?;
    let shutdown = shutdown_signal();
    let handle = Simulator::start(config, listener, shutdown.clone())
        .await
        .map_err(|error| error.to_string())?;
    tracing::warn!(address = %handle.base_url(), "8x8 simulator listening; nobody is dialled");
    shutdown.cancelled().await;
    Ok(())
}

async fn register_webhooks(dry_run: bool) -> Result<(), String> {
    let settings = RegistrationSettings::from_lookup(|name| std::env::var(name).ok())
        .map_err(|error| error.to_string())?;
    let requests = registration::plan(&settings.webhook_base_url, &settings.webhook_auth_token);
    let endpoint = format!(
        "POST {}/api/v1/subaccounts/{}/webhooks",
        settings.voice.base_url.trim_end_matches('/'),
        settings.voice.subaccount_id
    );
    if dry_run {
        for request in &requests {
            println!("{endpoint}\n{:#}", registration::describe(request));
        }
        return Ok(());
    }
    let client = VoiceClient::new(settings.voice).map_err(|error| error.to_string())?;
    let registered = registration::register(&client, &requests)
        .await
        .map_err(|error| format!("registering the webhooks failed: {error}"))?;
    for hook in registered {
        println!(
            "{} -> {} (enabled: {}, auth header: {})",
            hook.kind,
            hook.url,
            hook.enabled.unwrap_or(true),
            if hook.http_auth_header_available.unwrap_or(false) {
                "set"
            } else {
                "none"
            }
        );
    }
    Ok(())
}

async fn healthcheck(url: Option<String>) -> Result<(), String> {
    let url = url.unwrap_or_else(|| {
        let port = std::env::var("PORT").unwrap_or_else(|_| "5678".to_owned());
        format!("http://127.0.0.1:{port}/health")
    });
    callconfirm::voice::client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|error| format!("{url} did not answer: {error}"))?;
    if response.status().is_success() {
        println!("healthy");
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

/// Cancelled on Ctrl-C or SIGTERM (what `docker stop` sends).
fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}
