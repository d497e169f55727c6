//! Every setting of the dashboard server: a command-line flag that can also come from a `KEYSTONE_*`
//! environment variable (flags win). `keystone-dashboard --help` is the reference.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, ValueEnum};

/// The KeyStone Dashboard server (backend-for-frontend of the KeyStone admin console).
#[derive(Debug, Clone, Parser)]
#[command(name = "keystone-dashboard", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "KEYSTONE_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen_addr: SocketAddr,

    /// The URL browsers use to reach the dashboard (scheme, host and port; no path).
    #[arg(
        long,
        env = "KEYSTONE_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub public_url: String,

    /// Folder holding the built site (WASM, JS, CSS and public assets), as produced by cargo-leptos.
    #[arg(long, env = "KEYSTONE_SITE_ROOT", default_value = default_site_root())]
    pub site_root: PathBuf,

    /// Base URL of the KeyStone API. When absent, the embedded sandbox is started and used.
    #[arg(long, env = "KEYSTONE_API_URL")]
    pub api_url: Option<String>,

    /// Log output format.
    #[arg(long, env = "KEYSTONE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    #[arg(long, env = "KEYSTONE_LOG", default_value = "info")]
    pub log_filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// cargo-leptos bakes its `site-root` into the build; a plain `cargo build` falls back to the default.
fn default_site_root() -> &'static str {
    option_env!("LEPTOS_SITE_ROOT").unwrap_or("target/site")
}

impl Config {
    /// Settings for tests: port 0, no site files needed for server-rendered HTML.
    pub fn for_tests() -> Self {
        Self::parse_from(["keystone-dashboard", "--listen-addr", "127.0.0.1:0"])
    }

    pub fn serves_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        <Config as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn flags_override_defaults() {
        let config = Config::parse_from([
            "keystone-dashboard",
            "--listen-addr",
            "0.0.0.0:8080",
            "--log-format",
            "json",
        ]);
        assert_eq!(config.listen_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.log_format, LogFormat::Json);
    }
}
