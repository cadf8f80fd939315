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
    /// Not a connection event: an [`ExecEvent`](super::ExecEvent) sharing the
    /// ring buffer (its first byte says so).
    pub const EXEC: u8 = 4;
}

/// Bytes of an executable path and of a command line kept from `execve()`.
pub const EXEC_TEXT_LEN: usize = 256;

/// A process called `execve()`: its new executable and arguments, captured
/// in the kernel so that short-lived processes (gone before the sensor could
/// read `/proc`) still have an identity.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExecEvent {
    /// Always [`conn_kind::EXEC`].
    pub kind: u8,
    pub _pad: [u8; 3],
    pub pid: u32,
    pub timestamp_ns: u64,
    /// Bytes of `filename` in use (no NUL).
    pub filename_len: u32,
    /// Bytes of `args` in use: NUL-separated arguments, possibly cut.
    pub args_len: u32,
    pub filename: [u8; EXEC_TEXT_LEN],
    pub args: [u8; EXEC_TEXT_LEN],
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
    /// Key of the socket in `CAPTURE` (`(pid << 32) | fd`); zero if none.
    pub capture_key: u64,
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

/// Largest payload prefix the kernel programs can copy from one syscall; the
/// sensor chooses the actual limit (up to this) at load time.
pub const MAX_CAPTURE: usize = 4096;

/// Direction of a captured payload, seen from the local process.
pub mod flow {
    /// The local process sent it (write, writev, sendto, sendmsg).
    pub const EGRESS: u8 = 1;
    /// The local process received it (read, readv, recvfrom, recvmsg).
    pub const INGRESS: u8 = 2;
}

/// Which syscall carried a payload.
pub mod syscall {
    pub const WRITE: u8 = 1;
    pub const WRITEV: u8 = 2;
    pub const SENDTO: u8 = 3;
    pub const SENDMSG: u8 = 4;
    pub const READ: u8 = 5;
    pub const READV: u8 = 6;
    pub const RECVFROM: u8 = 7;
    pub const RECVMSG: u8 = 8;
}

/// Capture modes of a connection (see `CaptureState`).
pub mod capture_mode {
    /// Nothing is copied.
    pub const OFF: u8 = 0;
    /// The first few payloads are copied so the sensor can recognise the
    /// protocol; then the connection turns OFF unless the sensor turned it FULL.
    pub const PROBE: u8 = 1;
    /// Every payload is copied (a database connection).
    pub const FULL: u8 = 2;
}

/// Whether a connection's first payload opens a database session, judged
/// in the kernel from its first eight bytes and its length, so that a
/// database connection is decoded in full from its first byte without
/// waiting for the sensor's decision (a sensor slow to wake would otherwise
/// let the probe budget run out and lose the session's first statements).
/// The sensor still decides by the whole content and turns a connection
/// that is not what it seemed OFF.
///
/// - PostgreSQL, client to server: a start-up packet, SSL or GSSAPI
///   encryption request: a big-endian length of 8 to 10,000 bytes (the
///   server's own limit), then protocol 3.x or one of the request codes.
/// - MySQL and MariaDB, server to client: the initial handshake, packet
///   sequence 0, protocol version 10, a server version starting with a digit.
#[inline(always)]
pub fn opens_database_session(first: &[u8; 8], real_len: u64) -> bool {
    let length = u32::from_be_bytes([first[0], first[1], first[2], first[3]]);
    let code = u32::from_be_bytes([first[4], first[5], first[6], first[7]]);
    let postgres = (8..=10_000).contains(&length)
        && u64::from(length) <= real_len
        && (code >> 16 == 3 || code == POSTGRES_SSL_REQUEST || code == POSTGRES_GSSENC_REQUEST);
    let packet = u32::from_le_bytes([first[0], first[1], first[2], 0]);
    let mysql = first[3] == 0
        && first[4] == 10
        && first[5].is_ascii_digit()
        && (20..=1024).contains(&packet)
        && u64::from(packet) + 4 <= real_len;
    postgres || mysql
}

