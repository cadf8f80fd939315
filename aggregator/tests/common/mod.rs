//! Helpers shared by the integration tests: an in-process aggregator on
//! ephemeral ports with a real SQLite file, and real gRPC clients.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use aggregator::{RunningServer, ServerConfig};
use proto::v1::get_data_accesses_response::ResponseTypes as AccessResponseTypes;
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::ingest_client::IngestClient;
use proto::v1::observer_client::ObserverClient;
use proto::v1::{
    AccessKind, BatchAck, ColumnAccess, DataAccess, DatabaseProtocol, Direction, Endpoint, Flow, FlowState,
    GetDataAccessesRequest, GetDataAccessesResponse, GetFlowsRequest, GetFlowsResponse, LostEvent, Node, Process,
    Protocol, SensorBatch, SensorCounters,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

pub fn config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), dir.to_path_buf());
    config.http_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config
}

pub async fn start(dir: &Path) -> RunningServer {
    aggregator::start(config(dir)).await.expect("server starts")
}

pub async fn channel(server: &RunningServer) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", server.grpc_address()))
        .unwrap()
        .connect()
        .await
        .expect("connects")
}

pub async fn observer(server: &RunningServer) -> ObserverClient<Channel> {
    ObserverClient::new(channel(server).await).max_decoding_message_size(usize::MAX)
}

/// A sensor's side of one ingest stream.
pub struct Sensor {
    sender: mpsc::Sender<SensorBatch>,
    acks: Streaming<BatchAck>,
}

impl Sensor {
    pub async fn open(server: &RunningServer) -> Sensor {
        let (sender, receiver) = mpsc::channel(64);
        let acks = IngestClient::new(channel(server).await)
            .max_encoding_message_size(usize::MAX)
            .stream(ReceiverStream::new(receiver))
            .await
            .expect("ingest stream opens")
            .into_inner();
        Sensor { sender, acks }
    }

    /// Sends a batch and waits for the next answer.
    pub async fn send(&mut self, batch: SensorBatch) -> Result<BatchAck, Status> {
        self.sender.send(batch).await.expect("stream open");
        self.next_ack().await
    }

    /// Sends without waiting.
    pub async fn push(&mut self, batch: SensorBatch) {
        self.sender.send(batch).await.expect("stream open");
    }

    pub async fn next_ack(&mut self) -> Result<BatchAck, Status> {
        match tokio::time::timeout(Duration::from_secs(30), self.acks.message()).await.expect("answer in time") {
            Ok(Some(ack)) => Ok(ack),
            Ok(None) => Err(Status::unknown("stream ended")),
            Err(status) => Err(status),
        }
    }
}

pub fn node(name: &str) -> Node {
    Node { name: name.into(), region: "eu-west-1".into(), zone: "eu-west-1b".into() }
}

pub fn batch(session: &str, sequence: u64, node_name: &str, flows: Vec<Flow>) -> SensorBatch {
    SensorBatch {
        session_id: session.into(),
        sequence,
        node: Some(node(node_name)),
        flows,
        counters: Some(SensorCounters::default()),
        sensor_version: "test".into(),
        accesses: Vec::new(),
    }
}

pub fn access_batch(session: &str, sequence: u64, node_name: &str, accesses: Vec<DataAccess>) -> SensorBatch {
    SensorBatch { accesses, ..batch(session, sequence, node_name, Vec::new()) }
}

