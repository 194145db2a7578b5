//! The deployment files around the binary: the ngrok config generator and the ngrok
//! entrypoint (run for real with `sh`), docker-compose.yml, both Dockerfiles,
//! .env.example and .dockerignore. The images cannot be built here (no Docker engine),
//! so the Dockerfiles and the compose file are checked by reading them; the
//! authoritative lint run is `.ci/checks/static.sh`.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const GENERATOR: &str = "generate_ngrok_config.sh";
const ENTRYPOINT: &str = "start_ngrok.sh";
const REQUIRED_BY_GENERATOR: [&str; 3] = ["NGROK_AUTHTOKEN", "WEBHOOK_AUTH_TOKEN", "NGROK_DOMAIN"];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn repo_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn read_repo_file(name: &str) -> String {
    std::fs::read_to_string(repo_path(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

/// A fresh directory under Cargo's per-target temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("deployment")
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch directory");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one of the repository's scripts with `sh` in an environment holding only PATH,
/// HOME (the scratch directory) and `vars`, so that nothing from the developer's own
/// environment (a real NGROK_AUTHTOKEN, say) leaks in.
fn run_script(script: &str, scratch: &Scratch, path: OsString, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new("sh");
    command
        .arg(repo_path(script))
        .env_clear()
        .env("PATH", path)
        .env("HOME", scratch.path());
    for (name, value) in vars {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run sh {script}: {e}"))
}

fn system_path() -> OsString {
    std::env::var_os("PATH").expect("PATH is set")
}

/// One run of the generator, writing to `<scratch>/ngrok.yml` unless `vars` say otherwise.
struct Generated {
    output: Output,
    config_path: PathBuf,
    _scratch: Scratch,
}

impl Generated {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The written file parsed as YAML, after checking the run succeeded and printed its path.
    fn config(&self) -> Value {
        assert!(
            self.output.status.success(),
            "generator failed: {}",
            self.stderr()
        );
        assert_eq!(
            String::from_utf8_lossy(&self.output.stdout),
            format!("{}\n", self.config_path.display())
        );
        let text = std::fs::read_to_string(&self.config_path).expect("config written");
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"))
    }

    fn assert_failed_without_writing(&self) {
        assert!(
            !self.output.status.success(),
            "generator succeeded but should not have"
        );
        assert!(
            !self.config_path.exists(),
            "a config was written although the run failed"
        );
        assert_eq!(String::from_utf8_lossy(&self.output.stdout), "");
    }
}

fn generate(vars: &[(&str, &str)]) -> Generated {
    let scratch = Scratch::new("generate");
    let default_path = scratch.path().join("ngrok.yml");
    let default_path_text = default_path.to_str().expect("UTF-8 path").to_owned();
    let mut all: Vec<(&str, &str)> = vec![("NGROK_CONFIG", &default_path_text)];
    all.extend_from_slice(vars);
    let output = run_script(GENERATOR, &scratch, system_path(), &all);
    let config_path = vars
        .iter()
        .find(|(name, _)| *name == "NGROK_CONFIG")
        .map_or(default_path.clone(), |(_, value)| PathBuf::from(value));
    Generated {
        output,
        config_path,
        _scratch: scratch,
    }
}

/// The three required variables with ordinary values.
fn sample_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("NGROK_AUTHTOKEN", "2abcDEF_ngrok-authtoken"),
        ("WEBHOOK_AUTH_TOKEN", "s3cret-webhook-token"),
        ("NGROK_DOMAIN", "callconfirm-demo.ngrok-free.app"),
    ]
}

fn with(vars: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = sample_vars()
        .into_iter()
        .filter(|(name, _)| !vars.iter().any(|(n, _)| n == name))
        .collect();
    all.extend_from_slice(vars);
    all
}

fn without(missing: &[&str]) -> Vec<(&'static str, &'static str)> {
    sample_vars()
        .into_iter()
        .filter(|(name, _)| !missing.contains(name))
        .collect()
}

/// The whole endpoints-style config the generator must write.
fn expected_endpoint_config(
    authtoken: &str,
    domain: &str,
    upstream: &str,
    password: &str,
) -> Value {
    json!({
        "version": 3,
        "agent": {
            "authtoken": authtoken,
            "web_addr": "0.0.0.0:4040"
        },
        "endpoints": [{
            "name": "callconfirm",
            "url": format!("https://{domain}"),
            "upstream": { "url": upstream },
            "traffic_policy": {
                "on_http_request": [{
                    "actions": [{
                        "type": "basic-auth",
                        "config": { "credentials": [format!("admin:{password}")] }
                    }]
                }]
            }
        }]
    })
}

// ---------------------------------------------------------------------------------------
// generate_ngrok_config.sh
// ---------------------------------------------------------------------------------------

#[test]
fn the_generated_ngrok_config_is_a_v3_endpoint_with_basic_auth_in_front_of_the_app() {
    let run = generate(&sample_vars());

    assert_eq!(
        run.config(),
        expected_endpoint_config(
            "2abcDEF_ngrok-authtoken",
            "callconfirm-demo.ngrok-free.app",
            "http://app:5678",
            "s3cret-webhook-token"
        )
    );
    assert_eq!(run.stderr(), "");
}

#[test]
fn a_token_with_quotes_colons_and_backslashes_survives_the_yaml_unchanged() {
    let nasty_password = r#"p"a's:s #w\o\"rd: {x} [y] &z *a |b >c %d @e `f ,g"#;
    let nasty_authtoken = r#"tok'en":with: colons # and 'quotes'"#;

    let run = generate(&with(&[
        ("WEBHOOK_AUTH_TOKEN", nasty_password),
        ("NGROK_AUTHTOKEN", nasty_authtoken),
    ]));

    assert_eq!(
        run.config(),
        expected_endpoint_config(
            nasty_authtoken,
            "callconfirm-demo.ngrok-free.app",
            "http://app:5678",
            nasty_password
        )
    );
}

#[test]
fn the_domain_can_come_from_ngrok_opts_in_any_flag_form() {
    for opts in [
        "--log=stdout --domain=from-opts.ngrok-free.app",
        "--domain from-opts.ngrok-free.app --log=stdout",
        "--log=stdout --url=https://from-opts.ngrok-free.app/",
        "--url from-opts.ngrok-free.app",
    ] {
        let mut vars = without(&["NGROK_DOMAIN"]);
        vars.push(("NGROK_OPTS", opts));

        let run = generate(&vars);

        assert_eq!(
            run.config()["endpoints"][0]["url"],
            json!("https://from-opts.ngrok-free.app"),
            "NGROK_OPTS={opts}"
        );
    }
}

#[test]
fn ngrok_domain_takes_precedence_over_the_domain_in_ngrok_opts() {
    let run = generate(&with(&[
        ("NGROK_DOMAIN", "explicit.ngrok-free.app"),
        (
            "NGROK_OPTS",
            "--log=stdout --domain=from-opts.ngrok-free.app",
        ),
    ]));

    assert_eq!(
        run.config()["endpoints"][0]["url"],
        json!("https://explicit.ngrok-free.app")
    );
}

#[test]
fn the_upstream_can_be_overridden_with_or_without_a_scheme() {
    for (upstream, expected) in [
        (
            "host.docker.internal:8080",
            "http://host.docker.internal:8080",
        ),
        ("https://app.internal:8443", "https://app.internal:8443"),
    ] {
        let run = generate(&with(&[("NGROK_UPSTREAM", upstream)]));

        assert_eq!(
            run.config()["endpoints"][0]["upstream"],
            json!({ "url": expected }),
            "NGROK_UPSTREAM={upstream}"
        );
    }
}

#[test]
fn the_tunnels_style_writes_the_deprecated_tunnel_fields_for_older_agents() {
    let run = generate(&with(&[
        ("NGROK_CONFIG_STYLE", "tunnels"),
        ("WEBHOOK_AUTH_TOKEN", r#"to"k:en'"#),
    ]));

    assert_eq!(
        run.config(),
        json!({
            "version": 3,
            "agent": {
                "authtoken": "2abcDEF_ngrok-authtoken",
                "web_addr": "0.0.0.0:4040"
            },
            "tunnels": {
                "callconfirm": {
                    "proto": "http",
                    "addr": "app:5678",
                    "domain": "callconfirm-demo.ngrok-free.app",
                    "basic_auth": [r#"admin:to"k:en'"#]
                }
            }
        })
    );
}

#[test]
fn each_missing_required_variable_is_named_and_nothing_is_written() {
    for missing in REQUIRED_BY_GENERATOR {
        let run = generate(&without(&[missing]));

        run.assert_failed_without_writing();
        let stderr = run.stderr();
        assert!(
            stderr.contains(&format!(
                "missing required environment variables: {missing}\n"
            )),
            "{missing} not named alone in: {stderr}"
        );
    }
}

#[test]
fn an_empty_variable_counts_as_missing() {
    let run = generate(&with(&[("WEBHOOK_AUTH_TOKEN", "")]));

    run.assert_failed_without_writing();
    assert!(
        run.stderr()
            .contains("missing required environment variables: WEBHOOK_AUTH_TOKEN\n"),
        "{}",
        run.stderr()
    );
}

#[test]
fn every_missing_variable_is_named_at_once() {
    let run = generate(&[]);

    run.assert_failed_without_writing();
    assert_eq!(
        run.stderr(),
        "generate_ngrok_config.sh: missing required environment variables: \
         NGROK_AUTHTOKEN WEBHOOK_AUTH_TOKEN NGROK_DOMAIN\n  \
         (NGROK_DOMAIN may also be given as --domain=... in NGROK_OPTS; see .env.example)\n"
    );
}

#[test]
fn every_invalid_value_is_reported_at_once_and_nothing_is_written() {
    let run = generate(&[
        ("NGROK_AUTHTOKEN", "line\nbreak"),
        ("WEBHOOK_AUTH_TOKEN", "${x}"),
        (
            "NGROK_OPTS",
            "--log=stdout --domain=your-domain.ngrok-free.app",
        ),
        ("NGROK_CONFIG_STYLE", "edges"),
    ]);

    run.assert_failed_without_writing();
    assert_eq!(
        run.stderr(),
        "generate_ngrok_config.sh: invalid configuration:\n  \
         - NGROK_AUTHTOKEN must hold only printable ASCII characters (no newline or control character)\n  \
         - NGROK_DOMAIN is still the placeholder your-domain.ngrok-free.app: set your own static domain \
         (NGROK_DOMAIN or --domain=... in NGROK_OPTS)\n  \
         - WEBHOOK_AUTH_TOKEN must be 8 to 128 characters long (ngrok's basic-auth limit), got 4\n  \
         - NGROK_CONFIG_STYLE must be 'endpoints' or 'tunnels', got 'edges'\n"
    );
}

#[test]
fn a_cel_interpolation_in_the_token_is_refused_for_an_endpoint_but_not_for_a_tunnel() {
    let endpoint = generate(&with(&[("WEBHOOK_AUTH_TOKEN", "abc${def}ghi")]));
    let tunnel = generate(&with(&[
        ("WEBHOOK_AUTH_TOKEN", "abc${def}ghi"),
        ("NGROK_CONFIG_STYLE", "tunnels"),
    ]));

    endpoint.assert_failed_without_writing();
    assert!(
        endpoint
            .stderr()
            .contains("WEBHOOK_AUTH_TOKEN must not contain '${'"),
        "{}",
        endpoint.stderr()
    );
    assert_eq!(
        tunnel.config()["tunnels"]["callconfirm"]["basic_auth"],
        json!(["admin:abc${def}ghi"])
    );
}

#[test]
fn a_webhook_base_url_on_another_host_is_warned_about_but_does_not_stop_ngrok() {
    let matching = generate(&with(&[(
        "WEBHOOK_BASE_URL",
        "https://callconfirm-demo.ngrok-free.app/",
    )]));
    let elsewhere = generate(&with(&[(
        "WEBHOOK_BASE_URL",
        "https://old-domain.ngrok-free.app:443/hooks",
    )]));

    assert_eq!(matching.stderr(), "");
    assert_eq!(matching.config()["version"], json!(3));
    assert_eq!(
        elsewhere.stderr(),
        "generate_ngrok_config.sh: warning: WEBHOOK_BASE_URL points at old-domain.ngrok-free.app \
         but the tunnel serves callconfirm-demo.ngrok-free.app; 8x8 webhooks will not reach this tunnel\n"
    );
    assert_eq!(elsewhere.config()["version"], json!(3));
}

#[test]
fn without_ngrok_config_the_file_goes_where_the_ngrok_agent_looks_by_default() {
    let scratch = Scratch::new("default-path");

    let output = run_script(GENERATOR, &scratch, system_path(), &sample_vars());

    let expected = scratch.path().join(".config/ngrok/ngrok.yml");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{}\n", expected.display())
    );
    assert!(expected.is_file());
}

#[cfg(unix)]
#[test]
fn the_written_config_holding_the_authtoken_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let run = generate(&sample_vars());
    run.config();

    let mode = std::fs::metadata(&run.config_path)
        .expect("config written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

// ---------------------------------------------------------------------------------------
// start_ngrok.sh
// ---------------------------------------------------------------------------------------

/// A directory holding an `ngrok` that prints its arguments, one per line: the real agent
/// would try to reach ngrok's servers. It is put first on PATH.
fn path_with_printing_ngrok(scratch: &Scratch) -> OsString {
    let bin = scratch.path().join("bin");
    std::fs::create_dir_all(&bin).expect("create bin");
    let stub = bin.join("ngrok");
    std::fs::write(&stub, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").expect("write ngrok stub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755))
            .expect("chmod ngrok stub");
    }
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&system_path()));
    std::env::join_paths(dirs).expect("join PATH")
}

