//! The `keystone-dashboard` binary's settings: each one a flag and a `KEYSTONE_*` variable.

use std::process::Command;

#[test]
fn help_lists_every_setting_with_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, variable) in [
        ("--listen-addr", "KEYSTONE_LISTEN_ADDR"),
        ("--public-url", "KEYSTONE_PUBLIC_URL"),
        ("--site-root", "KEYSTONE_SITE_ROOT"),
        ("--api-url", "KEYSTONE_API_URL"),
        ("--log-format", "KEYSTONE_LOG_FORMAT"),
        ("--log-filter", "KEYSTONE_LOG"),
        ("--auth-issuer", "KEYSTONE_AUTH_ISSUER"),
        ("--auth-client-id", "KEYSTONE_AUTH_CLIENT_ID"),
        ("--auth-client-secret", "KEYSTONE_AUTH_CLIENT_SECRET"),
        ("--auth-organization", "KEYSTONE_AUTH_ORGANIZATION"),
        (
            "--auth-token-endpoint-auth-method",
            "KEYSTONE_AUTH_TOKEN_ENDPOINT_AUTH_METHOD",
        ),
        ("--api-audience", "KEYSTONE_API_AUDIENCE"),
        ("--auth-jwks-max-age", "KEYSTONE_AUTH_JWKS_MAX_AGE"),
        ("--session-store", "KEYSTONE_SESSION_STORE"),
        ("--redis-url", "KEYSTONE_REDIS_URL"),
        (
            "--allow-plaintext-upstreams",
            "KEYSTONE_ALLOW_PLAINTEXT_UPSTREAMS",
        ),
        ("--data-dir", "KEYSTONE_DATA_DIR"),
        ("--token-encryption-key", "KEYSTONE_TOKEN_ENCRYPTION_KEY"),
        (
            "--session-idle-timeout-seconds",
            "KEYSTONE_SESSION_IDLE_TIMEOUT",
        ),
        (
            "--session-absolute-lifetime-seconds",
            "KEYSTONE_SESSION_ABSOLUTE_LIFETIME",
        ),
        (
            "--token-refresh-margin-seconds",
            "KEYSTONE_TOKEN_REFRESH_MARGIN",
        ),
        ("--upstream-timeout-seconds", "KEYSTONE_UPSTREAM_TIMEOUT"),
        ("--api-version", "KEYSTONE_API_VERSION"),
        ("--bootstrap-environment", "KEYSTONE_BOOTSTRAP_ENVIRONMENT"),
        ("--sandbox-addr", "KEYSTONE_SANDBOX_ADDR"),
        ("--sandbox-public-url", "KEYSTONE_SANDBOX_PUBLIC_URL"),
        ("--sandbox-oidc-profile", "KEYSTONE_SANDBOX_OIDC_PROFILE"),
        (
            "--sandbox-dashboard-token-auth-method",
            "KEYSTONE_SANDBOX_DASHBOARD_TOKEN_AUTH_METHOD",
        ),
        ("--production", "KEYSTONE_PRODUCTION"),
        ("--allow-insecure-http", "KEYSTONE_ALLOW_INSECURE_HTTP"),
        ("--trusted-proxies", "KEYSTONE_TRUSTED_PROXIES"),
        ("--metrics-allowed-from", "KEYSTONE_METRICS_ALLOWED_FROM"),
    ] {
        assert!(
            help.contains(flag) && help.contains(variable),
            "--help lacks {flag} / {variable}:\n{help}"
        );
    }
}

#[test]
fn settings_can_come_from_the_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .env("KEYSTONE_LISTEN_ADDR", "not-an-address")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("not-an-address"),
        "the variable was read and rejected: {stderr}"
    );
}

