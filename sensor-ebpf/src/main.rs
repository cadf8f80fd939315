//! Kernel programs of the sensor.
//!
//! Everything here runs on tracepoints, the capture path that works on every
//! kernel the sensor supports (no kprobes, no fentry):
//!
//! - `sock:inet_sock_set_state` (Linux 4.16+) follows every TCP socket
//!   through its states: `connect()` (client, process context), handshake
//!   completion (client and server, usually softirq context) and `TCP_CLOSE`.
//! - `syscalls:sys_exit_accept{,4}` gives the server side its process: the
//!   returned fd is resolved to its socket by following `task_struct → files →
//!   fdtable → file → socket → sock` with offsets the sensor read from the
//!   kernel's BTF (`OFFSETS`).
//!
//! Events go to userspace through the `CONN_EVENTS` ring buffer (Linux 5.8+).
//! Whatever cannot be delivered is counted in `COUNTERS`, which the sensor
//! reads and reports: nothing is lost silently.

#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::{
        bpf_get_current_cgroup_id, bpf_get_current_comm, bpf_get_current_pid_tgid,
        bpf_get_current_task, bpf_ktime_get_ns, bpf_probe_read_kernel, bpf_probe_read_kernel_str_bytes,
        bpf_probe_read_user_buf,
    },
    macros::{map, tracepoint},
    maps::{HashMap, PerCpuArray, RingBuf},
    programs::TracePointContext,
    EbpfContext as _,
};
use aya_log_ebpf::warn;
use sensor_common::{
    COMM_LEN, ConnEvent, EXEC_TEXT_LEN, ExecEvent, KernelOffsets, SocketState, TaskInfo, Tuple, conn_kind, counter,
    direction, family,
};

/// Connection events for the sensor. Userspace may resize it before loading.
#[map]
static CONN_EVENTS: RingBuf = RingBuf::with_byte_size(1 << 20, 0);

/// Live TCP sockets the programs have seen open, keyed by kernel address.
/// A plain hash map, not an LRU: when it is full an insert fails and is
/// counted, rather than silently evicting a live connection.
#[map]
static SOCKETS: HashMap<u64, SocketState> = HashMap::with_max_entries(65536, 0);

/// A forked child took over an accepted socket's capture entry `from`
/// (`payload::task_newtask`): the socket's close forgets the child's entry
/// `to`, if the socket is still the one `from` was made for.
fn hand_over_capture(sk: u64, from: u64, to: u64) {
    if let Some(state) = SOCKETS.get_ptr_mut(&sk) {
        // SAFETY: map value pointer valid for this program run.
        unsafe {
            if (*state).capture_key == from {
                (*state).capture_key = to;
            }
        }
    }
}

/// Per-CPU counters, indexed by `sensor_common::counter`.
#[map]
static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counter::COUNT, 0);

/// Written by the sensor before loading (see `sensor::kernel::btf`).
#[unsafe(no_mangle)]
static OFFSETS: KernelOffsets = KernelOffsets {
    valid: 0,
    task_files: 0,
    files_fdt: 0,
    fdtable_fd: 0,
    fdtable_max_fds: 0,
    file_private_data: 0,
    socket_sk: 0,
    tcp_bytes_received: 0,
    tcp_bytes_acked: 0,
    task_mm: 0,
    mm_arg_start: 0,
    mm_arg_end: 0,
};

const IPPROTO_TCP: u16 = 6;
const TCP_ESTABLISHED: i32 = 1;
const TCP_SYN_SENT: i32 = 2;
const TCP_SYN_RECV: i32 = 3;
const TCP_CLOSE: i32 = 7;
const TCP_LISTEN: i32 = 10;

// Field offsets in the `sock:inet_sock_set_state` record, from
// /sys/kernel/tracing/events/sock/inet_sock_set_state/format. This layout has
// been stable since the tracepoint appeared in 4.16.
const SK_ADDR: usize = 8;
const OLD_STATE: usize = 16;
const NEW_STATE: usize = 20;
const SPORT: usize = 24;
const DPORT: usize = 26;
const FAMILY: usize = 28;
const PROTOCOL: usize = 30;
const SADDR: usize = 32;
const DADDR: usize = 36;
const SADDR_V6: usize = 40;
const DADDR_V6: usize = 56;

// `sys_exit_*` records: the return value is a long at offset 16.
const SYSCALL_RET: usize = 16;

mod payload;

#[inline(always)]
fn count(index: u32) {
    add(index, 1);
}

#[inline(always)]
fn add(index: u32, amount: u64) {
    if let Some(value) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, only this CPU writes it while we run.
        unsafe { *value += amount };
    }
}

