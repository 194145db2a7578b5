//! Typed settings read once from the environment (and `.env`), validated together so that
//! startup fails with one message naming every missing or invalid variable.

use crate::domain::PhoneNumber;
use crate::voice::client::VoiceClientSettings;
use secrecy::SecretString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub voice: VoiceClientSettings,
    /// The 8x8 virtual number calls come from.
    pub outbound_number: PhoneNumber,
    /// Guards the API (Basic `admin:{token}`) and the webhooks.
    pub webhook_auth_token: SecretString,
    /// The public URL 8x8 calls back (the ngrok domain); needed to register webhooks.
    pub webhook_base_url: Option<String>,
    pub database_url: String,
    pub log_format: LogFormat,
    pub templates_file: Option<PathBuf>,
    pub default_template: Option<String>,
    pub max_reprompts: u8,
    pub max_repeats: u8,
    /// Staff number the customer reaches with 2 when a call gives none.
    pub staff_phone: Option<PhoneNumber>,
    /// Number spoken at the end of prompts when a call gives none.
    pub callback_phone: Option<PhoneNumber>,
    /// Run against the built-in 8x8 simulator instead of 8x8.
    pub simulate: Option<SimulateSettings>,
}

/// How the in-process simulator of `--simulate` behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulateSettings {
    /// `SIMULATOR_TIMING=instant` for no delays; realistic by default so a demo feels like a call.
    pub instant: bool,
    /// `SIMULATOR_CUSTOMERS`: scripted keys per destination, e.g. `+15550001=9,1`.
    pub customers: Option<String>,
    /// `SIMULATOR_PORT`: where the simulator listens on 127.0.0.1 (0 picks a free port), so
    /// that people trying the service can inspect it at a known address.
    pub port: u16,
}

pub const DEFAULT_SIMULATOR_PORT: u16 = 8088;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Startup cannot go on: every missing and invalid variable, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ConfigError {
    pub missing: Vec<&'static str>,
    pub invalid: Vec<(&'static str, String)>,
}

impl ConfigError {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "missing required environment variables: {}",
                self.missing.join(", ")
            ));
        }
        for (name, problem) in &self.invalid {
            parts.push(format!("{name} {problem}"));
        }
        format!(
            "cannot start: {} (set them in the environment or in .env; see .env.example)",
            parts.join("; ")
        )
    }
}

/// Credentials and numbers `--simulate` uses when none are set: the simulator accepts them,
/// and the token is the one README's walk-through uses.
pub mod simulated {
    pub const API_KEY: &str = "simulator-api-key";
    pub const SUBACCOUNT_ID: &str = "callconfirm-sim";
    pub const OUTBOUND_NUMBER: &str = "+6568332048";
    pub const WEBHOOK_AUTH_TOKEN: &str = "simulate-token";
}

pub const DEFAULT_PORT: u16 = 5678;
pub const DEFAULT_BASE_URL: &str = "https://voice.8x8.com";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:callconfirm.db";

