//! Payload capture: the first bytes of every send and receive on the TCP
//! connections the sensor cares about.
//!
//! The `CAPTURE` map, keyed by `(pid << 32) | fd`, decides. Every new TCP
//! connection starts in PROBE mode: its first few payloads are copied so the
//! sensor can recognise the protocol by content; the sensor then turns the
//! connection FULL (a database) or OFF. A payload that opens a PostgreSQL or
//! MySQL session turns its connection FULL here at once, so a database
//! session's first statements never depend on how fast the sensor answers.
//! Everything else — files, pipes, uninteresting sockets — costs one failed
//! hash lookup per syscall.
//!
//! Sends are copied at syscall entry (the buffer is filled); receives at
//! exit. A receive's arguments (fd, buffer) are read at exit from the
//! registers the syscall saved (`bpf_task_pt_regs`, Linux 5.15+), so a
//! receive costs one program run and no map update; on older kernels the
//! entry program keeps them for the exit in `PENDING_READS`.
//! Records carry the real length, so the sensor's parsers stay in step when
//! a payload is cut to the limit; cuts and losses are counted.

use aya_ebpf::{
    helpers::{
        bpf_get_current_pid_tgid, bpf_get_current_task_btf, bpf_ktime_get_ns,
        bpf_probe_read_user, bpf_probe_read_user_buf, bpf_task_pt_regs,
    },
    macros::{map, tracepoint},
    maps::{HashMap, LruHashMap, RingBuf},
    programs::TracePointContext,
    EbpfContext as _,
};
use sensor_common::{
    CaptureConfig, CaptureState, MAX_CAPTURE, PayloadHeader, PendingRead, capture_mode, counter,
    flow, opens_database_session, switches_to_encryption, syscall, HANDSHAKE_PAYLOADS,
};

use crate::{BPF_RB_AVAIL_DATA, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, add, count, hand_over_capture};

/// Payload records for the sensor. Userspace may resize it before loading.
#[map]
static PAYLOAD_EVENTS: RingBuf = RingBuf::with_byte_size(8 << 20, 0);

/// Capture decision per connection, keyed by `(pid << 32) | fd`.
#[map]
static CAPTURE: HashMap<u64, CaptureState> = HashMap::with_max_entries(65536, 0);

/// fd of an in-progress connect(), keyed by thread id, so the socket's first
/// state change (in the same syscall) can be tied to its fd.
#[map]
static CONNECTING: HashMap<u64, u64> = HashMap::with_max_entries(16384, 0);

/// Receive syscalls between entry and exit, keyed by thread id; an entry
/// lives as long as its thread (see `sched_process_exit`).
#[map]
static PENDING_READS: HashMap<u64, PendingRead> = HashMap::with_max_entries(16384, 0);

/// The capture key of each accepting process's last accepted connection,
/// for a child it forks next (`task_newtask`). Least recently used entries
/// (processes that accept and never fork) make room.
#[map]
static LAST_ACCEPTED: LruHashMap<u32, u64> = LruHashMap::with_max_entries(4096, 0);

/// Written by the sensor before loading.
#[unsafe(no_mangle)]
static CAPTURE_CONFIG: CaptureConfig = CaptureConfig { max_bytes: 0, probe_payloads: 0, regs_fd: 0, regs_buffer: 0, wake_at: 0, _pad: 0 };

// Offsets in the sys_enter_* records of the syscalls below: fd, then the
// buffer (or iovec array, or msghdr), then the length (or count, or flags).
const ARG_FD: usize = 16;
const ARG_BUFFER: usize = 24;
const ARG_LENGTH: usize = 32;
const EXIT_RET: usize = 16;
// task:task_newtask: the new task's pid (a 32-bit field; the load takes the
// comm's first bytes along, cut off by the caller) and its clone flags.
const TASK_PID: usize = 8;
const TASK_CLONE_FLAGS: usize = 32;
const CLONE_THREAD: u64 = 0x0001_0000;
// struct user_msghdr: msg_iov at 16, msg_iovlen at 24. struct iovec: 16 bytes.
const MSGHDR_IOV: u64 = 16;
const MSGHDR_IOVLEN: u64 = 24;
// Iovecs summed for a send's real length.
const MAX_IOVECS: u32 = 8;