/// Whether a payload early in a recognised session switches it to
/// encryption, after which nothing can be read: PostgreSQL's one-byte
/// answer accepting an SSL (`S`) or GSSAPI (`G`) request, or a MySQL
/// client's SSL request (a 32-byte handshake response, packet sequence 1,
/// with the CLIENT_SSL capability, sent alone before the TLS handshake).
/// The request is seen whole (36 bytes) where the client sends it, and as
/// its 32-byte body alone where a server reads it (MariaDB reads a packet's
/// 4-byte header, then its body): a body of exactly 32 bytes is only ever
/// an SSL request, since a clear-text response goes on with the user name.
/// Only looked for in a session's first payloads, where nothing else can
/// take these shapes (a PostgreSQL message starts with its type letter and
/// the high bytes of its length, far from these capability bits).
#[inline(always)]
pub fn switches_to_encryption(first: &[u8; 8], real_len: u64) -> bool {
    const CLIENT_PROTOCOL_41: u32 = 0x0200;
    const CLIENT_SSL: u32 = 0x0800;
    let asks_for_ssl = |capabilities: [u8; 4]| {
        let wanted = CLIENT_PROTOCOL_41 | CLIENT_SSL;
        u32::from_le_bytes(capabilities) & wanted == wanted
    };
    match real_len {
        1 => first[0] == b'S' || first[0] == b'G',
        32 => asks_for_ssl([first[0], first[1], first[2], first[3]]),
        36 => first[..4] == [32, 0, 0, 1] && asks_for_ssl([first[4], first[5], first[6], first[7]]),
        _ => false,
    }
}

/// Payloads of a session the kernel recognised in which a switch to
/// encryption is looked for: PostgreSQL answers an SSL request in the
/// second payload; a MySQL client sends its SSL request in the second, and
/// a MySQL server reads it in its second and third (header, then body).
pub const HANDSHAKE_PAYLOADS: u8 = 3;

/// PostgreSQL's SSLRequest code (1234 << 16 | 5679).
pub const POSTGRES_SSL_REQUEST: u32 = 80_877_103;
/// PostgreSQL's GSSENCRequest code (1234 << 16 | 5680).
pub const POSTGRES_GSSENC_REQUEST: u32 = 80_877_104;

/// Per-connection capture decision, keyed by `(pid << 32) | fd` in the
/// `CAPTURE` map. The sensor turns connections FULL or OFF once it has
/// recognised (or not) their protocol.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureState {
    /// Kernel address of the socket (to tell a reused fd from the original).
    pub socket: u64,
    /// [`capture_mode`] value.
    pub mode: u8,
    /// Payloads left to copy in PROBE mode.
    pub probe_left: u8,
    /// Payloads left, after the kernel recognised the session, in which a
    /// switch to encryption is looked for ([`switches_to_encryption`]).
    pub handshake_left: u8,
    pub _pad: [u8; 5],
    /// Bytes of payloads lost (ring buffer full) since the last delivered
    /// one, per [`flow`] direction (index 0 egress, 1 ingress). The next
    /// delivered payload reports them, so the sensor's parsers skip them by
    /// length instead of losing their place in the stream.
    pub lost_bytes: [u32; 2],
    /// When the connection was opened (as in [`SocketState::opened_ns`]):
    /// with the socket address, it tells connections apart when the kernel
    /// reuses an address.
    pub opened_ns: u64,
}

/// Header of a `PAYLOAD_EVENTS` record; `captured_len` payload bytes follow.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayloadHeader {
    /// [`flow`] value.
    pub direction: u8,
    /// [`syscall`] value.
    pub syscall: u8,
    /// [`capture_mode`] the connection was in.
    pub mode: u8,
    pub _pad: u8,
    /// Bytes copied after this header (at most the configured limit).
    pub captured_len: u32,
    /// Bytes the syscall actually moved (sends: requested; receives: returned).
    pub real_len: u64,
    pub pid: u32,
    pub tid: u32,
    pub fd: u32,
    /// Bytes of this direction lost (not delivered) just before this payload.
    pub lost_before: u32,
    /// Kernel address of the socket.
    pub socket: u64,
    /// When the connection was opened (see [`CaptureState::opened_ns`]).
    pub opened_ns: u64,
    /// `bpf_ktime_get_ns()`.
    pub timestamp_ns: u64,
}

/// The largest payload record: a header and [`MAX_CAPTURE`] bytes. Records
/// in the ring buffer are cut to `header + captured_len`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PayloadEvent {
    pub header: PayloadHeader,
    pub data: [u8; MAX_CAPTURE],
}

/// Arguments of a receive syscall, kept from its entry to its exit. One
/// entry per thread, reused in place (`key` zero while no captured receive is
/// in progress) and removed when the thread exits.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingRead {
    /// Key of the connection in `CAPTURE`; zero when idle.
    pub key: u64,
    /// User buffer (read, recvfrom) or iovec array (readv, recvmsg).
    pub buffer: u64,
    /// [`syscall`] value.
    pub syscall: u8,
    pub _pad: [u8; 7],
}