impl Settings {
    /// Reads the settings through `lookup` (the process environment in production, a map in
    /// tests). With `simulate`, 8x8 credentials and the token fall back to the simulator's.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        simulate: bool,
    ) -> Result<Settings, ConfigError> {
        let mut reader = Reader {
            lookup: &lookup,
            missing: Vec::new(),
            invalid: Vec::new(),
        };
        let fallback = |value: &'static str| simulate.then(|| value.to_owned());

        let api_key = reader.required("EIGHT_X_EIGHT_API_KEY", fallback(simulated::API_KEY));
        let subaccount_id = reader.required(
            "EIGHT_X_EIGHT_SUBACCOUNT_ID",
            fallback(simulated::SUBACCOUNT_ID),
        );
        let outbound = reader.required(
            "OUTBOUND_PHONE_NUMBER",
            fallback(simulated::OUTBOUND_NUMBER),
        );
        let token = reader.required(
            "WEBHOOK_AUTH_TOKEN",
            fallback(simulated::WEBHOOK_AUTH_TOKEN),
        );

        let outbound_number = outbound.and_then(|raw| reader.phone("OUTBOUND_PHONE_NUMBER", &raw));
        if let Some(subaccount) = &subaccount_id {
            // The pattern 8x8's OpenAPI gives for every subAccountId path parameter.
            let valid = (3..=50).contains(&subaccount.len())
                && subaccount
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._&".contains(c));
            if !valid {
                reader.invalid.push((
                    "EIGHT_X_EIGHT_SUBACCOUNT_ID",
                    "must be 3 to 50 characters of A-Z, a-z, 0-9, - . _ &".to_owned(),
                ));
            }
        }
        if let Some(token) = &token
            && token.len() < 8
        {
            reader.invalid.push((
                "WEBHOOK_AUTH_TOKEN",
                "must be at least 8 characters long".to_owned(),
            ));
        }

        let host: IpAddr = reader
            .parsed("HOST", "an IP address such as 0.0.0.0")
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let port: u16 = reader
            .parsed("PORT", "a port number")
            .unwrap_or(DEFAULT_PORT);
        let endpoint = reader.endpoint();
        let webhook_base_url = reader.optional("WEBHOOK_BASE_URL");
        reader.check_http_url("WEBHOOK_BASE_URL", webhook_base_url.as_deref());
        let log_format = match reader.optional("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                reader
                    .invalid
                    .push(("LOG_FORMAT", "must be text or json".to_owned()));
                LogFormat::Text
            }
        };
        let max_reprompts = reader
            .parsed::<u8>("MAX_REPROMPTS", "a number from 0 to 5")
            .unwrap_or(1);
        if max_reprompts > 5 {
            reader
                .invalid
                .push(("MAX_REPROMPTS", "must be a number from 0 to 5".to_owned()));
        }
        let max_repeats = reader
            .parsed::<u8>("MAX_REPEATS", "a number from 0 to 5")
            .unwrap_or(2);
        if max_repeats > 5 {
            reader
                .invalid
                .push(("MAX_REPEATS", "must be a number from 0 to 5".to_owned()));
        }
        let staff_phone = reader
            .optional("STAFF_PHONE_NUMBER")
            .and_then(|raw| reader.phone("STAFF_PHONE_NUMBER", &raw));
        let callback_phone = reader
            .optional("CALLBACK_PHONE_NUMBER")
            .and_then(|raw| reader.phone("CALLBACK_PHONE_NUMBER", &raw));
        let templates_file = reader.optional("TEMPLATES_FILE").map(PathBuf::from);
        let default_template = reader.optional("DEFAULT_TEMPLATE");
        let database_url = reader
            .optional("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let simulate = simulate.then(|| SimulateSettings {
            instant: reader.optional("SIMULATOR_TIMING").as_deref() == Some("instant"),
            customers: reader.optional("SIMULATOR_CUSTOMERS"),
            port: reader
                .parsed("SIMULATOR_PORT", "a port number")
                .unwrap_or(DEFAULT_SIMULATOR_PORT),
        });

        let Reader {
            missing, invalid, ..
        } = reader;
        match (api_key, subaccount_id, outbound_number, token) {
            (Some(api_key), Some(subaccount_id), Some(outbound_number), Some(token))
                if missing.is_empty() && invalid.is_empty() =>
            {
                Ok(Settings {
                    listen: SocketAddr::new(host, port),
                    voice: endpoint.into_settings(api_key, subaccount_id),
                    outbound_number,
                    webhook_auth_token: SecretString::from(token),
                    webhook_base_url,
                    database_url,
                    log_format,
                    templates_file,
                    default_template,
                    max_reprompts,
                    max_repeats,
                    staff_phone,
                    callback_phone,
                    simulate,
                })
            }
            _ => Err(ConfigError { missing, invalid }),
        }
    }

    /// Reads the process environment (after `.env` was loaded by `main`).
    pub fn from_env(simulate: bool) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|name| std::env::var(name).ok(), simulate)
    }
}

