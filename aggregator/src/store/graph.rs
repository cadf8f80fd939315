//! The service graph: who connects to whom, aggregated per edge.
//!
//! A flow is seen from the local process's side. For an outbound flow the
//! local workload is the client (source) and the remote address the server
//! (destination, port = remote port); for an inbound flow the remote address
//! is the client and the local workload the server (port = local port). The
//! observing side is kept in the key, so the same connection seen by sensors
//! on both ends shows as two edges and is not summed twice.
//!
//! The remote end is named by its Kubernetes workload (`namespace/name`, the
//! form sensors give local workloads) when the aggregator resolved it at
//! ingest, else by its address.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use proto::v1::{Direction, Flow, FlowState, Process, ServiceGraphEdge};
use rusqlite::{Connection, Transaction};

use super::{FlowBlock, StoreError, from_sql_int, sql_int};

/// A fast non-cryptographic hash (the Fx hash of rustc) for maps keyed by
/// data the aggregator already trusts to be bounded: SipHash shows up in
/// profiles of per-flow aggregation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHash;

/// Hasher of [`FastHash`].
#[derive(Debug)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0_u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for FastHash {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

/// Identity of an edge, owned so it can travel from the ingest handler that
/// prepared it to the writer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Edge {
    source: String,
    destination: String,
    destination_port: u32,
    protocol: i32,
    observed_from: i32,
}

/// Identity of an edge, borrowed from the batches being committed where it
/// can be.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct EdgeKey<'a> {
    source: Cow<'a, str>,
    destination: Cow<'a, str>,
    destination_port: u32,
    protocol: i32,
    observed_from: i32,
}

/// What one group of batches adds to an edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EdgeTotals {
    connections: u64,
    bytes_to_destination: u64,
    bytes_to_source: u64,
    first_seen: u64,
    last_seen: u64,
}

/// The name of the local end: its workload, else its command, else its address.
fn local_name<'a>(flow: &'a Flow, process: Option<&'a Process>) -> &'a str {
    process
        .and_then(|process| {
            [process.workload.as_str(), process.command.as_str()].into_iter().find(|name| !name.is_empty())
        })
        .or_else(|| flow.local.as_ref().map(|local| local.ip.as_str()))
        .unwrap_or("")
}

/// The name of the remote end: its workload when resolved, else its address.
fn remote_name(flow: &Flow) -> Option<Cow<'_, str>> {
    if let Some(workload) = flow.remote_workload.as_ref().filter(|workload| !workload.name.is_empty()) {
        return Some(Cow::Owned(format!("{}/{}", workload.namespace, workload.name)));
    }
    flow.remote.as_ref().filter(|remote| !remote.ip.is_empty()).map(|remote| Cow::Borrowed(remote.ip.as_str()))
}

/// The edge a flow contributes to, with its byte counts; `None` when the
/// flow's direction or peer is unknown.
fn edge_of<'a>(flow: &'a Flow, process: Option<&'a Process>) -> Option<(EdgeKey<'a>, EdgeTotals)> {
    let remote_port = flow.remote.as_ref().map_or(0, |remote| remote.port);
    let remote = remote_name(flow)?;
    let local = Cow::Borrowed(local_name(flow, process));
    let connections = u64::from(matches!(flow.state(), FlowState::Closed | FlowState::Failed));
    let time = flow.time_unix_nano;
    let (source, destination, destination_port, bytes_to_destination, bytes_to_source) = match flow.direction() {
        Direction::Outbound => (local, remote, remote_port, flow.bytes_sent, flow.bytes_received),
        Direction::Inbound => {
            let port = flow.local.as_ref().map_or(0, |local| local.port);
            (remote, local, port, flow.bytes_received, flow.bytes_sent)
        }
        Direction::Unknown => return None,
    };
    Some((
        EdgeKey { source, destination, destination_port, protocol: flow.protocol, observed_from: flow.direction },
        EdgeTotals { connections, bytes_to_destination, bytes_to_source, first_seen: time, last_seen: time },
    ))
}

/// The client, the server and the server port of a flow, named as in the
/// service graph; `None` when the direction or the peer is unknown.
pub(crate) fn edge_names<'a>(
    flow: &'a Flow,
    process: Option<&'a Process>,
) -> Option<(Cow<'a, str>, Cow<'a, str>, u32)> {
    edge_of(flow, process).map(|(key, _)| (key.source, key.destination, key.destination_port))
}

impl EdgeTotals {
    fn add(&mut self, other: &EdgeTotals) {
        self.connections += other.connections;
        self.bytes_to_destination += other.bytes_to_destination;
        self.bytes_to_source += other.bytes_to_source;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
    }
}

/// Edges of a group of batches, summed so each edge costs one upsert per commit.
pub(crate) type EdgeSums = HashMap<Edge, EdgeTotals, FastHash>;