#[test]
fn start_ngrok_starts_the_agent_with_the_generated_config_and_the_opts_minus_the_domain() {
    let scratch = Scratch::new("start");
    let config = scratch.path().join("agent.yml");
    let config_text = config.to_str().expect("UTF-8 path").to_owned();
    let mut vars = without(&["NGROK_DOMAIN"]);
    vars.push(("NGROK_CONFIG", &config_text));
    vars.push((
        "NGROK_OPTS",
        "--domain callconfirm-demo.ngrok-free.app --log=stdout --log-level debug \
         --url=https://callconfirm-demo.ngrok-free.app",
    ));

    let output = run_script(
        ENTRYPOINT,
        &scratch,
        path_with_printing_ngrok(&scratch),
        &vars,
    );

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("start\n--config\n{config_text}\n--log=stdout\n--log-level\ndebug\ncallconfirm\n")
    );
    let written: Value =
        yaml_serde::from_str(&std::fs::read_to_string(&config).expect("config")).expect("YAML");
    assert_eq!(
        written["endpoints"][0]["url"],
        json!("https://callconfirm-demo.ngrok-free.app")
    );
}

#[test]
fn start_ngrok_logs_to_stdout_when_ngrok_opts_is_unset() {
    let scratch = Scratch::new("start-default");
    let config = scratch.path().join("agent.yml");
    let config_text = config.to_str().expect("UTF-8 path").to_owned();
    let mut vars = sample_vars();
    vars.push(("NGROK_CONFIG", &config_text));

    let output = run_script(
        ENTRYPOINT,
        &scratch,
        path_with_printing_ngrok(&scratch),
        &vars,
    );

    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("start\n--config\n{config_text}\n--log=stdout\ncallconfirm\n")
    );
}