#[test]
fn help_never_prints_the_values_of_secret_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .arg("--help")
        .env("KEYSTONE_AUTH_CLIENT_SECRET", "client-secret-value")
        .env("KEYSTONE_TOKEN_ENCRYPTION_KEY", "encryption-key-value")
        // A Redis URL may carry the server's password.
        .env("KEYSTONE_REDIS_URL", "redis://:redis-password@redis:6379")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("KEYSTONE_AUTH_CLIENT_SECRET"));
    assert!(help.contains("KEYSTONE_REDIS_URL"));
    assert!(!help.contains("client-secret-value"), "{help}");
    assert!(!help.contains("encryption-key-value"), "{help}");
    assert!(!help.contains("redis-password"), "{help}");
}

#[test]
fn a_real_upstream_needs_the_identity_provider_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .args(["--api-url", "https://api.keystoneos.xyz"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--auth-issuer"), "{stderr}");
}

#[test]
fn redis_needs_its_url_and_a_shared_encryption_key() {
    let dashboard = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"));
        command.args([
            "--listen-addr",
            "127.0.0.1:0",
            "--sandbox-addr",
            "127.0.0.1:0",
            "--session-store",
            "redis",
        ]);
        command
            .env_remove("KEYSTONE_TOKEN_ENCRYPTION_KEY")
            .env_remove("KEYSTONE_REDIS_URL");
        command
    };
    let output = dashboard().output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--redis-url"), "{stderr}");

    // Every replica must open what the others sealed, so a generated key will not do.
    let output = dashboard()
        .args(["--redis-url", "redis://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--token-encryption-key"), "{stderr}");
}

#[test]
fn production_mode_refuses_to_start_with_unsafe_settings_and_says_which() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .env("KEYSTONE_PRODUCTION", "true")
        .env("KEYSTONE_PUBLIC_URL", "http://dashboard.example")
        .env("KEYSTONE_SESSION_STORE", "memory")
        // Must not be reached: nothing may listen when the settings are refused.
        .env("KEYSTONE_LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    for expected in [
        "refusing to start in production mode",
        "no --api-url",
        "no --token-encryption-key",
        "--session-store memory",
        "is not https",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
}

/// `docs/configuration.md` carries the `--help` text verbatim, so the reference cannot drift from
/// the binary. `KEYSTONE_UPDATE_DOCS=1 cargo test --features ssr --test cli` rewrites it.
#[test]
fn the_configuration_reference_matches_help() {
    const START: &str = "<!-- help:start -->\n```text\n";
    const END: &str = "```\n<!-- help:end -->";
    // `--help` shows the values of set `KEYSTONE_*` variables: none may leak in from this shell.
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-dashboard"))
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    // Cargo's run-time variable, not `env!`: a test binary reused from another clone of the
    // repository through the shared target folder carries that clone's path.
    let package = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&package).join("docs/configuration.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = doc
        .split_once(START)
        .expect("docs/configuration.md has the start marker");
    let (documented, after) = rest.split_once(END).expect("and the end marker");
    if documented != help {
        if std::env::var_os("KEYSTONE_UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{before}{START}{help}{END}{after}")).unwrap();
        } else {
            panic!(
                "docs/configuration.md is out of date with --help; run \
                 KEYSTONE_UPDATE_DOCS=1 cargo test --features ssr --test cli"
            );
        }
    }
}

/// The compose demo's dashboards believe `X-Forwarded-For` from their proxy alone: a whole private
/// range would let any container on the network choose the address it is rate-limited as.
#[test]
fn compose_trusts_only_its_proxy() {
    let compose =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/compose.yaml")).unwrap();
    let value = |key: &str| -> Vec<String> {
        compose
            .lines()
            .filter_map(|line| line.trim().strip_prefix(key))
            .map(|rest| rest.trim().trim_matches('"').to_owned())
            .collect()
    };
    let trusted = value("KEYSTONE_TRUSTED_PROXIES:");
    let proxy = value("ipv4_address:");
    assert_eq!(proxy.len(), 1, "the proxy has one fixed address");
    assert_eq!(trusted, proxy, "trusted proxies are exactly the proxy");
    assert!(proxy[0].parse::<std::net::Ipv4Addr>().is_ok(), "{proxy:?}");
}
