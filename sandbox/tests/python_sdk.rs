//! The published Python SDK (`keystoneos` 0.1.0 from PyPI) works unchanged against the sandbox.
//! `scripts/bootstrap --test` installs it in a virtual environment; `KEYSTONE_SDK_PYTHON` names its python.

mod common;

#[tokio::test]
async fn the_published_python_sdk_works_unchanged() {
    let python = std::env::var("KEYSTONE_SDK_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").expect("HOME is set");
        format!("{home}/.cache/keystone-dashboard/sdk-venv/bin/python")
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run scripts/bootstrap --test (it installs the keystoneos SDK)"
    );
    let sandbox = common::spawn().await;
    // Cargo's run-time variable, not `env!`: a test binary reused from another clone of the
    // repository through the shared target folder carries that clone's path, which may be gone.
    let package = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
    let script = format!("{package}/tests/sdk_check.py");
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .arg(&sandbox.base)
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all passed"), "{stdout}");
}