/// The 8x8 endpoint settings, before the credentials are known to be present.
struct Endpoint {
    base_url: String,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl Endpoint {
    fn into_settings(self, api_key: String, subaccount_id: String) -> VoiceClientSettings {
        VoiceClientSettings {
            base_url: self.base_url,
            api_key: SecretString::from(api_key),
            subaccount_id,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
        }
    }
}

/// Collects problems while reading, so that all of them are reported at once.
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    missing: Vec<&'static str>,
    invalid: Vec<(&'static str, String)>,
}

impl Reader<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn required(&mut self, name: &'static str, fallback: Option<String>) -> Option<String> {
        let value = self.optional(name).or(fallback);
        if value.is_none() {
            self.missing.push(name);
        }
        value
    }

    fn parsed<T: std::str::FromStr>(&mut self, name: &'static str, what: &str) -> Option<T> {
        let raw = self.optional(name)?;
        match raw.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.invalid.push((name, format!("must be {what}")));
                None
            }
        }
    }

    fn check_http_url(&mut self, name: &'static str, url: Option<&str>) {
        if let Some(url) = url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            self.invalid
                .push((name, "must start with http:// or https://".to_owned()));
        }
    }

    /// Where 8x8 is and how long to wait for it: shared by serving and registering.
    fn endpoint(&mut self) -> Endpoint {
        let base_url = self
            .optional("EIGHT_X_EIGHT_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        self.check_http_url("EIGHT_X_EIGHT_BASE_URL", Some(&base_url));
        let connect_ms = self
            .parsed::<u64>(
                "EIGHT_X_EIGHT_CONNECT_TIMEOUT_MS",
                "a number of milliseconds",
            )
            .unwrap_or(5_000);
        let request_ms = self
            .parsed::<u64>("EIGHT_X_EIGHT_TIMEOUT_MS", "a number of milliseconds")
            .unwrap_or(15_000);
        Endpoint {
            base_url,
            connect_timeout: Duration::from_millis(connect_ms),
            request_timeout: Duration::from_millis(request_ms),
        }
    }

    fn phone(&mut self, name: &'static str, raw: &str) -> Option<PhoneNumber> {
        match PhoneNumber::parse(raw) {
            Ok(phone) => Some(phone),
            Err(error) => {
                self.invalid.push((name, error.to_string()));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const COMPLETE: [(&str, &str); 4] = [
        ("EIGHT_X_EIGHT_API_KEY", "key-123"),
        ("EIGHT_X_EIGHT_SUBACCOUNT_ID", "acme_voice"),
        ("OUTBOUND_PHONE_NUMBER", "+65 6833 2048"),
        ("WEBHOOK_AUTH_TOKEN", "s3cret-token"),
    ];

    #[test]
    fn every_missing_variable_is_named_in_one_message() {
        let error = Settings::from_lookup(lookup(&[]), false).unwrap_err();
        assert_eq!(
            error.missing,
            vec![
                "EIGHT_X_EIGHT_API_KEY",
                "EIGHT_X_EIGHT_SUBACCOUNT_ID",
                "OUTBOUND_PHONE_NUMBER",
                "WEBHOOK_AUTH_TOKEN"
            ]
        );
        assert_eq!(
            error.to_string(),
            "cannot start: missing required environment variables: EIGHT_X_EIGHT_API_KEY, \
             EIGHT_X_EIGHT_SUBACCOUNT_ID, OUTBOUND_PHONE_NUMBER, WEBHOOK_AUTH_TOKEN (set them \
             in the environment or in .env; see .env.example)"
        );
    }

    #[test]
    fn defaults_apply_when_only_the_required_variables_are_set() {
        let settings = Settings::from_lookup(lookup(&COMPLETE), false).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:5678".parse().unwrap());
        assert_eq!(settings.voice.base_url, "https://voice.8x8.com");
        assert_eq!(settings.voice.subaccount_id, "acme_voice");
        assert_eq!(settings.voice.api_key.expose_secret(), "key-123");
        assert_eq!(settings.outbound_number.digits(), "6568332048");
        assert_eq!(settings.database_url, "sqlite:callconfirm.db");
        assert_eq!(settings.voice.request_timeout, Duration::from_secs(15));
        assert_eq!(settings.max_reprompts, 1);
        assert!(settings.simulate.is_none());
    }

    #[test]
    fn invalid_values_are_named_with_the_missing_ones() {
        let error = Settings::from_lookup(
            lookup(&[
                ("PORT", "http"),
                ("OUTBOUND_PHONE_NUMBER", "12"),
                ("LOG_FORMAT", "xml"),
            ]),
            false,
        )
        .unwrap_err();
        assert_eq!(
            error.missing,
            vec![
                "EIGHT_X_EIGHT_API_KEY",
                "EIGHT_X_EIGHT_SUBACCOUNT_ID",
                "WEBHOOK_AUTH_TOKEN"
            ]
        );
        assert_eq!(
            error.invalid,
            vec![
                (
                    "OUTBOUND_PHONE_NUMBER",
                    "must contain 7 to 15 digits, found 2".to_owned()
                ),
                ("PORT", "must be a port number".to_owned()),
                ("LOG_FORMAT", "must be text or json".to_owned()),
            ]
        );
    }

    #[test]
    fn simulate_needs_no_credentials() {
        let settings = Settings::from_lookup(lookup(&[]), true).unwrap();
        assert_eq!(settings.voice.subaccount_id, simulated::SUBACCOUNT_ID);
        assert_eq!(
            settings.webhook_auth_token.expose_secret(),
            simulated::WEBHOOK_AUTH_TOKEN
        );
        assert_eq!(
            settings.simulate,
            Some(SimulateSettings {
                instant: false,
                customers: None,
                port: 8088
            })
        );
    }

    #[test]
    fn a_short_token_is_refused() {
        let mut pairs = COMPLETE.to_vec();
        pairs[3] = ("WEBHOOK_AUTH_TOKEN", "short");
        let error = Settings::from_lookup(lookup(&pairs), false).unwrap_err();
        assert_eq!(
            error.invalid,
            vec![(
                "WEBHOOK_AUTH_TOKEN",
                "must be at least 8 characters long".to_owned()
            )]
        );
    }
}

/// What `callconfirm register-webhooks` needs: 8x8 credentials, the public URL and the token.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub voice: VoiceClientSettings,
    pub webhook_base_url: String,
    pub webhook_auth_token: SecretString,
}

impl RegistrationSettings {
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<RegistrationSettings, ConfigError> {
        let mut reader = Reader {
            lookup: &lookup,
            missing: Vec::new(),
            invalid: Vec::new(),
        };
        let api_key = reader.required("EIGHT_X_EIGHT_API_KEY", None);
        let subaccount_id = reader.required("EIGHT_X_EIGHT_SUBACCOUNT_ID", None);
        let token = reader.required("WEBHOOK_AUTH_TOKEN", None);
        let webhook_base_url = reader.required("WEBHOOK_BASE_URL", None);
        reader.check_http_url("WEBHOOK_BASE_URL", webhook_base_url.as_deref());
        let endpoint = reader.endpoint();
        let Reader {
            missing, invalid, ..
        } = reader;
        match (api_key, subaccount_id, token, webhook_base_url) {
            (Some(api_key), Some(subaccount_id), Some(token), Some(webhook_base_url))
                if invalid.is_empty() =>
            {
                Ok(RegistrationSettings {
                    voice: endpoint.into_settings(api_key, subaccount_id),
                    webhook_base_url,
                    webhook_auth_token: SecretString::from(token),
                })
            }
            _ => Err(ConfigError { missing, invalid }),
        }
    }
}
