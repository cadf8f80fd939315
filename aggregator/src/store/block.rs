//! The stored form of a batch's flows and data accesses, shared by the store
//! and live subscribers.
//!
//! Flows of one batch mostly come from a handful of processes, and a
//! `Process` (cgroup path, command line, container id) is most of a flow's
//! size, so each distinct process is kept once per batch and flows refer to it.
//! Flow ids and node names are not stored per flow either: ids are
//! `first_id + position` and the node is the batch's. Data accesses are kept
//! the same way, in their own blocks and their own id space.

use std::collections::{HashMap, HashSet};

use proto::v1::{DataAccess, Direction, Flow, Node, Process, SensorBatch, SensorCounters};

use super::graph::{self, Edge, EdgeSighting, EdgeTotals, FastHash};
use super::inventory::InventorySums;

/// Distinct processes of a batch, each kept once.
#[derive(Default)]
struct ProcessTable {
    processes: Vec<Process>,
    // Candidates by cheap identity fields; equality decides.
    by_identity: HashMap<(u32, u32, u64), Vec<u32>, FastHash>,
}

impl ProcessTable {
    /// 1 + the index of `process` in the table (added if new); 0 for none.
    fn intern(&mut self, process: Option<Process>) -> u32 {
        let Some(process) = process else {
            return 0;
        };
        let candidates = self.by_identity.entry((process.pid, process.tid, process.cgroup_id)).or_default();
        match candidates.iter().find(|&&index| self.processes[index as usize] == process) {
            Some(&index) => index + 1,
            None => {
                let index = self.processes.len() as u32;
                self.processes.push(process);
                candidates.push(index);
                index + 1
            }
        }
    }
}

fn process_at<'a>(processes: &'a [Process], refs: &[u32], index: usize) -> Option<&'a Process> {
    let reference = *refs.get(index)?;
    reference.checked_sub(1).and_then(|process| processes.get(process as usize))
}

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
        let mut table = ProcessTable::default();
        let mut process_refs = Vec::with_capacity(flows.len());
        let mut stripped = Vec::with_capacity(flows.len());
        for mut flow in flows {
            process_refs.push(table.intern(flow.process.take()));
            flow.id = 0;
            flow.node_name.clear();
            stripped.push(flow);
        }
        Self { processes: table.processes, flows: stripped, process_refs }
    }

    /// The process of the flow at `index`.
    pub fn process(&self, index: usize) -> Option<&Process> {
        process_at(&self.processes, &self.process_refs, index)
    }
}

/// Data accesses of one batch with their client processes kept once. Encoded
/// with prost as the `accesses` blob of an `access_batches` row.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AccessBlock {
    /// Distinct client processes of the batch.
    #[prost(message, repeated, tag = "1")]
    pub processes: Vec<Process>,
    /// Accesses without their `client`, `id` and `node_name`.
    #[prost(message, repeated, tag = "2")]
    pub accesses: Vec<DataAccess>,
    /// For each access, 1 + the index of its client in `processes`, or 0 when
    /// the access has no client process.
    #[prost(uint32, repeated, tag = "3")]
    pub process_refs: Vec<u32>,
}

impl AccessBlock {
    /// Takes the client processes out of `accesses` and keeps each distinct
    /// one once.
    pub fn from_accesses(accesses: Vec<DataAccess>) -> Self {
        let mut table = ProcessTable::default();
        let mut process_refs = Vec::with_capacity(accesses.len());
        let mut stripped = Vec::with_capacity(accesses.len());
        for mut access in accesses {
            process_refs.push(table.intern(access.client.take()));
            access.id = 0;
            access.node_name.clear();
            stripped.push(access);
        }
        Self { processes: table.processes, accesses: stripped, process_refs }
    }

    /// The client process of the access at `index`.
    pub fn process(&self, index: usize) -> Option<&Process> {
        process_at(&self.processes, &self.process_refs, index)
    }
}

/// A stored batch of data accesses and where their ids start.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAccessBatch {
    /// Id of the first access; the others follow without gaps.
    pub first_id: u64,
    /// Node whose sensor sent the batch.
    pub node_name: String,
    /// The accesses.
    pub block: AccessBlock,
}

impl StoredAccessBatch {
    /// Number of accesses.
    pub fn len(&self) -> usize {
        self.block.accesses.len()
    }

