//! Kernel connection events → flows (the contract's `Flow`), with process
//! identity and wall-clock times.

use std::{
    hash::{BuildHasher, RandomState},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use proto::v1::{Direction, Endpoint, Flow, FlowState, Process, Protocol};
use sensor_common::{ConnEvent, Tuple, conn_kind, direction, family, tcp_state};

use crate::{clock::Clock, process::{ProcessCache, command_name}};

/// Builds flows from events. Owns the process cache.
pub struct FlowBuilder {
    clock: Clock,
    processes: ProcessCache,
    /// Keys the connection id hash: kernel socket addresses must not leave the
    /// node (they would reveal kernel memory layout), yet the OPEN and CLOSED
    /// flows of one connection must share an id, and a reused address must
    /// not.
    connection_ids: RandomState,
    /// Command lines can carry secrets (passwords, tokens, query text given
    /// to `psql -c`), so they leave the node only when asked for.
    send_command_lines: bool,
}

impl FlowBuilder {
    pub fn new(clock: Clock, processes: ProcessCache) -> Self {
        Self { clock, processes, connection_ids: RandomState::new(), send_command_lines: false }
    }

    /// Also send process command lines (off by default: they can carry secrets).
    pub fn with_command_lines(mut self, send: bool) -> Self {
        self.send_command_lines = send;
        self
    }

    pub fn processes(&self) -> &ProcessCache {
        &self.processes
    }

    /// Remembers what a process executed, for when it is gone before its
    /// flows are built.
    pub fn note_exec(&mut self, exec: crate::decode::Exec) {
        self.processes.note_exec(exec);
    }

    pub fn build(&mut self, event: &ConnEvent) -> Flow {
        let (local, remote) = endpoints(&event.tuple);
        let state = match event.kind {
            conn_kind::OPEN => FlowState::Open,
            conn_kind::FAILED => FlowState::Failed,
            _ => FlowState::Closed,
        };
        let direction = match event.direction {
            direction::OUTBOUND => Direction::Outbound,
            direction::INBOUND => Direction::Inbound,
            _ => Direction::Unknown,
        };
        let process = if event.task.pid == 0 {
            None
        } else {
            let identity = self.processes.lookup(event.task.pid, &event.task.comm);
            Some(Process {
                tid: event.task.tid,
                pid: event.task.pid,
                command: command_name(&event.task.comm),
                executable: identity.executable.clone(),
                command_line: if self.send_command_lines { identity.command_line.clone() } else { String::new() },
                cgroup_id: event.task.cgroup_id,
                cgroup_path: identity.cgroup_path.clone(),
                container_id: identity.container_id.clone(),
                systemd_unit: identity.systemd_unit.clone(),
                workload: identity.workload.clone(),
                pod_namespace: identity.pod_namespace.clone(),
                pod_name: identity.pod_name.clone(),
                container_name: identity.container_name.clone(),
            })
        };
        let time = self.clock.to_unix_ns(event.timestamp_ns);
        let closed = state != FlowState::Open;
        let (bytes_sent, bytes_received) = if closed { payload_bytes(event) } else { (0, 0) };
        Flow {
            id: 0,
            time_unix_nano: time,
            node_name: String::new(),
            state: state as i32,
            direction: direction as i32,
            protocol: Protocol::Tcp as i32,
            local: Some(local),
            remote: Some(remote),
            process,
            bytes_sent,
            bytes_received,
            opened_unix_nano: self.clock.to_unix_ns(event.opened_ns),
            closed_unix_nano: if closed { time } else { 0 },
            // The socket address and the opening time: kernel addresses are reused.
            connection_id: self.connection_ids.hash_one((event.socket, event.opened_ns)),
            // Named by the aggregator, which knows the whole cluster.
            remote_workload: None,
        }
    }
}

/// Payload bytes from the kernel's counters, which also count one sequence
/// number for our SYN (active open) and for each FIN. The state the socket
/// left for `TCP_CLOSE` tells which FINs were exchanged:
///
/// | previous state | our FIN acked | peer's FIN received |
/// | --- | --- | --- |
/// | FIN_WAIT2, CLOSING, LAST_ACK, TIME_WAIT | yes | yes |
/// | CLOSE_WAIT (aborted after the peer closed) | no | yes |
/// | ESTABLISHED, FIN_WAIT1 (reset or aborted) | no | no |
///
/// A connection opened before the sensor started has no known direction;
/// its SYN cannot be told apart and is left in.
pub fn payload_bytes(event: &ConnEvent) -> (u64, u64) {
    let (our_fin, peer_fin) = match event.previous_state {
        tcp_state::FIN_WAIT2 | tcp_state::CLOSING | tcp_state::LAST_ACK | tcp_state::TIME_WAIT => (1, 1),
        tcp_state::CLOSE_WAIT => (0, 1),
        _ => (0, 0),
    };
    let syn = u64::from(event.direction == direction::OUTBOUND && event.kind == conn_kind::CLOSE);
    (
        event.bytes_sent.saturating_sub(syn + our_fin),
        event.bytes_received.saturating_sub(peer_fin),
    )
}

fn endpoints(tuple: &Tuple) -> (Endpoint, Endpoint) {
    let address = |raw: &[u8; 16]| -> IpAddr {
        if tuple.family == family::INET {
            IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
        } else {
            let v6 = Ipv6Addr::from(*raw);
            // Dual-stack sockets talk IPv4 through mapped addresses.
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
    };
    (
        Endpoint { ip: address(&tuple.local_addr).to_string(), port: u32::from(tuple.local_port) },
        Endpoint { ip: address(&tuple.remote_addr).to_string(), port: u32::from(tuple.remote_port) },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sensor_common::TaskInfo;

    use super::*;

    fn builder() -> FlowBuilder {
        FlowBuilder::new(Clock::new(), ProcessCache::new("/nonexistent-proc", 16))
    }

    fn event(kind: u8, fam: u16) -> ConnEvent {
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"curl");
        let mut event = ConnEvent {
            kind,
            direction: direction::OUTBOUND,
            socket: 0xffff_8881_0000_1000,
            timestamp_ns: 2_000,
            opened_ns: 1_000,
            bytes_sent: 10,
            bytes_received: 20,
            task: TaskInfo { tid: 7, pid: 5, cgroup_id: 9, comm },
            ..Default::default()
        };
        event.previous_state = tcp_state::ESTABLISHED;
        event.tuple.family = fam;
        event.tuple.local_port = 40000;
        event.tuple.remote_port = 443;
        event
    }

    #[test]
    fn ipv4_close_flow() {
        let mut event = event(conn_kind::CLOSE, family::INET);
        event.tuple.local_addr[..4].copy_from_slice(&[127, 0, 0, 1]);
        event.tuple.remote_addr[..4].copy_from_slice(&[10, 1, 2, 3]);
        let flow = builder().build(&event);
        assert_eq!(flow.local.as_ref().unwrap().ip, "127.0.0.1");
        assert_eq!(flow.remote.as_ref().unwrap(), &Endpoint { ip: "10.1.2.3".into(), port: 443 });
        assert_eq!(flow.state, FlowState::Closed as i32);
        assert_eq!(flow.direction, Direction::Outbound as i32);
        // An outbound connection's counter includes its SYN.
        assert_eq!((flow.bytes_sent, flow.bytes_received), (9, 20));
        let process = flow.process.unwrap();
        assert_eq!((process.pid, process.tid, process.command.as_str()), (5, 7, "curl"));
        assert_eq!(process.workload, "curl");
        assert!(flow.closed_unix_nano > flow.opened_unix_nano);
        assert_ne!(flow.connection_id, event.socket, "kernel addresses never leave the node");
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let mut event = event(conn_kind::OPEN, family::INET6);
        event.tuple.local_addr = Ipv6Addr::LOCALHOST.octets();
        event.tuple.remote_addr = Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().octets();
        let flow = builder().build(&event);
        assert_eq!(flow.local.as_ref().unwrap().ip, "::1");
        assert_eq!(flow.remote.as_ref().unwrap().ip, "192.0.2.1");
        // Open flows carry no byte counts yet.
        assert_eq!((flow.bytes_sent, flow.bytes_received, flow.closed_unix_nano), (0, 0, 0));
    }

    #[test]
    fn payload_excludes_syn_and_fins() {
        // Client that closed first: 1000 payload bytes + SYN + FIN acked,
        // 70000 received + the server's FIN.
        let mut client = event(conn_kind::CLOSE, family::INET);
        (client.bytes_sent, client.bytes_received, client.previous_state) = (1002, 70001, tcp_state::FIN_WAIT2);
        assert_eq!(payload_bytes(&client), (1000, 70000));
        // Server that closed last: no SYN counted on a passive open.
        let mut server = client;
        server.direction = direction::INBOUND;
        (server.bytes_sent, server.bytes_received, server.previous_state) = (70001, 1001, tcp_state::LAST_ACK);
        assert_eq!(payload_bytes(&server), (70000, 1000));
        // Reset while established: only the SYN.
        let mut reset = client;
        (reset.bytes_sent, reset.bytes_received, reset.previous_state) = (11, 5, tcp_state::ESTABLISHED);
        assert_eq!(payload_bytes(&reset), (10, 5));
        // Aborted after the peer closed.
        let mut aborted = server;
        (aborted.bytes_sent, aborted.bytes_received, aborted.previous_state) = (7, 4, tcp_state::CLOSE_WAIT);
        assert_eq!(payload_bytes(&aborted), (7, 3));
        // Never below zero, whatever the kernel says.
        let mut empty = client;
        (empty.bytes_sent, empty.bytes_received) = (0, 0);
        assert_eq!(payload_bytes(&empty), (0, 0));
    }

    #[test]
    fn command_lines_stay_on_the_node_unless_asked_for() {
        let me = std::process::id();
        let mut event = event(conn_kind::OPEN, family::INET);
        event.task.pid = me;
        let mut quiet = FlowBuilder::new(Clock::new(), ProcessCache::new("/proc", 16));
        assert_eq!(quiet.build(&event).process.unwrap().command_line, "");
        let mut verbose = FlowBuilder::new(Clock::new(), ProcessCache::new("/proc", 16)).with_command_lines(true);
        assert!(!verbose.build(&event).process.unwrap().command_line.is_empty());
    }

    #[test]
    fn same_socket_same_connection_id() {
        let mut builder = builder();
        let open = builder.build(&event(conn_kind::OPEN, family::INET));
        let close = builder.build(&event(conn_kind::CLOSE, family::INET));
        assert_eq!(open.connection_id, close.connection_id);
        // The kernel reuses the socket's address for a later connection.
        let mut reused = event(conn_kind::OPEN, family::INET);
        reused.opened_ns += 1;
        assert_ne!(builder.build(&reused).connection_id, open.connection_id);
    }

    #[test]
    fn unknown_process_has_none() {
        let mut event = event(conn_kind::CLOSE, family::INET);
        event.task = TaskInfo::default();
        event.direction = direction::UNKNOWN;
        let flow = builder().build(&event);
        assert!(flow.process.is_none());
        assert_eq!(flow.direction, Direction::Unknown as i32);
    }
}