/// A PostgreSQL access by `workload` (pid) to `server`, reading `columns`
/// of `table` (written instead when `write`).
pub fn access(time: u64, workload: &str, pid: u32, server: (&str, u32), table: &str, columns: &[&str], write: bool) -> DataAccess {
    let kind = if write { AccessKind::Write } else { AccessKind::Read };
    DataAccess {
        time_unix_nano: time,
        client: Some(Process {
            pid,
            tid: pid,
            command: workload.into(),
            executable: format!("/usr/bin/{workload}"),
            workload: workload.into(),
            ..Process::default()
        }),
        client_endpoint: Some(Endpoint { ip: "10.0.0.1".into(), port: 41_000 }),
        server: Some(Endpoint { ip: server.0.into(), port: server.1 }),
        server_workload: String::new(),
        protocol: DatabaseProtocol::Postgresql as i32,
        database: "shop".into(),
        user: "app".into(),
        fingerprint: format!("{} {table}", if write { "UPDATE" } else { "SELECT" }),
        fingerprint_id: 7,
        operation: if write { "UPDATE" } else { "SELECT" }.into(),
        tables_read: if write { vec![] } else { vec![table.into()] },
        tables_written: if write { vec![table.into()] } else { vec![] },
        columns: columns
            .iter()
            .map(|column| ColumnAccess { table: table.into(), column: (*column).into(), kind: kind as i32, signals: None, column_type: 0 })
            .collect(),
        count: 2,
        rows: 2,
        latency_total_ns: 2_000_000,
        latency_max_ns: 1_500_000,
        connection_id: 99,
        ..DataAccess::default()
    }
}

pub fn numbered_accesses(first_time: u64, count: usize) -> Vec<DataAccess> {
    (0..count)
        .map(|index| access(first_time + index as u64, "client", 10, ("10.9.0.5", 5432), "public.items", &["id"], false))
        .collect()
}

pub enum ReceivedAccess {
    Access(Box<DataAccess>),
    Lost(LostEvent),
}

pub fn received_access(response: GetDataAccessesResponse) -> ReceivedAccess {
    match response.response_types.expect("response has a body") {
        AccessResponseTypes::DataAccess(access) => ReceivedAccess::Access(Box::new(access)),
        AccessResponseTypes::LostEvents(event) => ReceivedAccess::Lost(event),
    }
}

/// Every data access of a finished (non-follow) request.
pub async fn get_accesses(server: &RunningServer, request: GetDataAccessesRequest) -> Vec<DataAccess> {
    let mut stream = observer(server).await.get_data_accesses(request).await.expect("get_data_accesses").into_inner();
    let mut accesses = Vec::new();
    while let Some(response) = stream.message().await.expect("stream ok") {
        if let ReceivedAccess::Access(access) = received_access(response) {
            accesses.push(*access);
        }
    }
    accesses
}

pub fn access_ids(accesses: &[DataAccess]) -> Vec<u64> {
    accesses.iter().map(|access| access.id).collect()
}

/// A closed outbound flow from `workload` (pid) to `remote`.
pub fn flow(time: u64, workload: &str, pid: u32, remote: (&str, u32)) -> Flow {
    Flow {
        time_unix_nano: time,
        state: FlowState::Closed as i32,
        direction: Direction::Outbound as i32,
        protocol: Protocol::Tcp as i32,
        local: Some(Endpoint { ip: "10.0.0.1".into(), port: 41_000 }),
        remote: Some(Endpoint { ip: remote.0.into(), port: remote.1 }),
        process: Some(Process {
            pid,
            tid: pid,
            command: workload.into(),
            executable: format!("/usr/bin/{workload}"),
            workload: workload.into(),
            ..Process::default()
        }),
        bytes_sent: 100,
        bytes_received: 1_000,
        ..Flow::default()
    }
}

pub fn numbered_flows(first_time: u64, count: usize) -> Vec<Flow> {
    (0..count).map(|index| flow(first_time + index as u64, "client", 10, ("10.9.0.1", 443))).collect()
}

pub enum Received {
    Flow(Box<Flow>),
    Lost(LostEvent),
}

pub fn received(response: GetFlowsResponse) -> Received {
    match response.response_types.expect("response has a body") {
        ResponseTypes::Flow(flow) => Received::Flow(Box::new(flow)),
        ResponseTypes::LostEvents(event) => Received::Lost(event),
    }
}

/// Every flow of a finished (non-follow) request.
pub async fn get_flows(server: &RunningServer, request: GetFlowsRequest) -> Vec<Flow> {
    let mut stream = observer(server).await.get_flows(request).await.expect("get_flows").into_inner();
    let mut flows = Vec::new();
    while let Some(response) = stream.message().await.expect("stream ok") {
        if let Received::Flow(flow) = received(response) {
            flows.push(*flow);
        }
    }
    flows
}

pub fn ids(flows: &[Flow]) -> Vec<u64> {
    flows.iter().map(|flow| flow.id).collect()
}
