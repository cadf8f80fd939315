//! `cargo xtask bench`: measures the figures docs/benchmarks.md reports and
//! prints them as a table; `--write` replaces the generated section of
//! docs/benchmarks.md with them (dated, with the commands).
//!
//! - sensor pipeline, userspace only: synthetic kernel records through
//!   decode → flow → outbox (`sensor/examples/pipeline_bench.rs`);
//! - sensor with the real kernel programs: a loopback connection flood, the
//!   kernel events the sensor turned into flows per second, and losses;
//! - sensor memory while 10,000 connections are open;
//! - aggregator ingest: store only, and real gRPC clients over loopback
//!   (`aggregator bench-ingest`);
//! - SQL capture under `pgbench -S`: TPS with and without the sensor, CPU per
//!   statement (`tests/src/bin/sql-bench.rs`).

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::util::{cargo, http_get, output, project_root, require_root, run as run_command, say, target_dir, wait_for_tcp};

struct Row {
    what: String,
    value: String,
    command: String,
}

const BEGIN: &str = "<!-- xtask-bench:begin -->";
const END: &str = "<!-- xtask-bench:end -->";

pub fn run(write: bool) -> anyhow::Result<()> {
    require_root("the benchmark runs the sensor with its kernel programs")?;
    crate::setup::ensure_all()?;
    say("building release binaries");
    run_command(cargo().args(["build", "--release", "--bins", "--examples", "-p", "sensor", "-p", "aggregator", "-p", "tests", "-p", "sql-analysis"]))?;
    let release = target_dir().join("release");
    let mut rows = Vec::new();

    say("sensor pipeline (userspace, synthetic records)");
    let json: Value = serde_json::from_str(output(Command::new(release.join("examples/pipeline_bench")).arg("2000000"))?.trim())?;
    rows.push(Row {
        what: "sensor pipeline, decode → flow → connection tracking → batch (userspace only)".into(),
        value: format!("{:.2} M events/s ({:.0} ns/event)", num(&json, "events_per_second") / 1e6, num(&json, "ns_per_event")),
        command: "cargo run --release -p sensor --example pipeline_bench -- 2000000".into(),
    });

    say("SQL analysis (one core)");
    let json: Value = serde_json::from_str(output(Command::new(release.join("examples/analysis_rate")).arg("2"))?.trim())?;
    let mix = num(&json, "mix_statements");
    rows.push(Row {
        what: "SQL analysis from the cache, `pgbench -S`'s statement with a new literal each time".into(),
        value: format!("{:.2} M statements/s", num(&json, "pgbench_cache_hit_per_second") / 1e6),
        command: "cargo run --release -p sql-analysis --example analysis_rate -- 2".into(),
    });
    rows.push(Row {
        what: format!("SQL analysis from the cache, a mix of {mix} pgbench and ORM statements"),
        value: format!("{:.2} M statements/s", num(&json, "mix_cache_hit_per_second") / 1e6),
        command: "cargo run --release -p sql-analysis --example analysis_rate -- 2".into(),
    });
    rows.push(Row {
        what: format!("SQL analysis, cold parse, the same mix of {mix}"),
        value: format!("{:.0} k statements/s", num(&json, "cold_parse_per_second") / 1e3),
        command: "cargo run --release -p sql-analysis --example analysis_rate -- 2".into(),
    });

    say("aggregator ingest");
    let json: Value = serde_json::from_str(&output(Command::new(release.join("aggregator")).args([
        "bench-ingest", "--sensors", "2", "--batches", "500", "--batch-size", "1000", "--json",
    ]))?)?;
    for (key, label) in [("store_only", "aggregator ingest, store only (no gRPC)"), ("grpc", "aggregator ingest, gRPC over loopback, 2 sensors")] {
        let result = &json[key];
        rows.push(Row {
            what: label.into(),
            value: format!(
                "{:.2} M flows/s, {:.0} batches/s of 1000",
                num(result, "flows_per_second") / 1e6,
                num(result, "batches_per_second")
            ),
            command: "aggregator bench-ingest --sensors 2 --batches 500 --batch-size 1000".into(),
        });
    }

    say("sensor with the real kernel programs");
    let data = std::env::temp_dir().join(format!("dataflow-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let grpc = "127.0.0.1:50151";
    let sensor_http = "127.0.0.1:19192";
    let mut aggregator = Command::new(release.join("aggregator"))
        .args(["serve", "--listen", grpc, "--http-listen", "127.0.0.1:19191", "--data-dir"])
        .arg(&data)
        .stderr(Stdio::null())
        .spawn()?;
    let result = (|| -> anyhow::Result<()> {
        wait_for_tcp(grpc, Duration::from_secs(30))?;
        let mut sensor = Command::new(release.join("sensor"))
            .args(["--aggregator", &format!("http://{grpc}"), "--http-listen", sensor_http])
            .stderr(Stdio::null())
            .spawn()?;
        let outcome = (|| -> anyhow::Result<()> {
            crate::util::wait_for_http_ok(sensor_http, "/readyz", Duration::from_secs(30))?;
            let before = sensor_metrics(sensor_http)?;
            let started = Instant::now();
            let flood = output(Command::new(release.join("tcp-peer")).args(["flood", "10", "2"]))?;
            std::thread::sleep(Duration::from_secs(1));
            let after = sensor_metrics(sensor_http)?;
            let seconds = started.elapsed().as_secs_f64();
            let connections: f64 = flood.trim().trim_start_matches("connections ").parse().unwrap_or(0.0);
            let events = after.0 - before.0;
            let lost = after.1 - before.1;
            rows.push(Row {
                what: "sensor with kernel programs, loopback connection flood (2 threads, 10 s)".into(),
                value: format!(
                    "{:.0} connections/s, {:.0} connection events/s turned into flows, {lost} lost",
                    connections / 10.0,
                    events as f64 / seconds
                ),
                command: "tcp-peer flood 10 2 (while sensor and aggregator run)".into(),
            });

            // Memory is measured on a fresh sensor: the flood above leaves
            // the allocator with memory it does not give back.
            let _ = sensor.kill();
            let _ = sensor.wait();
            sensor = Command::new(release.join("sensor"))
                .args(["--aggregator", &format!("http://{grpc}"), "--http-listen", sensor_http])
                .stderr(Stdio::null())
                .spawn()?;
            crate::util::wait_for_http_ok(sensor_http, "/readyz", Duration::from_secs(30))?;
            let mut hold = Command::new(release.join("tcp-peer")).args(["hold", "10000", "20"]).stdout(Stdio::piped()).spawn()?;
            let mut line = String::new();
            if let Some(stdout) = hold.stdout.take() {
                BufReader::new(stdout).read_line(&mut line)?;
            }
            if !line.starts_with("holding") {
                bail!("tcp-peer hold did not open its connections: {line:?}");
            }
            std::thread::sleep(Duration::from_secs(3));
            let (rss, peak) = memory_kib(sensor.id())?;
            let _ = hold.kill();
            let _ = hold.wait();
            rows.push(Row {
                what: "sensor resident memory with 10,000 open connections (fresh sensor)".into(),
                value: format!("{:.1} MiB (peak {:.1} MiB)", rss as f64 / 1024.0, peak as f64 / 1024.0),
                command: "tcp-peer hold 10000 20; VmRSS/VmHWM of the sensor".into(),
            });
            Ok(())
        })();
        let _ = sensor.kill();
        let _ = sensor.wait();
        outcome
    })();
    let _ = aggregator.kill();
    let _ = aggregator.wait();
    let _ = std::fs::remove_dir_all(&data);
    result?;

    say("SQL capture under pgbench -S (alternating rounds without and with the sensor)");
    let json: Value = serde_json::from_str(output(Command::new(release.join("sql-bench")).args(["6", "5"]))?.trim())?;
    rows.push(Row {
        what: "pgbench -S TPS with SQL capture ÷ without (median of 6 alternating 5 s rounds, 2 clients; kernel statistics off)".into(),
        value: tps_ratio_text(&json),
        command: "sql-bench 6 5".into(),
    });
    rows.push(Row {
        what: "CPU per statement the server counted: kernel programs + sensor (a second 5 s run per round, kernel statistics on)".into(),
        value: cpu_per_statement_text(&json),
        command: "sql-bench 6 5 (kernel.bpf_stats_enabled=1 in its CPU runs)".into(),
    });
    rows.push(Row {
        what: "statements captured ÷ counted by pg_stat_statements".into(),
        value: format!("{} / {}", json["captured"], json["server_counted"]),
        command: "sql-bench 6 5".into(),
    });

    say("SQL capture under pgbench -S with 32 clients (many connections)");
    let json: Value = serde_json::from_str(output(Command::new(release.join("sql-bench")).args(["4", "5", "32"]))?.trim())?;
    rows.push(Row {
        what: "the same with 32 clients: TPS ratio; CPU per statement, kernel programs + sensor (median of 4 rounds)".into(),
        value: format!("{}; {}", tps_ratio_text(&json), cpu_per_statement_text(&json)),
        command: "sql-bench 4 5 32".into(),
    });

    let table = render(&rows);
    println!("{table}");
    if write {
        let path = project_root().join("docs/benchmarks.md");
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        let (head, tail) = match (current.find(BEGIN), current.find(END)) {
            (Some(begin), Some(end)) if end > begin => (current[..begin].to_owned(), current[end + END.len()..].to_owned()),
            _ => (current.clone(), String::new()),
        };
        std::fs::write(&path, format!("{head}{BEGIN}\n{table}{END}{tail}")).with_context(|| format!("writing {}", path.display()))?;
        say(&format!("updated {}", path.display()));
    }
    Ok(())
}

fn num(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(0.0)
}

/// `sql-bench`'s TPS ratio, with and without the sensor.
fn tps_ratio_text(json: &Value) -> String {
    format!("{:.3} ({:.0} vs {:.0} TPS)", num(json, "tps_ratio"), num(json, "tps_with"), num(json, "tps_without"))
}

/// `sql-bench`'s CPU per statement: kernel programs + sensor.
fn cpu_per_statement_text(json: &Value) -> String {
    let (kernel, sensor) = (num(json, "kernel_ns_per_statement") / 1000.0, num(json, "sensor_ns_per_statement") / 1000.0);
    format!("{kernel:.2} µs + {sensor:.2} µs = {:.2} µs", kernel + sensor)
}

/// (kernel events delivered, kernel events lost) from the sensor's metrics.
fn sensor_metrics(address: &str) -> anyhow::Result<(u64, u64)> {
    let (_, body) = http_get(address, "/metrics")?;
    let value = |name: &str| {
        body.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse::<u64>().ok()))
            .unwrap_or(0)
    };
    Ok((value("dataflow_sensor_kernel_events_total "), value("dataflow_sensor_kernel_events_lost_total ")))
}

/// (VmRSS, VmHWM) in KiB.
fn memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

fn render(rows: &[Row]) -> String {
    let date = output(Command::new("date").arg("+%Y-%m-%d")).unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "Measured {} by `cargo xtask bench` on {} ({} cores).\n", date.trim(), cpu, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
    let _ = writeln!(out, "| what | result | command |\n| --- | --- | --- |");
    for row in rows {
        let _ = writeln!(out, "| {} | {} | `{}` |", row.what, row.value, row.command);
    }
    out
}
