//! The toolchain pieces the build needs, installed when missing:
//!
//! - a nightly toolchain with `rust-src` (the kernel programs are built with
//!   `-Z build-std=core` for the BPF target);
//! - `bpf-linker`, built against the very LLVM the nightly ships (a plain
//!   `cargo install bpf-linker` looks for a system LLVM and fails);
//! - tracefs mounted (tracepoints attach through it).
//!
//! Each check is cheap when everything is in place.

use std::{fs, path::PathBuf, process::Command};

use anyhow::{Context as _, bail};

use crate::util::{is_root, output, run, say};

/// bpf-linker release known to work with the pinned aya crates.
const BPF_LINKER_VERSION: &str = "0.13.0";

pub fn ensure_all() -> anyhow::Result<()> {
    ensure_nightly()?;
    ensure_bpf_linker()?;
    ensure_tracefs();
    Ok(())
}

fn rustup() -> Command {
    let mut command = Command::new("rustup");
    // Keep the toolchain chosen for xtask itself out of rustup's decisions.
    command.env_remove("RUSTUP_TOOLCHAIN");
    command
}

pub fn ensure_nightly() -> anyhow::Result<()> {
    let toolchains = output(rustup().args(["toolchain", "list"])).context("rustup is needed to build the kernel programs")?;
    if !toolchains.lines().any(|line| line.starts_with("nightly")) {
        say("installing the nightly Rust toolchain (the kernel programs need it)");
        run(rustup().args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    let components = output(rustup().args(["component", "list", "--toolchain", "nightly", "--installed"]))?;
    if !components.lines().any(|line| line.starts_with("rust-src")) {
        say("adding rust-src to the nightly toolchain (to build `core` for the BPF target)");
        run(rustup().args(["component", "add", "rust-src", "--toolchain", "nightly"]))?;
    }
    Ok(())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
}

/// The nightly's own libLLVM: (file name, major version).
fn nightly_llvm() -> anyhow::Result<(PathBuf, String)> {
    let sysroot = output(Command::new("rustc").env_remove("RUSTUP_TOOLCHAIN").args(["+nightly", "--print", "sysroot"]))?;
    let lib = PathBuf::from(sysroot.trim()).join("lib");
    for entry in fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(version) = name.strip_prefix("libLLVM.so.")
            && let Some(major) = version.split('.').next()
            && major.chars().all(|c| c.is_ascii_digit())
        {
            return Ok((path, major.to_owned()));
        }
        if let Some(version) = name.strip_prefix("libLLVM-")
            && let Some(major) = version.split(['.', '-']).next()
            && major.chars().all(|c| c.is_ascii_digit())
        {
            return Ok((path, major.to_owned()));
        }
    }
    bail!("the nightly toolchain in {} ships no libLLVM; reinstall it with `rustup toolchain install nightly`", lib.display())
}

fn ensure_bpf_linker() -> anyhow::Result<()> {
    let (library, major) = nightly_llvm()?;
    let prefix = cargo_home().join(format!("llvm{major}"));
    let marker = prefix.join(".bpf-linker-built-for");
    let library_name = library.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let wanted = format!("{BPF_LINKER_VERSION} {library_name}");
    let binary = cargo_home().join("bin").join("bpf-linker");
    if binary.exists() && fs::read_to_string(&marker).is_ok_and(|built| built.trim() == wanted) {
        return Ok(());
    }
    say(&format!("building bpf-linker {BPF_LINKER_VERSION} against the nightly's LLVM {major} (about a minute, once)"));
    let lib_dir = prefix.join("lib");
    fs::create_dir_all(&lib_dir).with_context(|| format!("creating {}", lib_dir.display()))?;
    for link in [lib_dir.join("libLLVM.so"), lib_dir.join(&library_name)] {
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&library, &link).with_context(|| format!("linking {}", link.display()))?;
    }
    let mut install = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    install
        .env("LLVM_PREFIX", &prefix)
        .args(["install", "--locked", "--force", "--no-default-features", "--features"])
        .arg(format!("llvm-{major}"))
        .arg(format!("bpf-linker@{BPF_LINKER_VERSION}"));
    run(&mut install).context("building bpf-linker failed; see the compiler output above")?;
    fs::write(&marker, &wanted)?;
    Ok(())
}

/// Debian packages the end-to-end tests run for real: database servers on
/// loopback and their clients (`psql`, `pgbench`, `mariadb`).
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/pgbench", "postgresql-client"),
    ("/usr/bin/psql", "postgresql-client"),
    ("/usr/lib/postgresql", "postgresql"),
    ("/usr/sbin/mariadbd", "mariadb-server"),
    ("/usr/bin/mariadb", "mariadb-client"),
    ("/usr/sbin/ip", "iproute2"),
    // A certificate for the PostgreSQL server the TLS test starts.
    ("/usr/bin/openssl", "openssl"),
    // The report test renders, screenshots and prints the HTML report.
    ("/usr/bin/chromium", "chromium"),
];

pub fn ensure_test_packages() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = TEST_PACKAGES
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        say(&format!("the database and browser tests need Debian packages {}; install them as root (tests that need them are skipped)", missing.join(" ")));
        return Ok(());
    }
    say(&format!("installing test packages: {}", missing.join(" ")));
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        command
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install).context("installing the test packages failed")?;
    Ok(())
}

fn ensure_tracefs() {
    let path = std::path::Path::new("/sys/kernel/tracing");
    if path.join("events").is_dir() {
        return;
    }
    if !is_root() {
        say("tracefs is not mounted at /sys/kernel/tracing; the sensor mounts it when run as root");
        return;
    }
    say("mounting tracefs at /sys/kernel/tracing");
    if let Err(error) = run(Command::new("mount").args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])) {
        say(&format!("could not mount tracefs ({error}); the sensor will say what it needs"));
    }
}
