//! `sensor`: the node agent. Loads the kernel programs, turns connection
//! events into flows with process identity, and streams them to the
//! aggregator.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, sync::atomic::Ordering::Relaxed, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use proto::v1::Node;
use sensor::{
    capture, clock::Clock, database::DatabaseTracker, flows::FlowBuilder, http, kernel, process::ProcessCache,
    ship::{self, Outbox, OutboxConfig}, stats::Stats,
};
use tokio::sync::watch;

/// Runtime data-flow sensor: observes TCP connections on this node with eBPF
/// and streams them, with the processes behind them, to the aggregator.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = "\
Examples:
  sensor --aggregator http://127.0.0.1:50051
  sensor --aggregator http://aggregator.dataflow.svc:50051 --region eu-central-1 --zone eu-central-1a

Needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE and CAP_SYS_ADMIN to mount tracefs).
Logs go to stderr; set RUST_LOG=debug to see every flow.")]
struct Args {
    /// gRPC address of the aggregator.
    #[arg(long, env = "DATAFLOW_AGGREGATOR", default_value = "http://127.0.0.1:50051")]
    aggregator: String,
    /// Name of this node [default: the host name].
    #[arg(long, env = "NODE_NAME")]
    node_name: Option<String>,
    /// Region of this node (e.g. eu-central-1); Kubernetes nodes also carry
    /// it in the topology.kubernetes.io/region label.
    #[arg(long, env = "DATAFLOW_REGION", default_value = "")]
    region: String,
    /// Zone of this node (e.g. eu-central-1a).
    #[arg(long, env = "DATAFLOW_ZONE", default_value = "")]
    zone: String,
    /// Address for /metrics, /healthz and /readyz.
    #[arg(long, env = "DATAFLOW_HTTP_LISTEN", default_value = "127.0.0.1:9092")]
    http_listen: SocketAddr,
    /// Size of the kernel's connection event ring buffer, in bytes (a power
    /// of two, at least the page size).
    #[arg(long, default_value_t = 4 << 20, value_parser = parse_ring_size)]
    ring_buffer_bytes: u32,
    /// Live connections the kernel tracks at once.
    #[arg(long, default_value_t = 65536)]
    max_connections: u32,
    /// Bytes copied from each send and receive of connections whose protocol
    /// is being recognised or parsed (at most 4096); 0 turns payload capture
    /// off.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=4096))]
    capture_bytes: u32,
    /// Payloads copied from each new connection whose first payload the
    /// kernel does not recognise, for the sensor to recognise its protocol
    /// by content. PostgreSQL and MySQL/MariaDB sessions are recognised in
    /// the kernel by their first bytes and captured whole from the start
    /// whatever this is. 0 (the default) copies nothing else: other TCP
    /// traffic costs one map lookup and an eight-byte look per connection.
    /// Probing copies up to this many payloads of every other new
    /// connection, each waking the sensor, to find database sessions that
    /// open in an unusual way (a start-up message split over two sends).
    #[arg(long, default_value_t = 0)]
    probe_payloads: u32,
    /// Follow receives from syscall entry to exit (two program runs per
    /// receive and a per-thread map entry) even where the kernel lets them be
    /// read at exit alone. Chosen automatically before Linux 5.15.
    #[arg(long)]
    receives_at_entry: bool,
    /// Result rows per database connection and flush interval whose values
    /// are checked on this node (is it an email address, a card number, …)
    /// to help classify columns, and at most as many per result shape
    /// across all connections. Only the counts leave the node, never a
    /// value. 0 turns value sampling off.
    #[arg(long, default_value_t = 64)]
    sample_rows: u32,
    /// Size of the kernel's payload ring buffer, in bytes (a power of two,
    /// at least the page size).
    #[arg(long, default_value_t = 16 << 20, value_parser = parse_ring_size)]
    payload_ring_bytes: u32,
    /// Flows buffered at most while the aggregator is away; beyond it the
    /// oldest are dropped and counted.
    #[arg(long, default_value_t = 200_000)]
    buffer_flows: usize,
    /// Flows per batch.
    #[arg(long, default_value_t = 1024)]
    batch_size: usize,
    /// Longest time a flow waits before its batch is sent, in milliseconds.
    #[arg(long, default_value_t = 200)]
    flush_interval_ms: u64,
    /// Also send process command lines to the aggregator. Off by default:
    /// command lines can carry secrets (passwords, tokens, query text).
    #[arg(long, env = "DATAFLOW_COMMAND_LINES")]
    command_lines: bool,
    /// Where the host's /proc is (e.g. /host/proc in a container).
    #[arg(long, env = "DATAFLOW_PROC_ROOT", default_value = "/proc")]
    proc_root: PathBuf,
    /// Where tracefs is mounted (mounted there if it is not).
    #[arg(long, default_value = kernel::tracefs::DEFAULT_PATH)]
    tracefs: PathBuf,
    /// The kernel's BTF.
    #[arg(long, default_value = "/sys/kernel/btf/vmlinux")]
    btf: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn parse_ring_size(value: &str) -> Result<u32, String> {
    let size: u32 = value.parse().map_err(|error| format!("{error}"))?;
    if size < 4096 || !size.is_power_of_two() {
        return Err(format!("{size} is not a power of two of at least 4096"));
    }
    Ok(size)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `init` also routes the `log` records of the kernel programs (aya-log)
    // into the same output.
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn session_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

// One thread: the sensor's work is one loop over the kernel's rings, and the
// shipping, metrics and Kubernetes tasks are light. With a worker per core,
// every wake-up of a task also woke another worker to look for work: about
// 7% more CPU per captured statement. The loop's answer to a new connection
// may come later on one thread, which no longer costs a database session
// anything: the kernel recognises those itself and captures them whole from
// their first byte (docs/benchmarks.md, "The sensor's runtime").
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(args.log_format);

    let node_name = args.node_name.clone().filter(|name| !name.is_empty()).unwrap_or_else(host_name);
    // In Kubernetes: pods on this node by container, and the node's region
    // and zone labels. Outside it, a disabled index that answers nothing.
    let pods = attribution::PodIndex::from_environment(Some(&node_name)).await;
    let (mut region, mut zone) = (args.region.clone(), args.zone.clone());
    if pods.is_enabled() && (region.is_empty() || zone.is_empty()) {
        pods.wait_synced(Duration::from_secs(10)).await;
        let topology = pods.node_topology();
        if region.is_empty() {
            region = topology.region.unwrap_or_default();
        }
        if zone.is_empty() {
            zone = topology.zone.unwrap_or_default();
        }
    }
    let node = Node { name: node_name, region, zone };
    let stats = Arc::new(Stats::default());
    let (stop, shutdown) = watch::channel(false);

    let http_listener = http::bind(args.http_listen).await?;
    let http_task = tokio::spawn(http::serve(http_listener, Arc::clone(&stats), shutdown.clone()));

    let mut kernel = kernel::Kernel::load(&kernel::KernelConfig {
        ring_buffer_bytes: args.ring_buffer_bytes,
        max_connections: args.max_connections,
        capture_bytes: args.capture_bytes,
        probe_payloads: args.probe_payloads,
        receives_at_exit: !args.receives_at_entry,
        payload_ring_bytes: args.payload_ring_bytes,
        btf_path: args.btf.clone(),
        tracefs_path: args.tracefs.clone(),
    })
    .context("cannot start the kernel side")?;
    let ring = kernel.take_conn_events()?;
    let payloads = if args.capture_bytes > 0 {
        Some((kernel.take_payload_events()?, capture::KernelCapture { map: kernel.take_capture_map()? }))
    } else {
        None
    };
    let counters = kernel.take_counters()?;
    let logger = kernel.take_logger();
    stats.ready.store(true, Relaxed);

    let outbox = Arc::new(Outbox::new(
        OutboxConfig {
            batch_size: args.batch_size.max(1),
            capacity_flows: args.buffer_flows.max(args.batch_size),
            session_id: session_id(),
            node: node.clone(),
        },
        Arc::clone(&stats),
    ));
    tracing::info!(node = %node.name, region = %node.region, zone = %node.zone, aggregator = %args.aggregator, http = %args.http_listen, "sensor running");

    let shipper = tokio::spawn(ship::run(
        Arc::clone(&outbox),
        args.aggregator.clone(),
        Arc::clone(&stats),
        shutdown.clone(),
        Duration::from_secs(5),
    ));
    let poller = tokio::spawn(capture::poll_counters(
        counters,
        Arc::clone(&stats),
        Arc::clone(&outbox),
        Duration::from_millis(args.flush_interval_ms.max(10)),
        shutdown.clone(),
    ));
    if let Some(logger) = logger {
        tokio::spawn(drain_kernel_log(logger, shutdown.clone()));
    }
    let clock = Clock::new();
    let pipeline = capture::Pipeline {
        builder: FlowBuilder::new(clock, ProcessCache::with_pods(&args.proc_root, 16_384, pods))
            .with_command_lines(args.command_lines),
        database: DatabaseTracker::new(clock).with_sample_rows(args.sample_rows),
        outbox: Arc::clone(&outbox),
        stats: Arc::clone(&stats),
    };
    let capture = tokio::spawn(capture::run(
        ring,
        payloads,
        pipeline,
        Duration::from_millis(args.flush_interval_ms.max(10)),
        shutdown.clone(),
    ));

    wait_for_signal().await;
    tracing::info!("stopping: delivering buffered flows");
    let _ = stop.send(true);
    capture.await.context("capture task")?.context("reading the kernel ring buffer")?;
    let _ = poller.await;
    outbox.flush();
    let _ = shipper.await;
    let _ = http_task.await;
    drop(kernel);
    tracing::info!(flows = stats.flows.load(Relaxed), undelivered = outbox.buffered(), "sensor stopped");
    Ok(())
}

async fn drain_kernel_log(
    logger: aya_log::EbpfLogger<&'static dyn log::Log>,
    mut shutdown: watch::Receiver<bool>,
) {
    // SAFETY: the logger owns its ring buffer fd and keeps it open while the
    // AsyncFd lives.
    let Ok(mut logger) =
        (unsafe { tokio::io::unix::AsyncFd::register_with_interest(logger, tokio::io::Interest::READABLE) })
    else {
        return;
    };
    loop {
        tokio::select! {
            guard = logger.readable_mut() => match guard {
                Ok(mut guard) => {
                    guard.get_inner_mut().flush();
                    guard.clear_ready();
                }
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn wait_for_signal() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
