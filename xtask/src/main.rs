//! Project automation. Every command that builds first makes sure the
//! toolchain pieces are in place (see `setup`), so a fresh clone needs
//! nothing but `cargo xtask run` or `cargo xtask test`.

mod bench;
mod fuzz;
mod setup;
mod util;

use std::{
    path::PathBuf,
    process::{Child, Command},
    sync::{Arc, atomic::{AtomicBool, Ordering}},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::util::{cargo, run, say};

#[derive(Parser)]
#[command(about = "Build, run, test and benchmark the data-flow sensor and aggregator", after_help = "\
Start here:
  cargo xtask run     build everything, start the aggregator and the sensor here, show live flows
  cargo xtask test    install what the tests need, then run unit and end-to-end tests")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install the toolchain pieces the build needs (nightly rust-src,
    /// bpf-linker against the nightly's LLVM) and mount tracefs. Idempotent.
    Setup,
    /// Build the binaries (the sensor embeds the kernel programs).
    Build {
        #[arg(long)]
        release: bool,
    },
    /// Build, then run the aggregator and the sensor on this host and show
    /// live flows until Ctrl-C.
    Run {
        #[arg(long)]
        release: bool,
        /// Data directory of the aggregator's embedded store.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// gRPC address of the aggregator.
        #[arg(long, default_value = "127.0.0.1:50051")]
        listen: String,
        /// Region and zone the sensor reports for this host.
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value = "")]
        zone: String,
    },
    /// Install test dependencies, build, and run every test; without a test
    /// filter, then run each fuzz target for a few seconds.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Run the libFuzzer targets of fuzz/ (nightly toolchain and cargo-fuzz,
    /// installed when missing), each for `--seconds`.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Targets to run (all when none): postgres, mysql, fingerprint, analyze.
        targets: Vec<String>,
    },
    /// Run the benchmarks and print a table; `--write` also updates
    /// docs/benchmarks.md.
    Bench {
        #[arg(long)]
        write: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Setup => setup::ensure_all(),
        Cmd::Build { release } => build(release),
        Cmd::Run { release, data_dir, listen, region, zone } => run_main_job(release, &data_dir, &listen, &region, &zone),
        Cmd::Test { args } => test(&args),
        Cmd::Fuzz { seconds, targets } => fuzz::run_targets(seconds, &targets),
        Cmd::Bench { write } => bench::run(write),
    }
}

fn build(release: bool) -> anyhow::Result<()> {
    setup::ensure_all()?;
    say("building the sensor (with its kernel programs) and the aggregator");
    let mut command = cargo();
    command.args(["build", "--bins"]);
    if release {
        command.arg("--release");
    }
    run(&mut command)
}

fn binary(release: bool, name: &str) -> PathBuf {
    util::target_dir().join(if release { "release" } else { "debug" }).join(name)
}

/// Kills the children (SIGTERM, then SIGKILL after a grace period).
struct Children(Vec<(String, Child)>);

impl Children {
    /// Stops the children in the reverse order of their start (the viewer,
    /// then the sensor so it can deliver what it buffered, then the
    /// aggregator): SIGTERM, then SIGKILL after a grace period.
    fn stop(&mut self) {
        for (name, child) in self.0.iter_mut().rev() {
            if let Ok(Some(_)) = child.try_wait() {
                continue;
            }
            // SAFETY: plain kill(2) on our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(8);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        eprintln!("xtask: {name} did not stop in time, killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_main_job(release: bool, data_dir: &PathBuf, listen: &str, region: &str, zone: &str) -> anyhow::Result<()> {
    util::require_root("cargo xtask run loads eBPF programs into the kernel")?;
    build(release)?;
    let aggregator = binary(release, "aggregator");
    let sensor = binary(release, "sensor");
    let server = format!("http://{listen}");

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = Arc::clone(&interrupted);
        ctrlc::set_handler(move || interrupted.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
    }

    say(&format!("starting the aggregator on {listen} (store in {})", data_dir.display()));
    let mut children = Children(Vec::new());
    children.0.push((
        "aggregator".into(),
        Command::new(&aggregator)
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir)
            .spawn()
            .with_context(|| format!("starting {}", aggregator.display()))?,
    ));
    util::wait_for_tcp(listen, Duration::from_secs(30)).context("the aggregator did not start listening")?;

    say("starting the sensor on this host");
    children.0.push((
        "sensor".into(),
        Command::new(&sensor)
            .args(["--aggregator", &server, "--region", region, "--zone", zone])
            .spawn()
            .with_context(|| format!("starting {}", sensor.display()))?,
    ));
    util::wait_for_http_ok("127.0.0.1:9092", "/readyz", Duration::from_secs(30)).context("the sensor did not become ready")?;

    say("live flows follow (Ctrl-C stops everything); open any TCP connection to see it, e.g. `curl -s http://127.0.0.1:9091/metrics`");
    children.0.push((
        "observe".into(),
        Command::new(&aggregator)
            .args(["observe", "--server", &server, "--follow", "--last", "20"])
            .spawn()
            .context("starting the flow viewer")?,
    ));
    // A first connection of our own so there is something to see at once.
    let _ = util::http_get("127.0.0.1:9091", "/healthz");

    while !interrupted.load(Ordering::SeqCst) {
        for (name, child) in &mut children.0 {
            if let Ok(Some(status)) = child.try_wait() {
                bail!("{name} exited unexpectedly ({status}); see its messages above");
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    say("stopping");
    children.stop();
    say("stopped");
    Ok(())
}

fn test(args: &[String]) -> anyhow::Result<()> {
    setup::ensure_all()?;
    setup::ensure_test_packages()?;
    say("building the binaries the end-to-end tests start");
    run(cargo().args(["build", "--bins"]))?;
    say("running the tests");
    let tests = run(cargo().args(["test", "--no-fail-fast"]).args(args));
    // The whole suite (no filter) also fuzzes each target briefly.
    if args.is_empty() {
        fuzz::run_targets(FUZZ_SECONDS_IN_TESTS, &[])?;
    }
    tests
}

/// Seconds each fuzz target runs in `cargo xtask test`.
const FUZZ_SECONDS_IN_TESTS: u64 = 10;
