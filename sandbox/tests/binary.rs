//! The `keystone-sandbox` binary: its help documents the settings, and running it prints what a tester needs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn help_documents_every_setting() {
    let output = Command::new(env!("CARGO_BIN_EXE_keystone-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--sandbox-addr",
        "--sandbox-dashboard-url",
        "--sandbox-signing-key",
        "--sandbox-state-file",
        "--sandbox-access-token-ttl",
        "--sandbox-refresh-reuse-interval",
        "--sandbox-rate-limit-rpm",
        "--sandbox-seed-members",
        "--sandbox-trusted-proxy",
        "--sandbox-latency-ms",
        "--sandbox-failure-rate",
        "KEYSTONE_SANDBOX_ADDR",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn running_it_prints_the_urls_and_the_seeded_client_ids() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keystone-sandbox"))
        .args(["--sandbox-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("M2M production") {
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert!(
        banner.contains("/.well-known/openid-configuration"),
        "{banner}"
    );
    assert!(banner.contains("/v1"), "{banner}");
    assert!(
        banner.contains("keystone-dashboard") && banner.contains("sandbox-dashboard-secret"),
        "{banner}"
    );
    for slug in ["development", "staging", "production"] {
        assert!(banner.contains(&format!("sandbox-m2m-{slug}")), "{banner}");
    }
}