#[test]
fn start_ngrok_never_starts_the_agent_when_the_config_is_invalid() {
    let scratch = Scratch::new("start-invalid");

    let output = run_script(
        ENTRYPOINT,
        &scratch,
        path_with_printing_ngrok(&scratch),
        &without(&["NGROK_AUTHTOKEN"]),
    );

    assert!(!output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("missing required environment variables: NGROK_AUTHTOKEN\n")
    );
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------

fn compose() -> Value {
    yaml_serde::from_str(&read_repo_file("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

const HEALTHCHECK_TEST: [&str; 3] = ["CMD", "callconfirm", "healthcheck"];

#[test]
fn docker_compose_runs_the_app_and_ngrok_and_ngrok_waits_for_a_healthy_app() {
    let compose = compose();
    let services = &compose["services"];

    let names: BTreeSet<&str> = services
        .as_object()
        .expect("services")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, BTreeSet::from(["app", "app-simulate", "ngrok"]));

    let app = &services["app"];
    assert_eq!(
        app["build"],
        json!({ "context": ".", "dockerfile": "Dockerfile" })
    );
    assert_eq!(app["env_file"], json!(".env"));
    assert_eq!(app["ports"], json!(["5678:5678"]));
    assert_eq!(app["volumes"], json!(["callconfirm-data:/data"]));
    assert_eq!(
        app["environment"]["DATABASE_URL"],
        json!("sqlite:/data/callconfirm.db")
    );
    assert_eq!(app["environment"]["PORT"], json!("5678"));
    assert_eq!(app["healthcheck"]["test"], json!(HEALTHCHECK_TEST));
    assert_eq!(app["restart"], json!("unless-stopped"));
    assert_eq!(app.get("profiles"), None, "app must start by default");

    let ngrok = &services["ngrok"];
    assert_eq!(
        ngrok["build"],
        json!({ "context": ".", "dockerfile": "Dockerfile.ngrok" })
    );
    assert_eq!(ngrok["env_file"], json!(".env"));
    assert_eq!(
        ngrok["environment"],
        json!({
            "NGROK_OPTS": "${NGROK_OPTS:---log=stdout --domain=your-domain.ngrok-free.app}",
            "NGROK_UPSTREAM": "app:5678"
        })
    );
    assert_eq!(ngrok["ports"], json!(["127.0.0.1:4040:4040"]));
    assert_eq!(
        ngrok["depends_on"],
        json!({ "app": { "condition": "service_healthy" } })
    );
    assert_eq!(ngrok.get("profiles"), None, "ngrok must start by default");

    assert_eq!(
        compose["volumes"],
        json!({ "callconfirm-data": null, "callconfirm-simulate-data": null })
    );
}

#[test]
fn the_simulate_profile_runs_the_simulator_without_credentials_or_ngrok() {
    let compose = compose();
    let simulate = &compose["services"]["app-simulate"];

    assert_eq!(simulate["profiles"], json!(["simulate"]));
    assert_eq!(simulate["command"], json!(["--simulate"]));
    assert_eq!(simulate["build"], compose["services"]["app"]["build"]);
    assert_eq!(simulate["image"], compose["services"]["app"]["image"]);
    assert_eq!(simulate["ports"], json!(["5678:5678"]));
    assert_eq!(
        simulate["volumes"],
        json!(["callconfirm-simulate-data:/data"])
    );
    assert_eq!(simulate["healthcheck"]["test"], json!(HEALTHCHECK_TEST));
    assert_eq!(
        simulate.get("env_file"),
        None,
        "the simulator needs no .env"
    );
    assert_eq!(
        simulate.get("depends_on"),
        None,
        "the simulator needs no ngrok"
    );
}

#[test]
fn no_secret_is_written_inline_in_docker_compose() {
    let compose = compose();
    let secrets = [
        "EIGHT_X_EIGHT_API_KEY",
        "EIGHT_X_EIGHT_SUBACCOUNT_ID",
        "WEBHOOK_AUTH_TOKEN",
        "NGROK_AUTHTOKEN",
    ];

    for (name, service) in compose["services"].as_object().expect("services") {
        let environment = service
            .get("environment")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for secret in secrets {
            assert!(
                !environment.contains_key(secret),
                "service {name} sets {secret} inline; it belongs in .env"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dockerfiles
// ---------------------------------------------------------------------------------------

/// A Dockerfile's instructions as (KEYWORD, arguments): continuation lines joined, comments
/// and blank lines dropped.
fn instructions(name: &str) -> Vec<(String, String)> {
    let mut result = Vec::new();
    let mut current = String::new();
    for line in read_repo_file(name).lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head.trim());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current.split_once(' ').unwrap_or((&current, ""));
                result.push((keyword.to_ascii_uppercase(), args.trim().to_owned()));
                current.clear();
            }
        }
    }
    result
}

/// The instructions of each build stage, split at FROM.
fn stages(name: &str) -> Vec<Vec<(String, String)>> {
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    for instruction in instructions(name) {
        if instruction.0 == "FROM" {
            stages.push(Vec::new());
        }
        stages
            .last_mut()
            .unwrap_or_else(|| panic!("{name}: an instruction before the first FROM"))
            .push(instruction);
    }
    stages
}

fn args_of<'a>(stage: &'a [(String, String)], keyword: &str) -> Vec<&'a str> {
    stage
        .iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, args)| args.as_str())
        .collect()
}