/// A 64-bit field of the tracepoint's record, loaded directly: the verifier
/// allows reads of a tracepoint program's context at fixed offsets, and a
/// direct load costs a fraction of a `bpf_probe_read_kernel` call (three of
/// them per send were about a tenth of a send's program time).
#[inline(always)]
fn field(ctx: &TracePointContext, offset: usize) -> u64 {
    // SAFETY: `offset` is a constant within the syscall tracepoints' records
    // (see the offsets above), eight-byte aligned.
    unsafe { core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(offset).cast::<u64>()) }
}

#[inline(always)]
fn config() -> CaptureConfig {
    // SAFETY: a global written by the loader; volatile so it is not folded.
    unsafe { core::ptr::read_volatile(&raw const CAPTURE_CONFIG) }
}

#[inline(always)]
fn key_of(pid: u32, fd: u64) -> u64 {
    (u64::from(pid) << 32) | (fd & 0xffff_ffff)
}

fn new_connection(key: u64, sk: u64, opened_ns: u64) -> u64 {
    let config = config();
    if config.max_bytes == 0 {
        return 0;
    }
    let state = CaptureState {
        socket: sk,
        mode: capture_mode::PROBE,
        probe_left: config.probe_payloads.min(255) as u8,
        handshake_left: 0,
        _pad: [0; 5],
        lost_bytes: [0; 2],
        opened_ns,
    };
    if CAPTURE.insert(&key, &state, 0).is_err() {
        count(counter::CAPTURE_MAP_FULL);
        return 0;
    }
    key
}

/// A client socket entering SYN_SENT inside connect(): start probing it.
/// Returns its capture key (zero if not captured).
pub fn watch_connecting_socket(sk: u64, opened_ns: u64) -> u64 {
    let pid_tgid = bpf_get_current_pid_tgid();
    // SAFETY: the value is copied out immediately.
    let Some(fd) = (unsafe { CONNECTING.get(&pid_tgid) }).copied() else {
        return 0;
    };
    new_connection(key_of((pid_tgid >> 32) as u32, fd), sk, opened_ns)
}

/// A server socket returned by accept(): start probing it, and remember it
/// as the process's last accepted connection (see `task_newtask`).
pub fn watch_accepted_socket(fd: u64, sk: u64, opened_ns: u64) -> u64 {
    let pid = (bpf_get_current_pid_tgid() >> 32) as u32;
    let key = new_connection(key_of(pid, fd), sk, opened_ns);
    if key != 0 {
        let _ = LAST_ACCEPTED.insert(&pid, &key, 0);
    }
    key
}

/// A new process (not a thread) forked by one that has just accepted a
/// connection takes the connection's capture entry under its own pid, with
/// the same fd: servers that fork a process per connection (PostgreSQL's
/// postmaster forks each backend right after accept) talk to the client
/// from the child. The socket's close then forgets the child's entry; the
/// parent's goes when it closes its copy of the fd.
#[tracepoint]
pub fn task_newtask(ctx: TracePointContext) -> u32 {
    if config().max_bytes == 0 || field(&ctx, TASK_CLONE_FLAGS) & CLONE_THREAD != 0 {
        return 0;
    }
    let parent = (bpf_get_current_pid_tgid() >> 32) as u32;
    // SAFETY: copied out at once.
    let Some(key) = (unsafe { LAST_ACCEPTED.get(&parent) }).copied() else {
        return 0;
    };
    // One child inherits the connection.
    let _ = LAST_ACCEPTED.remove(&parent);
    // SAFETY: copied out at once.
    let Some(state) = (unsafe { CAPTURE.get(&key) }).copied() else {
        return 0;
    };
    let child = field(&ctx, TASK_PID) as u32;
    let child_key = key_of(child, key);
    if CAPTURE.insert(&child_key, &state, 0).is_err() {
        count(counter::CAPTURE_MAP_FULL);
        return 0;
    }
    hand_over_capture(state.socket, key, child_key);
    0
}

/// The socket closed: forget its capture state, unless the fd was already
/// reused for another socket.
pub fn forget_socket(key: u64, sk: u64) {
    if key == 0 {
        return;
    }
    // SAFETY: read and compared before removing.
    if let Some(state) = unsafe { CAPTURE.get(&key) } {
        if state.socket == sk {
            count_owed_bytes(state);
            let _ = CAPTURE.remove(&key);
        }
    }
}