    /// Whether the batch has no access.
    pub fn is_empty(&self) -> bool {
        self.block.accesses.is_empty()
    }

    /// The access at `index` as subscribers see it: id, node name and client
    /// process filled in.
    pub fn access(&self, index: usize) -> Option<DataAccess> {
        let mut access = self.block.accesses.get(index)?.clone();
        access.id = self.first_id + index as u64;
        access.node_name = self.node_name.clone();
        access.client = self.block.process(index).cloned();
        Some(access)
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

/// The data accesses of a sensor batch made ready for the writer.
#[derive(Debug, Default)]
pub struct PreparedAccesses {
    pub(crate) block: AccessBlock,
    pub(crate) blob: Vec<u8>,
    pub(crate) min_time: u64,
    pub(crate) max_time: u64,
    pub(crate) inventory: InventorySums,
}

impl PreparedAccesses {
    fn prepare(accesses: Vec<DataAccess>) -> Self {
        if accesses.is_empty() {
            return Self::default();
        }
        let (min_time, max_time) = time_range(accesses.iter().map(|access| access.time_unix_nano));
        let mut inventory = InventorySums::default();
        for access in &accesses {
            inventory.add(access);
        }
        let block = AccessBlock::from_accesses(accesses);
        let blob = prost::Message::encode_to_vec(&block);
        Self { block, blob, min_time, max_time, inventory }
    }

    /// Number of accesses.
    pub fn len(&self) -> usize {
        self.block.accesses.len()
    }

    /// Whether there is no access.
    pub fn is_empty(&self) -> bool {
        self.block.accesses.is_empty()
    }
}

fn time_range(times: impl Iterator<Item = u64>) -> (u64, u64) {
    let (low, high) = times.fold((u64::MAX, 0), |(low, high), time| (low.min(time), high.max(time)));
    (low.min(high), high)
}

/// What drift detection needs from a batch's flows, worked out while the
/// batch is prepared so the writer thread does not go through every flow
/// again: flows of a batch repeat a few edges and servers many times.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FlowSightings {
    /// Each distinct client → server:port, in the order of its first flow.
    pub edges: Vec<EdgeSighting>,
    /// Distinct local addresses of inbound flows (servers whose process the
    /// node's sensor saw), in the order first seen.
    pub servers: Vec<String>,
}

impl FlowSightings {
    fn servers(block: &FlowBlock) -> Vec<String> {
        let mut seen: HashSet<&str, FastHash> = HashSet::with_hasher(FastHash);
        block
            .flows
            .iter()
            .filter(|flow| flow.direction() == Direction::Inbound)
            .filter_map(|flow| flow.local.as_ref())
            .filter(|local| seen.insert(local.ip.as_str()))
            .map(|local| local.ip.clone())
            .collect()
    }
}

/// A sensor batch made ready for the writer: processes kept once, blobs
/// encoded, time ranges, service-graph edges and inventory sums computed.
///
/// Preparing is most of the per-record work of storing a batch. It runs in
/// the task that received the batch, on any core, so the single writer thread
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
    pub(crate) sightings: FlowSightings,
    pub(crate) accesses: PreparedAccesses,
}

impl PreparedBatch {
    /// Prepares `batch` for storage.
    pub fn prepare(batch: SensorBatch) -> Self {
        let (min_time, max_time) = time_range(batch.flows.iter().map(|flow| flow.time_unix_nano));
        let block = FlowBlock::from_flows(batch.flows);
        let blob = if block.flows.is_empty() { Vec::new() } else { prost::Message::encode_to_vec(&block) };
        let (edges, edge_sightings) = graph::aggregate(&block);
        let sightings = FlowSightings { edges: edge_sightings, servers: FlowSightings::servers(&block) };
        Self {
            session_id: batch.session_id,
            sequence: batch.sequence,
            node: batch.node.unwrap_or_default(),
            counters: batch.counters.unwrap_or_default(),
            sensor_version: batch.sensor_version,
            block,
            blob,
            min_time,
            max_time,
            edges,
            sightings,
            accesses: PreparedAccesses::prepare(batch.accesses),
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

    /// Number of data accesses.
    pub fn access_count(&self) -> usize {
        self.accesses.len()
    }
}