fn json_form(args: &str) -> Value {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec (JSON) form ({e}): {args}"))
}

#[test]
fn the_app_dockerfile_builds_locked_in_a_builder_stage_and_runs_unprivileged() {
    let stages = stages("Dockerfile");
    assert_eq!(stages.len(), 2, "a builder and a runtime stage");
    let (builder, runtime) = (&stages[0], &stages[1]);

    assert_eq!(
        args_of(builder, "FROM"),
        ["rust:1.95.0-slim-bookworm AS builder"]
    );
    assert!(
        args_of(builder, "RUN")
            .iter()
            .any(|run| run.contains("cargo build --release --locked")),
        "the builder must build with --locked"
    );

    assert_eq!(
        args_of(runtime, "FROM"),
        ["debian:bookworm-slim AS runtime"]
    );
    assert_eq!(
        args_of(runtime, "COPY"),
        ["--from=builder /out/callconfirm /usr/local/bin/callconfirm"]
    );
    let users = args_of(runtime, "USER");
    assert_eq!(users.len(), 1);
    let user = users[0].split(':').next().unwrap_or_default();
    assert!(
        !["", "0", "root"].contains(&user),
        "runs as root: USER {}",
        users[0]
    );
    assert_eq!(
        args_of(runtime, "VOLUME")
            .iter()
            .map(|v| json_form(v))
            .collect::<Vec<_>>(),
        [json!(["/data"])]
    );
    assert!(
        args_of(runtime, "ENV")
            .iter()
            .any(|env| env.contains("DATABASE_URL=sqlite:/data/callconfirm.db")),
        "the database must live on the /data volume"
    );
    assert_eq!(args_of(runtime, "EXPOSE"), ["5678"]);
    let healthchecks = args_of(runtime, "HEALTHCHECK");
    assert_eq!(healthchecks.len(), 1);
    let (_, command) = healthchecks[0]
        .split_once("CMD ")
        .expect("HEALTHCHECK ... CMD [...]");
    assert_eq!(json_form(command), json!(["callconfirm", "healthcheck"]));
    assert_eq!(
        args_of(runtime, "ENTRYPOINT")
            .iter()
            .map(|e| json_form(e))
            .collect::<Vec<_>>(),
        [json!(["callconfirm"])]
    );
    assert!(
        !runtime.iter().any(|(_, args)| args.contains("curl")),
        "the image needs no curl: `callconfirm healthcheck` does the check"
    );
}