/// Bytes a closing connection still owed the sensor: counted, so that no
/// loss is silent.
#[inline(always)]
fn count_owed_bytes(state: &CaptureState) {
    let owed = u64::from(state.lost_bytes[0]) + u64::from(state.lost_bytes[1]);
    if owed == 0 {
        return;
    }
    match state.mode {
        capture_mode::FULL => add(counter::PAYLOAD_BYTES_LOST_AT_CLOSE, owed),
        capture_mode::PROBE => add(counter::PROBE_BYTES_LOST_AT_CLOSE, owed),
        _ => {}
    }
}

#[tracepoint]
pub fn sys_enter_connect(ctx: TracePointContext) -> u32 {
    if config().max_bytes != 0 {
        let _ = CONNECTING.insert(&bpf_get_current_pid_tgid(), &field(&ctx, ARG_FD), 0);
    }
    0
}

#[tracepoint]
pub fn sys_exit_connect(_ctx: TracePointContext) -> u32 {
    if config().max_bytes != 0 {
        let _ = CONNECTING.remove(&bpf_get_current_pid_tgid());
    }
    0
}

#[tracepoint]
pub fn sys_enter_close(ctx: TracePointContext) -> u32 {
    let key = key_of((bpf_get_current_pid_tgid() >> 32) as u32, field(&ctx, ARG_FD));
    // SAFETY: read before removing.
    if let Some(state) = unsafe { CAPTURE.get(&key) } {
        count_owed_bytes(state);
        let _ = CAPTURE.remove(&key);
    }
    0
}

/// The capture state of `fd` in the current process, unless it is OFF.
#[inline(always)]
fn watched(key: u64) -> Option<*mut CaptureState> {
    let pointer = CAPTURE.get_ptr_mut(&key)?;
    // SAFETY: map value pointer valid for this program run.
    if unsafe { (*pointer).mode } == capture_mode::OFF {
        return None;
    }
    Some(pointer)
}

/// Whether this payload is copied, and whether its record wakes the sensor.
///
/// A PROBE connection whose payload opens a database session
/// ([`opens_database_session`]) turns FULL here, without waiting for the
/// sensor. Other PROBE payloads (with `--probe-payloads` above 0) are copied
/// while the probe budget lasts and wake the sensor, whose decision (FULL or
/// OFF) should come before the budget is spent; after that they are only
/// counted (as lost bytes), so that once the sensor turns the connection
/// FULL the decoder skips them by length and stays in step. With no probe budget configured, a connection
/// the kernel does not recognise turns OFF at its first payload.
#[inline(always)]
fn take_payload(state: *mut CaptureState, direction: u8, buffer: u64, real_len: u64) -> Option<u64> {
    // SAFETY: map value pointer valid for this program run.
    let state = unsafe { &mut *state };
    if state.mode == capture_mode::FULL {
        return Some(BPF_RB_NO_WAKEUP);
    }
    if real_len >= 8 {
        // SAFETY: user memory read through the helper, which fails cleanly.
        if let Ok(first) = unsafe { bpf_probe_read_user(buffer as *const [u8; 8]) } {
            if opens_database_session(&first, real_len) {
                state.mode = capture_mode::FULL;
                state.handshake_left = HANDSHAKE_PAYLOADS;
                count(counter::SESSIONS_RECOGNISED);
                // No wake-up: nothing waits for the sensor's decision, and
                // a forced wake-up costs more than the few payloads of a
                // server end copied until the sensor's timer turns it off.
                return Some(BPF_RB_NO_WAKEUP);
            }
        }
    }
    if state.probe_left > 0 {
        state.probe_left -= 1;
        return Some(BPF_RB_FORCE_WAKEUP);
    }
    if config().probe_payloads == 0 {
        state.mode = capture_mode::OFF;
        return None;
    }
    let lane = if direction == flow::EGRESS { 0 } else { 1 };
    state.lost_bytes[lane] = state.lost_bytes[lane].saturating_add(real_len.min(u32::MAX as u64) as u32);
    None
}

/// One payload of a watched connection: copied if it is taken, then looked
/// at for a switch to encryption.
#[inline(always)]
fn capture(key: u64, state: *mut CaptureState, direction: u8, kind: u8, buffer: u64, real_len: u64) -> Option<()> {
    let wake = take_payload(state, direction, buffer, real_len)?;
    emit_payload(key, state, direction, kind, buffer, real_len, wake);
    watch_for_encryption(state, buffer, real_len);
    Some(())
}

