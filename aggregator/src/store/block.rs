//! The stored form of a batch's flows, shared by the store and live
//! subscribers.
//!
//! Flows of one batch mostly come from a handful of processes, and a
//! `Process` (cgroup path, command line, container id) is most of a flow's
//! size, so each distinct process is kept once per batch and flows refer to it.
//! Flow ids and node names are not stored per flow either: ids are
//! `first_id + position` and the node is the batch's.

use std::collections::HashMap;

use proto::v1::{Flow, Node, Process, SensorBatch, SensorCounters};

use super::graph::{self, Edge, EdgeTotals, FastHash};

/// Flows of one batch with their processes kept once. Encoded with prost as
/// the `flows` blob of a `flow_batches` row.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FlowBlock {
    /// Distinct processes of the batch.
    #[prost(message, repeated, tag = "1")]
    pub processes: Vec<Process>,
    /// Flows without their `process`, `id` and `node_name`.
    #[prost(message, repeated, tag = "2")]
    pub flows: Vec<Flow>,
    /// For each flow, 1 + the index of its process in `processes`, or 0 when
    /// the flow has no process.
    #[prost(uint32, repeated, tag = "3")]
    pub process_refs: Vec<u32>,
}

impl FlowBlock {
    /// Takes the processes out of `flows` and keeps each distinct one once.
    pub fn from_flows(flows: Vec<Flow>) -> Self {
        let mut processes: Vec<Process> = Vec::new();
        let mut process_refs = Vec::with_capacity(flows.len());
        let mut stripped = Vec::with_capacity(flows.len());
        // Candidates by cheap identity fields; equality decides.
        let mut by_identity: HashMap<(u32, u32, u64), Vec<u32>, FastHash> = HashMap::with_hasher(FastHash);
        for mut flow in flows {
            let reference = match flow.process.take() {
                None => 0,
                Some(process) => {
                    let candidates = by_identity.entry((process.pid, process.tid, process.cgroup_id)).or_default();
                    match candidates.iter().find(|&&index| processes[index as usize] == process) {
                        Some(&index) => index + 1,
                        None => {
                            let index = processes.len() as u32;
                            processes.push(process);
                            candidates.push(index);
                            index + 1
                        }
                    }
                }
            };
            flow.id = 0;
            flow.node_name.clear();
            stripped.push(flow);
            process_refs.push(reference);
        }
        Self { processes, flows: stripped, process_refs }
    }

    /// The process of the flow at `index`.
    pub fn process(&self, index: usize) -> Option<&Process> {
        let reference = *self.process_refs.get(index)?;
        reference.checked_sub(1).and_then(|process| self.processes.get(process as usize))
    }
}

/// A stored batch: its flows and where their ids start.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredBatch {
    /// Id of the first flow; the others follow without gaps.
    pub first_id: u64,
    /// Node whose sensor sent the batch.
    pub node_name: String,
    /// The flows.
    pub block: FlowBlock,
}

impl StoredBatch {
    /// Number of flows.
    pub fn len(&self) -> usize {
        self.block.flows.len()
    }

    /// Whether the batch has no flow.
    pub fn is_empty(&self) -> bool {
        self.block.flows.is_empty()
    }

    /// Id of the last flow (`first_id - 1` for an empty batch).
    pub fn last_id(&self) -> u64 {
        (self.first_id + self.len() as u64).saturating_sub(1)
    }

    /// The flow at `index` as subscribers see it: id, node name and process
    /// filled in.
    pub fn flow(&self, index: usize) -> Option<Flow> {
        let mut flow = self.block.flows.get(index)?.clone();
        flow.id = self.first_id + index as u64;
        flow.node_name = self.node_name.clone();
        flow.process = self.block.process(index).cloned();
        Some(flow)
    }
}

/// A sensor batch made ready for the writer: processes kept once, blob
/// encoded, time range and service-graph edges computed.
///
/// Preparing is most of the per-flow work of storing a batch. It runs in the
/// task that received the batch, on any core, so the single writer thread
/// only copies blobs into the database.
#[derive(Debug)]
pub struct PreparedBatch {
    pub(crate) session_id: String,
    pub(crate) sequence: u64,
    pub(crate) node: Node,
    pub(crate) counters: SensorCounters,
    pub(crate) sensor_version: String,
    pub(crate) block: FlowBlock,
    pub(crate) blob: Vec<u8>,
    pub(crate) min_time: u64,
    pub(crate) max_time: u64,
    pub(crate) edges: Vec<(Edge, EdgeTotals)>,
}

impl PreparedBatch {
    /// Prepares `batch` for storage.
    pub fn prepare(batch: SensorBatch) -> Self {
        let (min_time, max_time) = batch
            .flows
            .iter()
            .fold((u64::MAX, 0), |(low, high), flow| (low.min(flow.time_unix_nano), high.max(flow.time_unix_nano)));
        let block = FlowBlock::from_flows(batch.flows);
        let blob = if block.flows.is_empty() { Vec::new() } else { prost::Message::encode_to_vec(&block) };
        let edges = graph::aggregate(&block);
        Self {
            session_id: batch.session_id,
            sequence: batch.sequence,
            node: batch.node.unwrap_or_default(),
            counters: batch.counters.unwrap_or_default(),
            sensor_version: batch.sensor_version,
            block,
            blob,
            min_time: min_time.min(max_time),
            max_time,
            edges,
        }
    }

    /// Number of flows.
    pub fn len(&self) -> usize {
        self.block.flows.len()
    }

    /// Whether the batch has no flow.
    pub fn is_empty(&self) -> bool {
        self.block.flows.is_empty()
    }
}