#[inline(always)]
fn offsets() -> KernelOffsets {
    // SAFETY: a global written by the loader before the program runs; read
    // volatile so the compiler cannot fold the zero initialiser in.
    unsafe { core::ptr::read_volatile(&raw const OFFSETS) }
}

#[inline(always)]
fn current_task_info() -> TaskInfo {
    let pid_tgid = bpf_get_current_pid_tgid();
    TaskInfo {
        tid: pid_tgid as u32,
        pid: (pid_tgid >> 32) as u32,
        // SAFETY: helper with no preconditions.
        cgroup_id: unsafe { bpf_get_current_cgroup_id() },
        comm: bpf_get_current_comm().unwrap_or([0u8; COMM_LEN]),
    }
}

#[inline(always)]
fn read_tuple(ctx: &TracePointContext, fam: u16) -> Result<Tuple, i64> {
    // SAFETY: offsets within the tracepoint record described above.
    unsafe {
        let mut tuple = Tuple {
            local_port: ctx.read_at::<u16>(SPORT)?,
            remote_port: ctx.read_at::<u16>(DPORT)?,
            family: fam,
            ..Tuple::default()
        };
        if fam == family::INET6 {
            tuple.local_addr = ctx.read_at::<[u8; 16]>(SADDR_V6)?;
            tuple.remote_addr = ctx.read_at::<[u8; 16]>(DADDR_V6)?;
        } else {
            let local = ctx.read_at::<[u8; 4]>(SADDR)?;
            let remote = ctx.read_at::<[u8; 4]>(DADDR)?;
            tuple.local_addr[..4].copy_from_slice(&local);
            tuple.remote_addr[..4].copy_from_slice(&remote);
        }
        Ok(tuple)
    }
}

/// Ring buffer output flags: wake the consumer now, or do not.
pub(crate) const BPF_RB_FORCE_WAKEUP: u64 = 2;
pub(crate) const BPF_RB_NO_WAKEUP: u64 = 1;
/// `bpf_ringbuf_query` flags: bytes waiting, and the ring's size.
pub(crate) const BPF_RB_AVAIL_DATA: u64 = 0;
const BPF_RB_RING_SIZE: u64 = 1;

/// Ring buffer flags for a record: wake the sensor only once the ring holds
/// an eighth of its size. The sensor also drains the rings on a short timer,
/// so records never wait long; without this, every record of a busy
/// connection would cost a wake-up and a context switch. (Payload records,
/// far more frequent, compare with a threshold the sensor computed, one
/// query instead of two: see `payload::emit_payload`.)
#[inline(always)]
fn wakeup_flags(ring: &RingBuf) -> u64 {
    if ring.query(BPF_RB_AVAIL_DATA) >= ring.query(BPF_RB_RING_SIZE) / 8 {
        BPF_RB_FORCE_WAKEUP
    } else {
        BPF_RB_NO_WAKEUP
    }
}

#[inline(always)]
fn emit(event: &ConnEvent) {
    match CONN_EVENTS.output::<ConnEvent>(event, wakeup_flags(&CONN_EVENTS)) {
        Ok(()) => count(counter::CONN_EVENTS),
        Err(_) => count(counter::CONN_EVENTS_LOST),
    }
}

/// Reads the payload byte counters of a `tcp_sock`; zeros when the kernel's
/// BTF did not give us the offsets.
#[inline(always)]
fn tcp_bytes(sk: u64) -> (u64, u64) {
    let off = offsets();
    if off.valid == 0 {
        return (0, 0);
    }
    // SAFETY: `sk` is the socket the tracepoint fired for; bpf_probe_read_kernel
    // fails cleanly on a bad address.
    unsafe {
        let sent = bpf_probe_read_kernel((sk + off.tcp_bytes_acked) as *const u64).unwrap_or(0);
        let received =
            bpf_probe_read_kernel((sk + off.tcp_bytes_received) as *const u64).unwrap_or(0);
        (sent, received)
    }
}

#[tracepoint]
pub fn inet_sock_set_state(ctx: TracePointContext) -> u32 {
    let _ = try_inet_sock_set_state(&ctx);
    0
}