/// In the first payloads of a session the kernel recognised: one that
/// switches the session to encryption turns it OFF after being copied (the
/// sensor still sees the switch and reports the session as unreadable),
/// instead of copying encrypted bytes until the sensor's next look.
#[inline(always)]
fn watch_for_encryption(state: *mut CaptureState, buffer: u64, real_len: u64) {
    // SAFETY: map value pointer valid for this program run.
    let state = unsafe { &mut *state };
    if state.handshake_left == 0 {
        return;
    }
    state.handshake_left -= 1;
    if real_len != 1 && real_len != 32 && real_len != 36 {
        return;
    }
    let mut first = [0u8; 8];
    let length = if real_len == 1 { 1 } else { 8 };
    // SAFETY: user memory read through the helper, which fails cleanly.
    if unsafe { bpf_probe_read_user_buf(buffer as *const u8, &mut first[..length]) }.is_ok()
        && switches_to_encryption(&first, real_len)
    {
        state.mode = capture_mode::OFF;
        count(counter::SESSIONS_ENCRYPTED);
    }
}

/// A payload record as reserved in the ring: the header and room for `N`
/// bytes, of which the header's `captured_len` are filled. The ring only
/// reserves sizes the verifier knows, so records come in a few classes and a
/// payload is copied straight from user memory into the smallest that fits.
#[repr(C)]
struct Record<const N: usize> {
    header: PayloadHeader,
    data: [u8; N],
}

const SMALL: usize = 128;
const MEDIUM: usize = 512;

/// Copies `real_len` bytes at `buffer` (at most the configured limit) into a
/// record and outputs it.
#[inline(always)]
fn emit_payload(key: u64, state: *mut CaptureState, direction: u8, kind: u8, buffer: u64, real_len: u64, wake: u64) {
    // SAFETY: map value pointer valid for this program run.
    let state = unsafe { &mut *state };
    let limit = config().max_bytes as u64;
    let mut length = if real_len < limit { real_len } else { limit };
    if length > MAX_CAPTURE as u64 {
        length = MAX_CAPTURE as u64;
    }
    if length < real_len {
        count(counter::PAYLOADS_TRUNCATED);
        add(counter::PAYLOAD_BYTES_SKIPPED, real_len - length);
    }
    let lane = if direction == flow::EGRESS { 0 } else { 1 };
    let pid_tgid = bpf_get_current_pid_tgid();
    let header = PayloadHeader {
        direction,
        syscall: kind,
        mode: state.mode,
        _pad: 0,
        captured_len: length as u32,
        real_len,
        pid: (pid_tgid >> 32) as u32,
        tid: pid_tgid as u32,
        fd: key as u32,
        lost_before: state.lost_bytes[lane],
        socket: state.socket,
        opened_ns: state.opened_ns,
        // SAFETY: helper with no preconditions.
        timestamp_ns: unsafe { bpf_ktime_get_ns() },
    };
    // While a connection is being probed the sensor is woken at once
    // (`wake`, from `take_payload`). Otherwise the sensor's timer drains
    // the ring; only records past the small class ask how full it is (and
    // wake the sensor from an eighth), because only they can fill it
    // between two timer ticks: 16 MiB hold 87,000 small records, and the
    // query costs every record a look at positions the other CPUs write.
    let flags = if wake == BPF_RB_FORCE_WAKEUP
        || (length > SMALL as u64 && PAYLOAD_EVENTS.query(BPF_RB_AVAIL_DATA) >= u64::from(config().wake_at))
    {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    };
    let outcome = if length <= SMALL as u64 {
        output::<SMALL>(&header, buffer, length as usize, flags)
    } else if length <= MEDIUM as u64 {
        output::<MEDIUM>(&header, buffer, length as usize, flags)
    } else {
        output::<MAX_CAPTURE>(&header, buffer, length as usize, flags)
    };
    match outcome {
        Ok(()) => {
            state.lost_bytes[lane] = 0;
            count(counter::PAYLOADS);
        }
        Err(lost) => {
            state.lost_bytes[lane] = state.lost_bytes[lane].saturating_add(real_len.min(u32::MAX as u64) as u32);
            count(lost);
        }
    }
}

