//! Layouts shared by the kernel programs (`sensor-ebpf`) and the node agent
//! (`sensor`). Everything here is `#[repr(C)]`, has no padding the compiler
//! could fill differently on either side, and is read by the sensor from raw
//! ring-buffer bytes with an explicit size check (see `sensor::decode`).

#![cfg_attr(not(test), no_std)]

/// Kind of a [`ConnEvent`].
pub mod conn_kind {
    /// A connection reached the established state. For a client this is the
    /// end of the handshake; for a server it is `accept()` returning it.
    pub const OPEN: u8 = 1;
    /// A connection that had been established went to `TCP_CLOSE`.
    pub const CLOSE: u8 = 2;
    /// A `connect()` went to `TCP_CLOSE` without being established.
    pub const FAILED: u8 = 3;
}

/// TCP states, as in the kernel's `include/net/tcp_states.h`.
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
}

/// Direction of a connection, seen from the local process.
pub mod direction {
    pub const UNKNOWN: u8 = 0;
    /// The local process called `connect()`.
    pub const OUTBOUND: u8 = 1;
    /// The local process accepted the connection.
    pub const INBOUND: u8 = 2;
}

/// Address family values as the kernel reports them.
pub mod family {
    pub const INET: u16 = 2;
    pub const INET6: u16 = 10;
}

/// Length of the kernel's task command name, including the NUL.
pub const COMM_LEN: usize = 16;

/// Identity of the task that owns a socket, captured in process context.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    /// Thread id (kernel pid).
    pub tid: u32,
    /// Thread-group id (what users call the pid). Zero when unknown.
    pub pid: u32,
    /// cgroup v2 id.
    pub cgroup_id: u64,
    /// Command name, NUL-padded.
    pub comm: [u8; COMM_LEN],
}

/// A TCP connection 4-tuple. IPv4 addresses sit in the first 4 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tuple {
    pub local_addr: [u8; 16],
    pub remote_addr: [u8; 16],
    pub local_port: u16,
    pub remote_port: u16,
    /// [`family::INET`] or [`family::INET6`].
    pub family: u16,
    pub _pad: u16,
}

/// What the kernel remembers about a live socket, keyed by the socket's
/// kernel address (see `SOCKETS` in the eBPF programs).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocketState {
    pub task: TaskInfo,
    /// `bpf_ktime_get_ns()` when the connection was opened (connect() called
    /// or handshake completed on the server side).
    pub opened_ns: u64,
    pub tuple: Tuple,
    /// [`direction`] value.
    pub direction: u8,
    /// Set once an OPEN event was emitted for this socket.
    pub announced: u8,
    pub _pad: [u8; 6],
}

/// One connection lifecycle event, as written into the `CONN_EVENTS` ring
/// buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnEvent {
    /// [`conn_kind`] value.
    pub kind: u8,
    /// [`direction`] value.
    pub direction: u8,
    /// TCP state the socket left for `TCP_CLOSE` (CLOSE and FAILED events);
    /// tells which FINs the byte counters include.
    pub previous_state: u8,
    pub _pad: [u8; 5],
    /// Kernel address of the socket: identifies the connection while it lives.
    pub socket: u64,
    /// `bpf_ktime_get_ns()` of the event.
    pub timestamp_ns: u64,
    /// `bpf_ktime_get_ns()` when the connection was opened; zero if unknown.
    pub opened_ns: u64,
    /// `tcp_sock.bytes_acked`: bytes the peer acknowledged, counting our SYN
    /// (active open) and FIN as one each, like the kernel does.
    pub bytes_sent: u64,
    /// `tcp_sock.bytes_received`: bytes received in order, counting the
    /// peer's FIN as one.
    pub bytes_received: u64,
    pub task: TaskInfo,
    pub tuple: Tuple,
}

/// Indexes of the per-CPU `COUNTERS` array the sensor reads and reports.
pub mod counter {
    /// Connection events written to the ring buffer.
    pub const CONN_EVENTS: u32 = 0;
    /// Connection events lost because the ring buffer was full.
    pub const CONN_EVENTS_LOST: u32 = 1;
    /// Sockets that could not be remembered because the map was full.
    pub const SOCKET_MAP_FULL: u32 = 2;
    /// accept() results whose socket could not be resolved from the fd.
    pub const ACCEPT_UNRESOLVED: u32 = 3;
    /// Number of counters.
    pub const COUNT: u32 = 4;
}

/// Kernel structure offsets, read from the kernel's BTF by the sensor at
/// start-up and written into the programs' `OFFSETS` global before loading.
/// This is how the programs follow pointers without CO-RE support in the
/// toolchain: every offset comes from the running kernel, none is assumed.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelOffsets {
    /// Non-zero when every offset below was resolved.
    pub valid: u64,
    /// `task_struct.files`
    pub task_files: u64,
    /// `files_struct.fdt`
    pub files_fdt: u64,
    /// `fdtable.fd`
    pub fdtable_fd: u64,
    /// `fdtable.max_fds`
    pub fdtable_max_fds: u64,
    /// `file.private_data`
    pub file_private_data: u64,
    /// `socket.sk`
    pub socket_sk: u64,
    /// `tcp_sock.bytes_received`
    pub tcp_bytes_received: u64,
    /// `tcp_sock.bytes_acked`
    pub tcp_bytes_acked: u64,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: plain-old-data, `#[repr(C)]`, no padding the compiler inserts
    // (every gap is an explicit `_pad` field), valid for any bit pattern.
    unsafe impl aya::Pod for super::KernelOffsets {}
    unsafe impl aya::Pod for super::SocketState {}
    unsafe impl aya::Pod for super::ConnEvent {}
}

#[cfg(test)]
mod tests {
    use super::*;

    // The layouts are read as raw bytes on the other side: any change of
    // size is a change of the contract with the kernel programs.
    #[test]
    fn layouts_have_no_implicit_padding() {
        assert_eq!(core::mem::size_of::<TaskInfo>(), 4 + 4 + 8 + 16);
        assert_eq!(core::mem::size_of::<Tuple>(), 16 + 16 + 2 + 2 + 2 + 2);
        assert_eq!(core::mem::size_of::<ConnEvent>(), 8 + 8 * 5 + 32 + 40);
        assert_eq!(core::mem::size_of::<SocketState>(), 32 + 8 + 40 + 8);
        assert_eq!(core::mem::size_of::<KernelOffsets>(), 9 * 8);
    }
}