fn try_inet_sock_set_state(ctx: &TracePointContext) -> Result<(), i64> {
    // SAFETY: offsets within the tracepoint record.
    let (protocol, sk, old, new, fam) = unsafe {
        (
            ctx.read_at::<u16>(PROTOCOL)?,
            ctx.read_at::<u64>(SK_ADDR)?,
            ctx.read_at::<i32>(OLD_STATE)?,
            ctx.read_at::<i32>(NEW_STATE)?,
            ctx.read_at::<u16>(FAMILY)?,
        )
    };
    if protocol != IPPROTO_TCP {
        return Ok(());
    }
    // SAFETY: helper with no preconditions.
    let now = unsafe { bpf_ktime_get_ns() };

    if old == TCP_CLOSE && new == TCP_SYN_SENT {
        // connect(): process context, the task is the client. The local port
        // is not chosen yet; the tuple is taken again on establishment.
        let state = SocketState {
            task: current_task_info(),
            opened_ns: now,
            tuple: read_tuple(ctx, fam)?,
            direction: direction::OUTBOUND,
            announced: 0,
            _pad: [0; 6],
            capture_key: payload::watch_connecting_socket(sk, now),
        };
        if SOCKETS.insert(&sk, &state, 0).is_err() {
            count(counter::SOCKET_MAP_FULL);
            warn!(ctx, "socket map full: outbound connection not tracked");
        }
        return Ok(());
    }

    if old == TCP_SYN_SENT && new == TCP_ESTABLISHED {
        let tuple = read_tuple(ctx, fam)?;
        if let Some(state) = SOCKETS.get_ptr_mut(&sk) {
            // SAFETY: map value pointer valid for this program run.
            let state = unsafe { &mut *state };
            state.tuple = tuple;
            state.announced = 1;
            emit(&ConnEvent {
                kind: conn_kind::OPEN,
                direction: direction::OUTBOUND,
                socket: sk,
                timestamp_ns: now,
                opened_ns: state.opened_ns,
                task: state.task,
                tuple,
                ..ConnEvent::default()
            });
        }
        return Ok(());
    }

    if old == TCP_SYN_RECV && new == TCP_ESTABLISHED {
        // Server side: a new child socket, usually in softirq context, so the
        // current task is meaningless. accept() fills the task in.
        let state = SocketState {
            task: TaskInfo::default(),
            opened_ns: now,
            tuple: read_tuple(ctx, fam)?,
            direction: direction::INBOUND,
            announced: 0,
            _pad: [0; 6],
            capture_key: 0,
        };
        if SOCKETS.insert(&sk, &state, 0).is_err() {
            count(counter::SOCKET_MAP_FULL);
            warn!(ctx, "socket map full: inbound connection not tracked");
        }
        return Ok(());
    }

    if new == TCP_CLOSE && old != TCP_LISTEN && old != TCP_CLOSE {
        let tuple = read_tuple(ctx, fam)?;
        // SAFETY: the value is copied out before the entry is removed.
        let known = unsafe { SOCKETS.get(&sk) }.copied();
        let _ = SOCKETS.remove(&sk);
        if let Some(state) = &known {
            payload::forget_socket(state.capture_key, sk);
        }
        let (bytes_sent, bytes_received) = tcp_bytes(sk);
        let mut event = ConnEvent {
            kind: conn_kind::CLOSE,
            previous_state: old as u8,
            socket: sk,
            timestamp_ns: now,
            bytes_sent,
            bytes_received,
            tuple,
            ..ConnEvent::default()
        };
        match known {
            Some(state) => {
                event.direction = state.direction;
                event.opened_ns = state.opened_ns;
                event.task = state.task;
                if old == TCP_SYN_SENT {
                    event.kind = conn_kind::FAILED;
                } else if old == TCP_SYN_RECV {
                    // A handshake that never completed on the server side.
                    return Ok(());
                }
            }
            None => {
                // Opened before the sensor started (or untracked): still
                // report its close, with what the socket itself tells.
                if old == TCP_SYN_SENT || old == TCP_SYN_RECV {
                    return Ok(());
                }
            }
        }
        emit(&event);
    }
    Ok(())
}

#[tracepoint]
pub fn sys_exit_accept4(ctx: TracePointContext) -> u32 {
    let _ = try_accept_exit(&ctx);
    0
}

#[tracepoint]
pub fn sys_exit_accept(ctx: TracePointContext) -> u32 {
    let _ = try_accept_exit(&ctx);
    0
}

/// Follows `current->files->fdt->fd[fd]->private_data->sk`.
#[inline(always)]
fn socket_of_fd(fd: u64, off: &KernelOffsets) -> Result<u64, i64> {
    // SAFETY: every dereference goes through bpf_probe_read_kernel, which
    // fails cleanly on a bad address; offsets come from the running kernel's
    // BTF.
    unsafe {
        let task = bpf_get_current_task();
        let files: u64 = bpf_probe_read_kernel((task + off.task_files) as *const u64)?;
        let fdt: u64 = bpf_probe_read_kernel((files + off.files_fdt) as *const u64)?;
        let max_fds: u32 = bpf_probe_read_kernel((fdt + off.fdtable_max_fds) as *const u32)?;
        if fd >= u64::from(max_fds) {
            return Err(-1);
        }
        let fd_array: u64 = bpf_probe_read_kernel((fdt + off.fdtable_fd) as *const u64)?;
        let file: u64 = bpf_probe_read_kernel((fd_array + fd * 8) as *const u64)?;
        let socket: u64 = bpf_probe_read_kernel((file + off.file_private_data) as *const u64)?;
        Ok(bpf_probe_read_kernel((socket + off.socket_sk) as *const u64)?)
    }
}