/// Reserves a record of class `N`, fills it and submits it; on failure, the
/// counter to raise. Kept out of line: one function per class, so the
/// compiler cannot merge the classes into one path the verifier rejects.
#[inline(never)]
fn output<const N: usize>(header: &PayloadHeader, buffer: u64, length: usize, flags: u64) -> Result<(), u32> {
    let Some(mut entry) = PAYLOAD_EVENTS.reserve::<Record<N>>(0) else {
        return Err(counter::PAYLOADS_LOST);
    };
    // Checked again here, through a value the compiler cannot see into:
    // otherwise it may drop this bound, proven by the caller in a way the
    // verifier does not follow.
    let length = core::hint::black_box(length);
    if length > N {
        entry.discard(BPF_RB_NO_WAKEUP);
        return Err(counter::PAYLOAD_READ_FAILED);
    }
    let record = entry.as_mut_ptr();
    // SAFETY: the reserved record is ours until it is submitted or
    // discarded; user memory is read through the helper, which fails cleanly.
    let copied = unsafe {
        (*record).header = *header;
        match (*record).data.get_mut(..length) {
            Some(destination) if length > 0 => bpf_probe_read_user_buf(buffer as *const u8, destination).is_ok(),
            Some(_) => true,
            None => false,
        }
    };
    if copied {
        entry.submit(flags);
        Ok(())
    } else {
        entry.discard(BPF_RB_NO_WAKEUP);
        Err(counter::PAYLOAD_READ_FAILED)
    }
}

/// First buffer of an iovec array and the total length of up to
/// `MAX_IOVECS` entries.
#[inline(always)]
fn iovecs(iov: u64, count: u64) -> Option<(u64, u64)> {
    // SAFETY: user memory read through the helper.
    let first = unsafe { bpf_probe_read_user((iov) as *const u64) }.ok()?;
    let mut total = 0u64;
    for index in 0..MAX_IOVECS {
        if u64::from(index) >= count {
            break;
        }
        // SAFETY: as above.
        let length = unsafe { bpf_probe_read_user((iov + u64::from(index) * 16 + 8) as *const u64) }.ok()?;
        total += length;
    }
    Some((first, total))
}

/// The iovec array and its length inside a `user_msghdr`.
#[inline(always)]
fn msghdr_iovecs(msg: u64) -> Option<(u64, u64)> {
    // SAFETY: user memory read through the helper.
    unsafe {
        let iov = bpf_probe_read_user((msg + MSGHDR_IOV) as *const u64).ok()?;
        let count = bpf_probe_read_user((msg + MSGHDR_IOVLEN) as *const u64).ok()?;
        Some((iov, count))
    }
}

#[inline(always)]
fn on_send(ctx: &TracePointContext, kind: u8) -> Option<()> {
    if config().max_bytes == 0 {
        return None;
    }
    let key = key_of((bpf_get_current_pid_tgid() >> 32) as u32, field(ctx, ARG_FD));
    let state = watched(key)?;
    let (argument, length) = (field(ctx, ARG_BUFFER), field(ctx, ARG_LENGTH));
    let (buffer, real_len) = match kind {
        syscall::WRITEV => iovecs(argument, length)?,
        syscall::SENDMSG => {
            let (iov, count) = msghdr_iovecs(argument)?;
            iovecs(iov, count)?
        }
        _ => (argument, length),
    };
    capture(key, state, flow::EGRESS, kind, buffer, real_len)
}

#[inline(always)]
fn on_receive_entry(ctx: &TracePointContext, kind: u8) -> Option<()> {
    if config().max_bytes == 0 {
        return None;
    }
    let key = key_of((bpf_get_current_pid_tgid() >> 32) as u32, field(ctx, ARG_FD));
    watched(key)?;
    let buffer = field(ctx, ARG_BUFFER);
    let tid = bpf_get_current_pid_tgid();
    // The thread's entry is reused in place: an update of a hash map entry
    // costs an allocation in the kernel, a write through the pointer does not.
    if let Some(slot) = PENDING_READS.get_ptr_mut(&tid) {
        // SAFETY: map value pointer valid for this program run.
        unsafe {
            (*slot).buffer = buffer;
            (*slot).syscall = kind;
            (*slot).key = key;
        }
        return Some(());
    }
    let pending = PendingRead { key, buffer, syscall: kind, _pad: [0; 7] };
    if PENDING_READS.insert(&tid, &pending, 0).is_err() {
        count(counter::PENDING_MAP_FULL);
    }
    Some(())
}