/// Payload capture settings, written by the sensor before loading.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Bytes copied per syscall, at most [`MAX_CAPTURE`]; zero disables capture.
    pub max_bytes: u32,
    /// Payloads copied from a new connection before it turns OFF unless the
    /// sensor recognised its protocol.
    pub probe_payloads: u32,
    /// Offsets in `struct pt_regs` of a syscall's first two arguments (the
    /// fd and the buffer), from the kernel's BTF; zero when unknown. With
    /// them, receive programs read their arguments at syscall exit and no
    /// entry program runs.
    pub regs_fd: u32,
    pub regs_buffer: u32,
    /// Bytes waiting in the payload ring from which a record larger than
    /// the smallest class wakes the sensor (an eighth of the ring); below
    /// it, and for small records, the sensor's timer drains.
    pub wake_at: u32,
    pub _pad: u32,
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
    /// Payload records written to the ring buffer.
    pub const PAYLOADS: u32 = 4;
    /// Payload records lost because the ring buffer was full.
    pub const PAYLOADS_LOST: u32 = 5;
    /// Payloads cut to the capture limit (the record still says the real length).
    pub const PAYLOADS_TRUNCATED: u32 = 6;
    /// Payload bytes not copied because of the limit.
    pub const PAYLOAD_BYTES_SKIPPED: u32 = 7;
    /// Connections whose capture state could not be stored (map full).
    pub const CAPTURE_MAP_FULL: u32 = 8;
    /// Receives not captured because the pending-receive map was full.
    pub const PENDING_MAP_FULL: u32 = 9;
    /// Payloads whose user memory could not be read.
    pub const PAYLOAD_READ_FAILED: u32 = 10;
    /// Payload bytes of connections decoded in full still owed to the
    /// sensor (not copied, waiting to be reported with the connection's next
    /// record) when the connection closed.
    pub const PAYLOAD_BYTES_LOST_AT_CLOSE: u32 = 11;
    /// The same for connections whose protocol was still being recognised
    /// (most are not databases and would have been turned off).
    pub const PROBE_BYTES_LOST_AT_CLOSE: u32 = 12;
    /// Connections the kernel turned FULL itself because their first
    /// payload opens a database session ([`opens_database_session`]).
    pub const SESSIONS_RECOGNISED: u32 = 13;
    /// Sessions the kernel turned OFF because they switched to encryption
    /// ([`switches_to_encryption`]).
    pub const SESSIONS_ENCRYPTED: u32 = 14;
    /// Number of counters.
    pub const COUNT: u32 = 15;
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
    /// `task_struct.mm`
    pub task_mm: u64,
    /// `mm_struct.arg_start`
    pub mm_arg_start: u64,
    /// `mm_struct.arg_end`
    pub mm_arg_end: u64,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: plain-old-data, `#[repr(C)]`, no padding the compiler inserts
    // (every gap is an explicit `_pad` field), valid for any bit pattern.
    unsafe impl aya::Pod for super::KernelOffsets {}
    unsafe impl aya::Pod for super::SocketState {}
    unsafe impl aya::Pod for super::ConnEvent {}
    unsafe impl aya::Pod for super::CaptureState {}
    unsafe impl aya::Pod for super::CaptureConfig {}
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
        assert_eq!(core::mem::size_of::<SocketState>(), 32 + 8 + 40 + 8 + 8);
        assert_eq!(core::mem::size_of::<PayloadHeader>(), 8 + 8 + 16 + 8 + 8 + 8);
        assert_eq!(core::mem::size_of::<CaptureState>(), 32);
        assert_eq!(core::mem::size_of::<PendingRead>(), 24);
        assert_eq!(core::mem::size_of::<KernelOffsets>(), 12 * 8);
        assert_eq!(core::mem::size_of::<ExecEvent>(), 24 + 2 * EXEC_TEXT_LEN);
    }

    fn first(bytes: &[u8]) -> [u8; 8] {
        let mut first = [0; 8];
        first.copy_from_slice(&bytes[..8]);
        first
    }

    #[test]
    fn database_sessions_are_recognised_by_their_first_bytes() {
        // psql's start-up packet: length 0x29, protocol 3.0, then
        // NUL-terminated parameters.
        let mut startup = vec![0, 0, 0, 0x29, 0, 3, 0, 0];
        startup.extend_from_slice(b"user\0postgres\0database\0shop\0\0");
        startup.resize(0x29, 0);
        assert!(opens_database_session(&first(&startup), startup.len() as u64));
        // Protocol 3.2 (PostgreSQL 18).
        let v32 = [0, 0, 0, 0x29, 0, 3, 0, 2];
        assert!(opens_database_session(&v32, 0x29));
        // SSLRequest and GSSENCRequest: eight bytes each.
        let ssl = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        assert!(opens_database_session(&ssl, 8));
        let gss = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30];
        assert!(opens_database_session(&gss, 8));
        // MariaDB 10.11's and MySQL 8's initial handshakes.
        let mut mariadb = vec![0x5b, 0, 0, 0, 10];
        mariadb.extend_from_slice(b"5.5.5-10.11.6-MariaDB-0+deb12u1\0");
        mariadb.resize(0x5b + 4, 0);
        assert!(opens_database_session(&first(&mariadb), mariadb.len() as u64));
        let mut mysql = vec![0x4a, 0, 0, 0, 10];
        mysql.extend_from_slice(b"8.0.36\0");
        mysql.resize(0x4a + 4, 0);
        assert!(opens_database_session(&first(&mysql), mysql.len() as u64));
    }

    #[test]
    fn other_first_payloads_are_left_to_the_sensor() {
        let cases: [(&[u8], u64); 10] = [
            (b"GET / HTTP/1.1\r\n", 64),
            (b"PRI * HTTP/2.0", 24),
            (&[0x16, 3, 1, 2, 0, 1, 0, 1], 517),        // TLS ClientHello
            (b"*1\r\n$4\r\nPING\r\n", 14),            // Redis
            (&[b'Q', 0, 0, 0, 13, b'S', b'E', b'L'], 14), // a PostgreSQL query, not a start
            (&[0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e], 16), // CancelRequest
            (&[0, 0, 0, 0x29, 0, 3, 0, 0], 8),            // start-up cut short: longer than the payload
            (&[0, 0, 0x27, 0x11, 0, 3, 0, 0], 20_000),    // start-up longer than the server accepts
            (&[0x5b, 0, 0, 1, 10, b'5', b'.', b'5'], 95), // MySQL packet, not the first of the exchange
            (&[0x5b, 0, 0, 0, 10, b'x', b'.', b'5'], 95), // version not starting with a digit
        ];
        for (bytes, real_len) in cases {
            let mut padded = bytes.to_vec();
            padded.resize(8.max(padded.len()), 0);
            assert!(!opens_database_session(&first(&padded), real_len), "{bytes:?}");
        }
        // Every prefix of a recognised start-up is refused while its
        // declared length is more than the payload.
        let mariadb = [0x5b, 0, 0, 0, 10, b'5', b'.', b'5'];
        assert!(!opens_database_session(&mariadb, 0x5b + 3));
        assert!(opens_database_session(&mariadb, 0x5b + 4));
    }

    #[test]
    fn switches_to_encryption_are_recognised() {
        let one = |byte: u8| [byte, 0, 0, 0, 0, 0, 0, 0];
        assert!(switches_to_encryption(&one(b'S'), 1));
        assert!(switches_to_encryption(&one(b'G'), 1));
        assert!(!switches_to_encryption(&one(b'N'), 1), "refused: clear text continues");
        assert!(!switches_to_encryption(&one(b'S'), 2));
        // MariaDB's client SSL request: capabilities with CLIENT_SSL.
        let ssl_request = [32, 0, 0, 1, 0x0d, 0xaa, 0xbf, 0x01];
        assert!(switches_to_encryption(&ssl_request, 36));
        // A full handshake response of the same length without it.
        let clear = [32, 0, 0, 1, 0x0d, 0xa2, 0xbf, 0x01];
        assert!(!switches_to_encryption(&clear, 36));
        assert!(!switches_to_encryption(&[32, 0, 0, 2, 0x0d, 0xaa, 0xbf, 0x01], 36), "not the handshake's packet");
        assert!(!switches_to_encryption(&ssl_request, 37));
        // The same request's body alone, as mariadbd reads it (its bytes).
        let body = [0x84, 0xaa, 0xbf, 0x00, 0, 0, 0, 0x01];
        assert!(switches_to_encryption(&body, 32));
        assert!(!switches_to_encryption(&[0x84, 0xa2, 0xbf, 0x00, 0, 0, 0, 0x01], 32), "no CLIENT_SSL");
        // PostgreSQL messages of that length: type letter, then length.
        assert!(!switches_to_encryption(&[b'R', 0, 0, 0, 31, 0, 0, 0], 32));
        assert!(!switches_to_encryption(&[b'S', 0, 0, 0, 31, b'a', b'p', b'p'], 32));
    }
}