fn try_accept_exit(ctx: &TracePointContext) -> Result<(), i64> {
    // SAFETY: offset within the sys_exit record.
    let ret: i64 = unsafe { ctx.read_at::<i64>(SYSCALL_RET)? };
    if ret < 0 {
        return Ok(());
    }
    let off = offsets();
    if off.valid == 0 {
        count(counter::ACCEPT_UNRESOLVED);
        return Ok(());
    }
    let sk = match socket_of_fd(ret as u64, &off) {
        Ok(sk) => sk,
        Err(_) => {
            count(counter::ACCEPT_UNRESOLVED);
            return Ok(());
        }
    };
    // Not in the map: not TCP (a Unix socket), or established before the
    // sensor started.
    let Some(state) = SOCKETS.get_ptr_mut(&sk) else {
        return Ok(());
    };
    // SAFETY: map value pointer valid for this program run.
    let state = unsafe { &mut *state };
    if state.direction != direction::INBOUND || state.announced != 0 {
        return Ok(());
    }
    state.task = current_task_info();
    state.announced = 1;
    state.capture_key = payload::watch_accepted_socket(ret as u64, sk, state.opened_ns);
    emit(&ConnEvent {
        kind: conn_kind::OPEN,
        direction: direction::INBOUND,
        socket: sk,
        // SAFETY: helper with no preconditions.
        timestamp_ns: unsafe { bpf_ktime_get_ns() },
        opened_ns: state.opened_ns,
        task: state.task,
        tuple: state.tuple,
        ..ConnEvent::default()
    });
    Ok(())
}

/// `sched:sched_process_exec`: the new executable and its arguments, so a
/// process that connects and exits at once still has a name and command line.
#[tracepoint]
pub fn sched_process_exec(ctx: TracePointContext) -> u32 {
    let _ = try_exec(&ctx);
    0
}

// `sched_process_exec` record: `__data_loc char[] filename` at 8.
const EXEC_FILENAME_LOC: usize = 8;

fn try_exec(ctx: &TracePointContext) -> Result<(), i64> {
    // SAFETY: offset within the record.
    let location: u32 = unsafe { ctx.read_at::<u32>(EXEC_FILENAME_LOC)? };
    let Some(mut entry) = CONN_EVENTS.reserve::<ExecEvent>(0) else {
        count(counter::CONN_EVENTS_LOST);
        return Ok(());
    };
    let event = entry.as_mut_ptr();
    // SAFETY: `event` points at a reserved ring buffer slot of the right size;
    // every field is written before submission.
    unsafe {
        (*event).kind = conn_kind::EXEC;
        (*event)._pad = [0; 3];
        (*event).pid = (bpf_get_current_pid_tgid() >> 32) as u32;
        (*event).timestamp_ns = bpf_ktime_get_ns();
        (*event).filename_len = 0;
        (*event).args_len = 0;
        let name = (ctx.as_ptr() as *const u8).add((location & 0xffff) as usize);
        if let Ok(read) = bpf_probe_read_kernel_str_bytes(name, &mut (*event).filename) {
            (*event).filename_len = read.len() as u32;
        }
        let off = offsets();
        if off.valid != 0 {
            let task = bpf_get_current_task();
            let mm: u64 = bpf_probe_read_kernel((task + off.task_mm) as *const u64).unwrap_or(0);
            if mm != 0 {
                let start: u64 = bpf_probe_read_kernel((mm + off.mm_arg_start) as *const u64).unwrap_or(0);
                let end: u64 = bpf_probe_read_kernel((mm + off.mm_arg_end) as *const u64).unwrap_or(0);
                let mut length = end.saturating_sub(start);
                if length > EXEC_TEXT_LEN as u64 {
                    length = EXEC_TEXT_LEN as u64;
                }
                if let Some(destination) = (*event).args.get_mut(..length as usize) {
                    if bpf_probe_read_user_buf(start as *const u8, destination).is_ok() {
                        (*event).args_len = length as u32;
                    }
                }
            }
        }
    }
    entry.submit(wakeup_flags(&CONN_EVENTS));
    count(counter::CONN_EVENTS);
    Ok(())
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