/// A service edge as drift detection looks for it in one batch: a client →
/// server:port and the first flow on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EdgeSighting {
    /// [`edge_hash`] of the client, server and port, to find the edge among
    /// those already known without naming it.
    pub hash: u64,
    /// Index in the batch of the first flow on the edge.
    pub first_index: usize,
}

/// A hash of a client → server:port, the same in every thread and run.
pub(crate) fn edge_hash(source: &str, destination: &str, port: u32) -> u64 {
    FastHash.hash_one((source, destination, port))
}

/// Sums the edges of one batch's flows; batches hold few distinct edges, so
/// this is small next to the flows. Also returns each distinct client →
/// server:port of the batch once, in the order of its first flow, which is
/// all drift detection needs from the flows (both ends of an edge seen from
/// either side, or over another protocol, are one sighting).
pub(crate) fn aggregate(block: &FlowBlock) -> (Vec<(Edge, EdgeTotals)>, Vec<EdgeSighting>) {
    let mut edges: HashMap<EdgeKey<'_>, (EdgeTotals, usize), FastHash> = HashMap::with_hasher(FastHash);
    for (index, flow) in block.flows.iter().enumerate() {
        let Some((key, add)) = edge_of(flow, block.process(index)) else {
            continue;
        };
        edges.entry(key).and_modify(|(totals, _)| totals.add(&add)).or_insert((add, index));
    }
    let mut sightings: HashMap<(&str, &str, u32), usize, FastHash> =
        HashMap::with_capacity_and_hasher(edges.len(), FastHash);
    for (key, &(_, first_index)) in &edges {
        sightings
            .entry((key.source.as_ref(), key.destination.as_ref(), key.destination_port))
            .and_modify(|index| *index = (*index).min(first_index))
            .or_insert(first_index);
    }
    let mut sightings: Vec<EdgeSighting> = sightings
        .into_iter()
        .map(|((source, destination, port), first_index)| EdgeSighting {
            hash: edge_hash(source, destination, port),
            first_index,
        })
        .collect();
    sightings.sort_unstable_by_key(|sighting| sighting.first_index);
    let edges = edges
        .into_iter()
        .map(|(key, (totals, _))| {
            let edge = Edge {
                source: key.source.into_owned(),
                destination: key.destination.into_owned(),
                destination_port: key.destination_port,
                protocol: key.protocol,
                observed_from: key.observed_from,
            };
            (edge, totals)
        })
        .collect();
    (edges, sightings)
}

/// Adds one batch's edges to the group's sums.
pub(crate) fn merge(sums: &mut EdgeSums, edges: Vec<(Edge, EdgeTotals)>) {
    for (edge, totals) in edges {
        sums.entry(edge).and_modify(|sum| sum.add(&totals)).or_insert(totals);
    }
}

/// Adds aggregated edges to the stored ones.
pub(crate) fn upsert(transaction: &Transaction<'_>, edges: &EdgeSums) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO service_edges (source, destination, destination_port, protocol, observed_from,
                                    connections, bytes_to_destination, bytes_to_source, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (source, destination, destination_port, protocol, observed_from) DO UPDATE SET
             connections = connections + excluded.connections,
             bytes_to_destination = bytes_to_destination + excluded.bytes_to_destination,
             bytes_to_source = bytes_to_source + excluded.bytes_to_source,
             first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for (key, totals) in edges {
        statement.execute(rusqlite::params![
            key.source,
            key.destination,
            key.destination_port,
            key.protocol,
            key.observed_from,
            sql_int(totals.connections),
            sql_int(totals.bytes_to_destination),
            sql_int(totals.bytes_to_source),
            sql_int(totals.first_seen),
            sql_int(totals.last_seen),
        ])?;
    }
    Ok(())
}

/// Stored edges last seen at or after `since`, sorted by source, destination
/// and port.
pub(crate) fn read(connection: &Connection, since: u64) -> Result<Vec<ServiceGraphEdge>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT source, destination, destination_port, protocol, observed_from, connections,
                bytes_to_destination, bytes_to_source, first_seen, last_seen
         FROM service_edges WHERE last_seen >= ?1
         ORDER BY source, destination, destination_port, observed_from",
    )?;
    let rows = statement.query_map([sql_int(since)], |row| {
        let int = |index: usize| row.get::<_, i64>(index).map(from_sql_int);
        Ok(ServiceGraphEdge {
            source: row.get(0)?,
            destination: row.get(1)?,
            destination_port: row.get(2)?,
            protocol: row.get(3)?,
            observed_from: row.get(4)?,
            connections: int(5)?,
            bytes_to_destination: int(6)?,
            bytes_to_source: int(7)?,
            first_seen_unix_nano: int(8)?,
            last_seen_unix_nano: int(9)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
