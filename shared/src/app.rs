//! What a function needs at run time, built once per process from one `SdkConfig`.

use aws_config::SdkConfig;

use crate::store::{Retention, Store};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Settings from the environment; the SAM template sets them, the local server too.
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// Bodies larger than this are refused with 413 before they are parsed.
    pub max_body_bytes: usize,
    pub retention: Retention,
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{raw:?} is not a number"),
        }),
    }
}

impl Config {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;

    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Retention::default();
        Ok(Self {
            table_name: var("ORGS_TABLE_NAME").ok_or(ConfigError::Missing("ORGS_TABLE_NAME"))?,
            max_body_bytes: number("ORGS_MAX_BODY_BYTES", Self::DEFAULT_MAX_BODY_BYTES)?,
            retention: Retention {
                audit_seconds: number::<i64>(
                    "ORGS_AUDIT_RETENTION_DAYS",
                    defaults.audit_seconds / 86_400,
                )? * 86_400,
                event_seconds: defaults.event_seconds,
            },
        })
    }

    pub fn for_table(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            retention: Retention::default(),
        }
    }
}

/// Shared state of a function: its clients and settings.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub config: Config,
}

impl App {
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        let store = Store::new(client, config.table_name.clone(), config.retention);
        Self { store, config }
    }
}

/// Plain-text logs without colours or timestamps: CloudWatch adds its own time.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}
