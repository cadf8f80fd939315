//! `aggregator bench-ingest`: measures how fast batches are stored, through
//! the store writer alone and end to end through gRPC with real clients.
//!
//! The gRPC clients send pre-encoded messages through [`RawCodec`], so the
//! figures measure the aggregator, not the cost of encoding on the client.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message as _;
use proto::v1::{
    BatchAck, Direction, Endpoint, Flow, FlowState, Node, Process, Protocol, SensorBatch, SensorCounters,
};
use serde::Serialize;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

use crate::detect::Knowledge;
use crate::fanout::Fanout;
use crate::server::{self, ServerConfig, ServerError};
use crate::store::writer::{self, PendingWrite};
use crate::store::{PreparedBatch, Store, StoreError, Synchronous};
use crate::telemetry::Metrics;

/// A gRPC codec that sends already-encoded messages as they are and decodes
/// [`BatchAck`]s. It lets a client send any bytes on the ingest stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

/// Encoder half of [`RawCodec`].
#[derive(Debug)]
pub struct RawEncoder;

/// Decoder half of [`RawCodec`].
#[derive(Debug)]
pub struct AckDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, destination: &mut EncodeBuf<'_>) -> Result<(), Status> {
        destination.put_slice(&item);
        Ok(())
    }
}

impl Decoder for AckDecoder {
    type Item = BatchAck;
    type Error = Status;

    fn decode(&mut self, source: &mut DecodeBuf<'_>) -> Result<Option<BatchAck>, Status> {
        BatchAck::decode(source).map(Some).map_err(|error| Status::internal(error.to_string()))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = BatchAck;
    type Encoder = RawEncoder;
    type Decoder = AckDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> AckDecoder {
        AckDecoder
    }
}

/// Opens `Ingest.Stream` and sends `messages` (encoded `SensorBatch`es, or
/// anything else) as they are.
pub async fn raw_ingest_stream(
    channel: Channel,
    messages: impl tokio_stream::Stream<Item = Bytes> + Send + 'static,
) -> Result<Streaming<BatchAck>, Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.map_err(|error| Status::unavailable(error.to_string()))?;
    let path = PathAndQuery::from_static("/dataflow.v1.Ingest/Stream");
    Ok(client.streaming(tonic::Request::new(messages), path, RawCodec).await?.into_inner())
}

/// Flows like a node's sensor sends: a few processes (web servers, clients,
/// a database) talking over many connections.
pub fn synthetic_flows(sensor: usize, count: usize, start_unix_nano: u64) -> Vec<Flow> {
    let workloads = ["orders", "payments", "checkout", "postgres", "nginx", "inventory", "redis", "auth"];
    let processes: Vec<Process> = workloads
        .iter()
        .enumerate()
        .map(|(index, workload)| {
            let pid = 1_000 + index as u32;
            let container = format!("{:064x}", (sensor as u128) << 64 | index as u128);
            Process {
                tid: pid,
                pid,
                command: (*workload).to_string(),
                executable: format!("/usr/local/bin/{workload}"),
                command_line: format!("/usr/local/bin/{workload} --config /etc/{workload}/config.yaml"),
                cgroup_id: 10_000 + index as u64,
                cgroup_path: format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{sensor:08x}.slice/cri-containerd-{container}.scope"
                ),
                container_id: container,
                systemd_unit: String::new(),
                workload: format!("shop/{workload}"),
                pod_namespace: "shop".to_string(),
                pod_name: format!("{workload}-7d9f8b6c5-x2k4q"),
                container_name: (*workload).to_string(),
            }
        })
        .collect();
    (0..count)
        .map(|index| {
            let process = &processes[index % processes.len()];
            let outbound = index % 3 != 0;
            let state = match index % 10 {
                0..=2 => FlowState::Open,
                9 => FlowState::Failed,
                _ => FlowState::Closed,
            };
            let closed = state != FlowState::Open;
            Flow {
                id: 0,
                time_unix_nano: start_unix_nano + index as u64 * 1_000,
                node_name: String::new(),
                state: state as i32,
                direction: if outbound { Direction::Outbound } else { Direction::Inbound } as i32,
                protocol: Protocol::Tcp as i32,
                local: Some(Endpoint {
                    ip: Ipv4Addr::new(10, 0, sensor as u8, 10).to_string(),
                    port: if outbound { 30_000 + (index % 30_000) as u32 } else { 8_080 },
                }),
                remote: Some(Endpoint {
                    ip: Ipv4Addr::new(10, 1, (index % 7) as u8, (index % 200) as u8 + 1).to_string(),
                    port: if outbound { [5_432, 6_379, 443][index % 3] } else { 40_000 + (index % 20_000) as u32 },
                }),
                process: Some(process.clone()),
                bytes_sent: if closed { 512 + (index as u64 % 4_096) } else { 0 },
                bytes_received: if closed { 2_048 + (index as u64 % 65_536) } else { 0 },
                opened_unix_nano: start_unix_nano,
                closed_unix_nano: if closed { start_unix_nano + index as u64 * 1_000 } else { 0 },
                connection_id: (sensor as u64) << 40 | index as u64,
                remote_workload: None,
            }
        })
        .collect()
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Concurrent sensors.
    pub sensors: usize,
    /// Batches each sensor sends.
    pub batches: u64,
    /// Flows per batch.
    pub batch_size: usize,
    /// Where to create the fresh stores (removed afterwards); a temporary
    /// directory when `None`.
    pub data_dir: Option<PathBuf>,
}