#[test]
fn the_ngrok_dockerfile_starts_a_pinned_official_agent_through_start_ngrok() {
    let stages = stages("Dockerfile.ngrok");
    assert_eq!(stages.len(), 1);
    let stage = &stages[0];

    let from = args_of(stage, "FROM");
    assert_eq!(from.len(), 1);
    let tag = from[0]
        .strip_prefix("ngrok/ngrok:")
        .unwrap_or_else(|| panic!("not the official ngrok image: {}", from[0]));
    assert!(
        tag.starts_with("3.") && tag.ends_with("-alpine"),
        "pin a 3.x Alpine agent (POSIX sh for the scripts), got {tag}"
    );
    assert_eq!(
        args_of(stage, "COPY"),
        ["--chmod=0755 generate_ngrok_config.sh start_ngrok.sh /usr/local/bin/"]
    );
    assert_eq!(
        args_of(stage, "ENTRYPOINT")
            .iter()
            .map(|e| json_form(e))
            .collect::<Vec<_>>(),
        [json!(["/usr/local/bin/start_ngrok.sh"])]
    );
    assert_eq!(args_of(stage, "EXPOSE"), ["4040"]);
    for user in args_of(stage, "USER") {
        assert!(
            !user.starts_with("root") && !user.starts_with('0'),
            "USER {user}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// .env.example and .dockerignore
// ---------------------------------------------------------------------------------------

#[test]
fn env_example_sets_the_required_variables_and_documents_every_variable_with_a_comment() {
    let text = read_repo_file(".env.example");
    let lines: Vec<&str> = text.lines().collect();
    let required = [
        "EIGHT_X_EIGHT_API_KEY",
        "EIGHT_X_EIGHT_SUBACCOUNT_ID",
        "OUTBOUND_PHONE_NUMBER",
        "WEBHOOK_AUTH_TOKEN",
        "WEBHOOK_BASE_URL",
        "NGROK_AUTHTOKEN",
    ];
    let optional = [
        "NGROK_OPTS",
        "NGROK_DOMAIN",
        "EIGHT_X_EIGHT_BASE_URL",
        "HOST",
        "PORT",
        "DATABASE_URL",
        "LOG_FORMAT",
        "RUST_LOG",
        "TEMPLATES_FILE",
        "DEFAULT_TEMPLATE",
        "STAFF_PHONE_NUMBER",
    ];
    let is_commented_assignment = |line: &str| {
        line.strip_prefix("# ")
            .and_then(|rest| rest.split_once('='))
            .is_some_and(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
    };
    // The description of the assignment at `index`: the nearest comment above it that is
    // not itself a commented-out assignment (HOST and PORT share one).
    let description_above = |index: usize| {
        lines[..index]
            .iter()
            .rev()
            .take_while(|line| line.starts_with('#'))
            .find(|line| !is_commented_assignment(line))
            .map(|line| line.trim_start_matches('#').trim())
            .filter(|text| !text.is_empty())
    };

    for name in required {
        let index = lines
            .iter()
            .position(|line| line.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} is not set in .env.example"));
        assert!(
            lines[index].len() > name.len() + 1,
            "{name} needs a placeholder value"
        );
        assert!(description_above(index).is_some(), "{name} has no comment");
    }
    for name in optional {
        let index = lines
            .iter()
            .position(|line| line.starts_with(&format!("# {name}=")))
            .unwrap_or_else(|| panic!("{name} is not documented in .env.example"));
        assert!(description_above(index).is_some(), "{name} has no comment");
    }
}

#[test]
fn dockerignore_keeps_secrets_databases_and_build_output_out_of_the_context() {
    let text = read_repo_file(".dockerignore");
    let patterns: BTreeSet<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();

    for pattern in [
        "target/",
        ".git/",
        ".env",
        "*.db*",
        "ngrok.yml",
        "!.env.example",
    ] {
        assert!(patterns.contains(pattern), ".dockerignore lacks {pattern}");
    }
}

// ---------------------------------------------------------------------------------------
// Linters, when this machine has them (.ci/checks/static.sh installs and runs them)
// ---------------------------------------------------------------------------------------

/// Runs `tool args` if the tool is installed; false when it is not.
fn lint_if_installed(tool: &str, args: &[&str]) -> bool {
    let output = match Command::new(tool)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("{tool} is not installed: skipped here; .ci/checks/static.sh runs it");
            return false;
        }
        Err(e) => panic!("cannot run {tool}: {e}"),
    };
    assert!(
        output.status.success(),
        "{tool} found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

#[test]
fn the_shell_scripts_pass_shellcheck_when_it_is_installed() {
    lint_if_installed(
        "shellcheck",
        &[GENERATOR, ENTRYPOINT, ".ci/checks/static.sh"],
    );
}

#[test]
fn both_dockerfiles_pass_hadolint_when_it_is_installed() {
    lint_if_installed(
        "hadolint",
        &[
            "--failure-threshold",
            "style",
            "Dockerfile",
            "Dockerfile.ngrok",
        ],
    );
}
