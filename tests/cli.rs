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