/// Throughput of one path.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// Batches stored.
    pub batches: u64,
    /// Flows stored.
    pub flows: u64,
    /// Wall time until the last batch was stored.
    pub seconds: f64,
    /// Batches per second.
    pub batches_per_second: f64,
    /// Flows per second.
    pub flows_per_second: f64,
    /// Size of the database files afterwards, per flow.
    pub stored_bytes_per_flow: f64,
    /// CPU time the whole process used meanwhile (server and clients), in
    /// seconds; with other work on the machine, flows per CPU second is the
    /// steadier figure.
    pub cpu_seconds: f64,
    /// Flows per CPU second of the process.
    pub flows_per_cpu_second: f64,
}

/// Both measurements.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Concurrent sensors.
    pub sensors: usize,
    /// Batches per sensor.
    pub batches_per_sensor: u64,
    /// Flows per batch.
    pub batch_size: usize,
    /// Encoded size of a flow on the wire.
    pub wire_bytes_per_flow: f64,
    /// Batches prepared before the clock and handed to the writer thread:
    /// what the single writer sustains.
    pub writer_only: BenchResult,
    /// Batches handed to the store (prepared by concurrent producers, then
    /// committed by the writer), bypassing gRPC.
    pub store_only: BenchResult,
    /// Batches sent by gRPC clients over loopback TCP and acknowledged.
    pub grpc: BenchResult,
}

/// Errors of the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server failed.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// A client could not connect.
    #[error("cannot connect to the benchmark server: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// The server refused a batch.
    #[error("the benchmark server refused a batch: {0}")]
    Rpc(#[from] Status),
    /// A file operation failed.
    #[error("benchmark directory: {0}")]
    Io(#[from] std::io::Error),
    /// A client task failed.
    #[error("a benchmark client failed: {0}")]
    Task(String),
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

enum Input {
    Raw(Box<SensorBatch>),
    Prepared(Box<PreparedBatch>),
}

fn batch_template(sensor: usize, batch_size: usize) -> SensorBatch {
    SensorBatch {
        session_id: format!("bench-{sensor}-{:016x}", rand::random::<u64>()),
        sequence: 0,
        node: Some(Node { name: format!("bench-node-{sensor}"), region: "eu-west-1".into(), zone: "eu-west-1a".into() }),
        flows: synthetic_flows(sensor, batch_size, now_unix_nano()),
        counters: Some(SensorCounters::default()),
        sensor_version: env!("CARGO_PKG_VERSION").into(),
        accesses: Vec::new(),
    }
}

fn files_size(directory: &Path) -> u64 {
    std::fs::read_dir(directory)
        .map(|entries| entries.flatten().filter_map(|entry| entry.metadata().ok()).map(|meta| meta.len()).sum())
        .unwrap_or(0)
}

/// CPU time (user + system) of this process, from `/proc/self/stat`, whose
/// clock ticks are always 1/100 s on Linux; zero where unavailable.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn result(batches: u64, flows: u64, elapsed: Duration, cpu_seconds: f64, directory: &Path) -> BenchResult {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    BenchResult {
        cpu_seconds,
        flows_per_cpu_second: if cpu_seconds > 0.0 { flows as f64 / cpu_seconds } else { 0.0 },
        batches,
        flows,
        seconds,
        batches_per_second: batches as f64 / seconds,
        flows_per_second: flows as f64 / seconds,
        stored_bytes_per_flow: files_size(directory) as f64 / flows.max(1) as f64,
    }
}

