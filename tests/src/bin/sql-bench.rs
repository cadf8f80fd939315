//! What SQL capture costs under `pgbench -S` on loopback (run as root by
//! `cargo xtask bench`): many short rounds alternating without and with the
//! sensor, in one run, because TPS on a shared machine swings between runs.
//! Prints one JSON object:
//!
//! - the median of the per-round TPS ratios (with / without), the run with
//!   the sensor made with `kernel.bpf_stats_enabled=0`, as in production;
//! - kernel CPU of the sensor's programs per statement the server counted,
//!   from a second run with the same sensor and `kernel.bpf_stats_enabled=1`
//!   (each program's run time; the statistics' own clock reads included);
//! - the sensor's own CPU per statement, in that second run;
//! - statements captured against the server's own count, over both runs.
//!
//! The sensor runs with its default flush interval (200 ms), not the 50 ms
//! the end-to-end tests use.
//!
//! `sql-bench [ROUNDS] [SECONDS] [CLIENTS]` (defaults 6, 5 and 2; pgbench
//! runs one thread per core, or per client when there are fewer clients).
//! `SQL_BENCH_SENSOR_ARGS` adds options to the sensor's command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tests::{Aggregator, Sensor, TempDir, databases::Postgres, metric};

fn tps(postgres: &Postgres, seconds: u32, clients: u32) -> f64 {
    let threads = clients.min(std::thread::available_parallelism().map_or(2, |n| n.get() as u32));
    let output = postgres
        .pgbench()
        .args(["-S", "-n", "-c", &clients.to_string(), "-j", &threads.to_string(), "-T", &seconds.to_string(), "postgres"])
        .output()
        .unwrap();
    assert!(output.status.success(), "pgbench: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok())
        .expect("tps line")
}

/// utime + stime of a process, in nanoseconds.
fn cpu_ns(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    let used: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    used * 1_000_000_000 / ticks
}

fn kernel_ns(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with("dataflow_sensor_kernel_program_run_time_ns_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Run time and runs of each kernel program, by program name.
fn kernel_programs(metrics: &str) -> std::collections::BTreeMap<String, (u64, u64)> {
    let mut programs = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for line in metrics.lines() {
        let (series, value) = match line.rsplit_once(' ') {
            Some(pair) => pair,
            None => continue,
        };
        let Some(name) = series.split("program=\"").nth(1).and_then(|rest| rest.split('"').next()) else { continue };
        let Ok(value) = value.parse::<u64>() else { continue };
        let entry = programs.entry(name.to_string()).or_default();
        if series.starts_with("dataflow_sensor_kernel_program_run_time_ns_total{") {
            entry.0 += value;
        } else if series.starts_with("dataflow_sensor_kernel_program_runs_total{") {
            entry.1 += value;
        }
    }
    programs
}

/// The statement `pgbench -S` runs, as `pg_stat_statements` shows it.
const PATTERN: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

/// Turns the kernel's per-program run statistics on or off (needs root).
fn bpf_stats(on: bool) {
    std::fs::write("/proc/sys/kernel/bpf_stats_enabled", if on { "1" } else { "0" }).expect("kernel.bpf_stats_enabled (needs root)");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(6);
    let seconds: u32 = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(5);
    let clients: u32 = std::env::args().nth(3).and_then(|n| n.parse().ok()).unwrap_or(2).max(1);
    let extra_sensor_args = std::env::var("SQL_BENCH_SENSOR_ARGS").unwrap_or_default();
    let postgres = Postgres::start().expect("PostgreSQL is installed");
    let init = postgres.pgbench().args(["-i", "-q", "-s", "10", "postgres"]).output().unwrap();
    assert!(init.status.success());
    let data = TempDir::new("sql-bench");
    let aggregator = Aggregator::start(data.0.clone());

    let (mut ratios, mut kernel, mut sensor_cpu, mut with_tps, mut without_tps) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut captured_total, mut server_total) = (0u64, 0u64);
    for round in 0..rounds {
        // With the sensor, pgbench runs twice: once for TPS with kernel
        // statistics off (they read the clock twice per program run, a cost
        // the sensor does not have in production), once with them on for
        // each program's CPU. The run without the sensor is next to the TPS
        // run: first in even rounds, last in odd ones.
        let tps_first = round % 2 == 0;
        let mut rate_without = if tps_first { tps(&postgres, seconds, clients) } else { 0.0 };
        // The sensor's default flush interval (the tests' 50 ms would ship
        // and resolve each statement's record four times as often).
        let mut args = vec!["--capture-bytes", "512", "--flush-interval-ms", "200"];
        args.extend(extra_sensor_args.split_whitespace());
        let sensor = Sensor::start(&aggregator.url(), &args);
        std::thread::sleep(Duration::from_millis(500));
        postgres.reset_statements();
        let first = sensor.metrics();
        let tps_run = || {
            bpf_stats(false);
            tps(&postgres, seconds, clients)
        };
        let cpu_run = || {
            bpf_stats(true);
            let (calls_before, metrics_before, cpu_before) =
                (postgres.statement_calls(PATTERN), sensor.metrics(), cpu_ns(sensor.process.pid()));
            tps(&postgres, seconds, clients);
            std::thread::sleep(Duration::from_millis(500));
            let (metrics_after, cpu_after) = (sensor.metrics(), cpu_ns(sensor.process.pid()));
            bpf_stats(false);
            let statements = postgres.statement_calls(PATTERN).saturating_sub(calls_before).max(1);
            let (programs_before, programs_after) = (kernel_programs(&metrics_before), kernel_programs(&metrics_after));
            for (name, (time, runs)) in &programs_after {
                let (time_before, runs_before) = programs_before.get(name).copied().unwrap_or_default();
                let (time, runs) = (time - time_before, runs - runs_before);
                if runs > 0 {
                    eprintln!(
                        "  {name}: {:.2} runs and {:.0} ns per statement, {:.0} ns per run",
                        runs as f64 / statements as f64,
                        time as f64 / statements as f64,
                        time as f64 / runs as f64
                    );
                }
            }
            (
                (kernel_ns(&metrics_after) - kernel_ns(&metrics_before)) as f64 / statements as f64,
                (cpu_after - cpu_before) as f64 / statements as f64,
            )
        };
        let (rate_with, (kernel_per, sensor_per)) = if tps_first {
            let rate = tps_run();
            (rate, cpu_run())
        } else {
            let cpu = cpu_run();
            (tps_run(), cpu)
        };
        std::thread::sleep(Duration::from_millis(500));
        let statements = postgres.statement_calls(PATTERN);
        let captured = metric(&sensor.metrics(), "dataflow_sensor_statements_total").unwrap_or(0)
            - metric(&first, "dataflow_sensor_statements_total").unwrap_or(0);
        drop(sensor);
        if !tps_first {
            rate_without = tps(&postgres, seconds, clients);
        }
        eprintln!("round {round}: {rate_without:.0} tps without, {rate_with:.0} with; kernel {kernel_per:.0} ns + sensor {sensor_per:.0} ns per statement; {captured}/{statements} captured");
        ratios.push(rate_with / rate_without);
        kernel.push(kernel_per);
        sensor_cpu.push(sensor_per);
        with_tps.push(rate_with);
        without_tps.push(rate_without);
        captured_total += captured;
        server_total += statements;
    }
    bpf_stats(false);
    println!(
        "{{\"rounds\": {rounds}, \"seconds\": {seconds}, \"tps_without\": {:.0}, \"tps_with\": {:.0}, \"tps_ratio\": {:.4}, \"kernel_ns_per_statement\": {:.0}, \"sensor_ns_per_statement\": {:.0}, \"captured\": {captured_total}, \"server_counted\": {server_total}}}",
        median(&mut without_tps),
        median(&mut with_tps),
        median(&mut ratios),
        median(&mut kernel),
        median(&mut sensor_cpu),
    );
}