#[inline(always)]
fn on_receive_exit(ctx: &TracePointContext) -> Option<()> {
    if config().max_bytes == 0 {
        return None;
    }
    let slot = PENDING_READS.get_ptr_mut(&bpf_get_current_pid_tgid())?;
    // SAFETY: map value pointer valid for this program run; copied, then
    // marked idle.
    let pending = unsafe {
        let pending = *slot;
        (*slot).key = 0;
        pending
    };
    if pending.key == 0 {
        return None;
    }
    let ret = field(ctx, EXIT_RET) as i64;
    if ret <= 0 {
        return None;
    }
    let state = watched(pending.key)?;
    emit_received(pending.key, state, pending.syscall, pending.buffer, ret as u64)
}

/// A receive seen at exit only: the fd and buffer come from the registers
/// the syscall saved on entry. Failed and empty receives (EAGAIN from a
/// non-blocking socket, end of file) leave after reading the return value.
#[inline(always)]
fn on_receive_exit_with_registers(ctx: &TracePointContext, kind: u8) -> Option<()> {
    let config = config();
    if config.max_bytes == 0 || config.regs_fd == 0 {
        return None;
    }
    let ret = field(ctx, EXIT_RET) as i64;
    if ret <= 0 {
        return None;
    }
    // SAFETY: the current task's BTF pointer is what bpf_task_pt_regs takes.
    // It returns a pointer the verifier knows the type of; the offsets are
    // constants of the read-only configuration, and the loads are ones the
    // verifier checks against the type and the kernel makes fault-safe.
    let (fd, registers) = unsafe {
        let registers = bpf_task_pt_regs(bpf_get_current_task_btf()) as u64;
        (core::ptr::read_volatile((registers + u64::from(config.regs_fd)) as *const u64), registers)
    };
    let key = key_of((bpf_get_current_pid_tgid() >> 32) as u32, fd);
    let state = watched(key)?;
    // SAFETY: as above.
    let argument =
        unsafe { core::ptr::read_volatile((registers + u64::from(config.regs_buffer)) as *const u64) };
    emit_received(key, state, kind, argument, ret as u64)
}

/// Copies a received payload if it is taken: `argument` is the syscall's
/// buffer, iovec array or msghdr.
#[inline(always)]
fn emit_received(key: u64, state: *mut CaptureState, kind: u8, argument: u64, real_len: u64) -> Option<()> {
    let buffer = match kind {
        syscall::READV => iovecs(argument, 1)?.0,
        syscall::RECVMSG => {
            let (iov, _) = msghdr_iovecs(argument)?;
            iovecs(iov, 1)?.0
        }
        _ => argument,
    };
    capture(key, state, flow::INGRESS, kind, buffer, real_len)
}

macro_rules! send_tracepoint {
    ($name:ident, $kind:expr) => {
        #[tracepoint]
        pub fn $name(ctx: TracePointContext) -> u32 {
            let _ = on_send(&ctx, $kind);
            0
        }
    };
}

macro_rules! receive_tracepoints {
    ($enter:ident, $exit:ident, $exit_only:ident, $kind:expr) => {
        #[tracepoint]
        pub fn $enter(ctx: TracePointContext) -> u32 {
            let _ = on_receive_entry(&ctx, $kind);
            0
        }

        #[tracepoint]
        pub fn $exit(ctx: TracePointContext) -> u32 {
            let _ = on_receive_exit(&ctx);
            0
        }

        #[tracepoint]
        pub fn $exit_only(ctx: TracePointContext) -> u32 {
            let _ = on_receive_exit_with_registers(&ctx, $kind);
            0
        }
    };
}

send_tracepoint!(sys_enter_write, syscall::WRITE);
send_tracepoint!(sys_enter_writev, syscall::WRITEV);
send_tracepoint!(sys_enter_sendto, syscall::SENDTO);
send_tracepoint!(sys_enter_sendmsg, syscall::SENDMSG);
receive_tracepoints!(sys_enter_read, sys_exit_read, read_exit_only, syscall::READ);
receive_tracepoints!(sys_enter_readv, sys_exit_readv, readv_exit_only, syscall::READV);
receive_tracepoints!(sys_enter_recvfrom, sys_exit_recvfrom, recvfrom_exit_only, syscall::RECVFROM);
receive_tracepoints!(sys_enter_recvmsg, sys_exit_recvmsg, recvmsg_exit_only, syscall::RECVMSG);

/// A thread exits: forget its receive slot.
#[tracepoint]
pub fn sched_process_exit(_ctx: TracePointContext) -> u32 {
    if config().max_bytes != 0 {
        let _ = PENDING_READS.remove(&bpf_get_current_pid_tgid());
    }
    0
}
