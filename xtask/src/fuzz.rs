//! `cargo xtask fuzz`: runs the libFuzzer targets of `fuzz/` for a given
//! time each, on the nightly toolchain with `cargo-fuzz` (both installed
//! when missing). `cargo xtask test` runs it briefly after the test suites.
//!
//! Each target starts from the seeds in `fuzz/corpus/<target>` (read only:
//! what the fuzzer finds goes to a scratch directory that is removed).
//! Crashing inputs are kept in `fuzz/artifacts/<target>/` and fail the run.
//! The targets are built without a sanitizer (the fuzzed crates forbid
//! `unsafe`) and with debug assertions, so arithmetic overflow is caught.

use std::process::Command;

use anyhow::Context as _;

use crate::util::{output, project_root, run, say};

/// Every target in `fuzz/Cargo.toml`.
pub const TARGETS: &[&str] = &["postgres", "mysql", "fingerprint", "analyze"];

/// `cargo-fuzz` release installed when missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

fn cargo_fuzz() -> Command {
    let mut command = Command::new("rustup");
    command
        .env_remove("RUSTUP_TOOLCHAIN")
        .current_dir(project_root().join("fuzz"))
        .args(["run", "nightly", "cargo", "fuzz"]);
    command
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    if output(cargo_fuzz().arg("--version")).is_ok() {
        return Ok(());
    }
    say(&format!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} (once)"
    ));
    let mut install = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    install
        .args(["install", "--locked"])
        .arg(format!("cargo-fuzz@{CARGO_FUZZ_VERSION}"));
    run(&mut install).context("installing cargo-fuzz failed")
}

/// Runs `targets` (all when empty) for `seconds` each.
pub fn run_targets(seconds: u64, targets: &[String]) -> anyhow::Result<()> {
    crate::setup::ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let targets: Vec<&str> = if targets.is_empty() {
        TARGETS.to_vec()
    } else {
        targets.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = targets.iter().find(|t| !TARGETS.contains(t)) {
        anyhow::bail!(
            "no fuzz target {unknown:?}; the targets are {}",
            TARGETS.join(", ")
        );
    }
    let flags = ["--sanitizer", "none", "--debug-assertions"];
    say("building the fuzz targets (nightly)");
    run(cargo_fuzz().arg("build").args(flags))?;
    let fuzz_dir = project_root().join("fuzz");
    for target in targets {
        say(&format!("fuzzing {target} for {seconds} s"));
        let scratch =
            std::env::temp_dir().join(format!("dataflow-fuzz-{target}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let artifacts = fuzz_dir.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts)
            .with_context(|| format!("creating {}", artifacts.display()))?;
        let result = run(cargo_fuzz()
            .arg("run")
            .args(flags)
            .arg(target)
            .arg(&scratch)
            .arg(fuzz_dir.join("corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display())));
        let _ = std::fs::remove_dir_all(&scratch);
        result.with_context(|| {
            format!(
                "fuzz target {target} failed; the crashing input is in {}",
                artifacts.display()
            )
        })?;
    }
    Ok(())
}