/// Stores batches through the writer without gRPC. With `prepare_first`,
/// batches are prepared ([`PreparedBatch::prepare`]) before the clock
/// starts, which isolates the writer thread; otherwise the producers prepare
/// them concurrently, as ingest handlers do.
async fn store_only(options: &BenchOptions, directory: &Path, prepare_first: bool) -> Result<BenchResult, BenchError> {
    let (store, write) = Store::open(directory, Synchronous::Normal)?;
    let (writer, thread) = writer::spawn(
        write,
        Arc::new(Fanout::new(256)),
        Arc::new(Metrics::new()),
        1024,
        Knowledge::load(None, None).map_err(ServerError::from)?,
    )?;
    // Batches are built before the clock starts: this path measures the
    // writer, not the producers.
    let mut per_sensor: Vec<Vec<Input>> = (0..options.sensors)
        .map(|sensor| {
            let template = batch_template(sensor, options.batch_size);
            (1..=options.batches)
                .map(|sequence| {
                    let batch = SensorBatch { sequence, ..template.clone() };
                    if prepare_first { Input::Prepared(Box::new(PreparedBatch::prepare(batch))) } else { Input::Raw(Box::new(batch)) }
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let mut tasks = Vec::new();
    for batches in per_sensor.drain(..) {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut in_flight: VecDeque<PendingWrite> = VecDeque::new();
            for batch in batches {
                let pending = match batch {
                    Input::Raw(batch) => writer.submit(*batch).await?,
                    Input::Prepared(batch) => writer.submit_prepared(*batch).await?,
                };
                in_flight.push_back(pending);
                if in_flight.len() >= 32
                    && let Some(pending) = in_flight.pop_front()
                {
                    pending.await.map_err(|_| StoreError::WriterStopped)??;
                }
            }
            for pending in in_flight {
                pending.await.map_err(|_| StoreError::WriterStopped)??;
            }
            Ok::<(), StoreError>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|error| BenchError::Task(error.to_string()))??;
    }
    let elapsed = started.elapsed();
    let cpu_seconds = process_cpu_seconds() - cpu_started;
    drop(writer);
    drop(store);
    tokio::task::spawn_blocking(move || thread.join()).await.map_err(|error| BenchError::Task(error.to_string()))?;
    let batches = options.sensors as u64 * options.batches;
    Ok(result(batches, batches * options.batch_size as u64, elapsed, cpu_seconds, directory))
}

async fn grpc(options: &BenchOptions, directory: &Path) -> Result<BenchResult, BenchError> {
    let mut config = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), directory.to_path_buf());
    config.max_message_bytes = config.max_message_bytes.max(options.batch_size * 1_024);
    config.ingest.max_batch_flows = config.ingest.max_batch_flows.max(options.batch_size);
    let server = server::start(config).await?;
    let address = format!("http://{}", server.grpc_address());
    let mut clients = Vec::new();
    for sensor in 0..options.sensors {
        let channel = tonic::transport::Endpoint::from_shared(address.clone())
            .map_err(BenchError::Connect)?
            .connect()
            .await?;
        let template = batch_template(sensor, options.batch_size);
        let mut flows = BytesMut::new();
        for flow in &template.flows {
            prost::encoding::message::encode(4, flow, &mut flows);
        }
        clients.push((channel, SensorBatch { flows: Vec::new(), ..template }, flows.freeze()));
    }
    let batches = options.batches;
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let mut tasks = Vec::new();
    for (channel, header, flows) in clients {
        tasks.push(tokio::spawn(async move {
            let messages = tokio_stream::iter((1..=batches).map(move |sequence| {
                let header = SensorBatch { sequence, ..header.clone() }.encode_to_vec();
                let mut message = BytesMut::with_capacity(header.len() + flows.len());
                message.put_slice(&header);
                message.put_slice(&flows);
                message.freeze()
            }));
            let mut acks = raw_ingest_stream(channel, messages).await?;
            while let Some(ack) = acks.message().await? {
                if ack.sequence == batches {
                    return Ok(());
                }
            }
            Err(Status::unavailable("stream ended before every batch was acknowledged"))
        }));
    }
    for task in tasks {
        task.await.map_err(|error| BenchError::Task(error.to_string()))??;
    }
    let elapsed = started.elapsed();
    let cpu_seconds = process_cpu_seconds() - cpu_started;
    server.shutdown().await?;
    let batches = options.sensors as u64 * options.batches;
    Ok(result(batches, batches * options.batch_size as u64, elapsed, cpu_seconds, directory))
}

/// Runs both measurements on fresh stores and removes them afterwards.
pub async fn run(options: &BenchOptions) -> Result<BenchReport, BenchError> {
    let base = options.data_dir.clone().unwrap_or_else(std::env::temp_dir);
    let root = base.join(format!("aggregator-bench-{}-{:08x}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&root)?;
    let outcome = async {
        let writer_only = store_only(options, &root.join("writer-only"), true).await?;
        let store_only = store_only(options, &root.join("store-only"), false).await?;
        let grpc = grpc(options, &root.join("grpc")).await?;
        Ok::<_, BenchError>((writer_only, store_only, grpc))
    }
    .await;
    let _ = std::fs::remove_dir_all(&root);
    let (writer_only, store_only, grpc) = outcome?;
    let template = batch_template(0, options.batch_size.max(1));
    let wire: usize = template.flows.iter().map(|flow| flow.encoded_len() + 3).sum();
    Ok(BenchReport {
        sensors: options.sensors,
        batches_per_sensor: options.batches,
        batch_size: options.batch_size,
        wire_bytes_per_flow: wire as f64 / template.flows.len() as f64,
        writer_only,
        store_only,
        grpc,
    })
}
