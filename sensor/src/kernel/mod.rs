//! The kernel side, seen from the node agent: checks what the kernel offers,
//! loads the embedded programs, attaches them, and hands out the ring buffer
//! and counters they write.
//!
//! Kernel requirements: BTF (`/sys/kernel/btf/vmlinux`, 5.4+), BPF ring
//! buffers (5.8+), the `sock:inet_sock_set_state` tracepoint (4.16+) and the
//! syscall tracepoints, tracefs. Root, or CAP_BPF + CAP_PERFMON (5.8+).

pub mod btf;
pub mod tracefs;

use aya::{
    Ebpf, EbpfLoader,
    maps::{MapData, PerCpuArray, RingBuf},
    programs::TracePoint,
};
use sensor_common::{CaptureConfig, KernelOffsets, MAX_CAPTURE, counter};

/// The compiled kernel programs, built by `build.rs`.
static PROGRAMS: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sensor-ebpf"));

/// Tracepoints of the connection lifecycle, as (category, name = program name).
pub const TRACEPOINTS: &[(&str, &str)] = &[
    ("sched", "sched_process_exec"),
    ("sock", "inet_sock_set_state"),
    ("syscalls", "sys_exit_accept4"),
    ("syscalls", "sys_exit_accept"),
];

/// Tracepoints of payload capture, attached only when it is enabled.
pub const PAYLOAD_TRACEPOINTS: &[(&str, &str)] = &[
    ("syscalls", "sys_enter_connect"),
    ("syscalls", "sys_exit_connect"),
    ("syscalls", "sys_enter_close"),
    ("task", "task_newtask"),
    ("syscalls", "sys_enter_write"),
    ("syscalls", "sys_enter_writev"),
    ("syscalls", "sys_enter_sendto"),
    ("syscalls", "sys_enter_sendmsg"),
];

/// Receives seen at syscall exit only, as (tracepoint, program): the
/// programs read the fd and buffer from the registers the syscall saved
/// (`bpf_task_pt_regs`, Linux 5.15+).
pub const RECEIVES_AT_EXIT: &[(&str, &str)] = &[
    ("sys_exit_read", "read_exit_only"),
    ("sys_exit_readv", "readv_exit_only"),
    ("sys_exit_recvfrom", "recvfrom_exit_only"),
    ("sys_exit_recvmsg", "recvmsg_exit_only"),
];

/// Receives on kernels without `bpf_task_pt_regs`: the entry program keeps
/// the arguments per thread for the exit program.
pub const RECEIVES_AT_ENTRY_AND_EXIT: &[(&str, &str)] = &[
    ("sched", "sched_process_exit"),
    ("syscalls", "sys_enter_read"),
    ("syscalls", "sys_exit_read"),
    ("syscalls", "sys_enter_readv"),
    ("syscalls", "sys_exit_readv"),
    ("syscalls", "sys_enter_recvfrom"),
    ("syscalls", "sys_exit_recvfrom"),
    ("syscalls", "sys_enter_recvmsg"),
    ("syscalls", "sys_exit_recvmsg"),
];

/// Everything that can stop the kernel side from starting, with what an
/// operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("this sensor binary was built without its kernel programs (AYA_BUILD_SKIP was set); rebuild it with `cargo xtask build`")]
    NoPrograms,
    #[error("loading eBPF programs needs root (or CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE); running as uid {0}")]
    NotPrivileged(u32),
    #[error(transparent)]
    Tracefs(#[from] tracefs::TracefsError),
    #[error("could not load the kernel programs: {0}")]
    Load(#[source] aya::EbpfError),
    #[error("program {name} is missing from the embedded object")]
    MissingProgram { name: &'static str },
    #[error("could not load program {name} (the verifier log follows): {source}")]
    Program {
        name: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("could not attach to tracepoint {category}:{name}: {source}; check that /sys/kernel/tracing/events/{category}/{name} exists")]
    Attach {
        category: &'static str,
        name: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("map {name} is missing or of the wrong type: {source}")]
    Map {
        name: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
}

/// Settings of the kernel side.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    /// Size of the connection event ring buffer, in bytes (a power of two
    /// multiple of the page size).
    pub ring_buffer_bytes: u32,
    /// How many live connections the kernel tracks at once.
    pub max_connections: u32,
    /// Bytes copied from each send and receive on captured connections
    /// (at most `sensor_common::MAX_CAPTURE`); zero turns payload capture off.
    pub capture_bytes: u32,
    /// Payloads copied from each new connection while its protocol is being
    /// recognised; zero copies only connections the kernel recognises itself
    /// (PostgreSQL and MySQL sessions, by their first bytes).
    pub probe_payloads: u32,
    /// Read a receive's arguments at syscall exit from the saved registers
    /// where the kernel allows it (5.15+), instead of keeping them from the
    /// entry.
    pub receives_at_exit: bool,
    /// Size of the payload ring buffer, in bytes.
    pub payload_ring_bytes: u32,
    /// Where the kernel's BTF is.
    pub btf_path: std::path::PathBuf,
    /// Where tracefs is, or should be mounted.
    pub tracefs_path: std::path::PathBuf,
}

impl Default for KernelConfig {
    fn default() -> Self {
        Self {
            ring_buffer_bytes: 4 << 20,
            max_connections: 65536,
            capture_bytes: 0,
            probe_payloads: 0,
            receives_at_exit: true,
            payload_ring_bytes: 16 << 20,
            btf_path: "/sys/kernel/btf/vmlinux".into(),
            tracefs_path: tracefs::DEFAULT_PATH.into(),
        }
    }
}

/// Loaded and attached programs. Dropping it detaches them.
pub struct Kernel {
    ebpf: Ebpf,
    /// Whether `OFFSETS` could be filled in; without it, accept() attribution
    /// and byte counts are off.
    pub offsets: Option<KernelOffsets>,
}

/// What the kernel counters say, summed over CPUs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelCounters {
    pub conn_events: u64,
    pub conn_events_lost: u64,
    pub socket_map_full: u64,
    pub accept_unresolved: u64,
    pub payloads: u64,
    pub payloads_lost: u64,
    pub payloads_truncated: u64,
    pub payload_bytes_skipped: u64,
    pub capture_map_full: u64,
    pub pending_map_full: u64,
    pub payload_read_failed: u64,
    pub payload_bytes_lost_at_close: u64,
    pub probe_bytes_lost_at_close: u64,
    pub sessions_recognised: u64,
    pub sessions_encrypted: u64,
}

/// Reads the programs' per-CPU counters.
pub struct CounterReader {
    map: PerCpuArray<MapData, u64>,
    /// (program name, kernel program id) of every attached program.
    programs: Vec<(String, u32)>,
}

/// Kernel CPU time of one program (counted while the
/// `kernel.bpf_stats_enabled` sysctl is 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramStats {
    pub name: String,
    pub run_time_ns: u64,
    pub runs: u64,
}

impl CounterReader {
    /// Run time and run count of each attached program.
    pub fn programs(&self) -> Vec<ProgramStats> {
        aya::programs::loaded_programs()
            .filter_map(Result::ok)
            .filter_map(|info| {
                let (name, _) = self.programs.iter().find(|(_, id)| *id == info.id())?;
                Some(ProgramStats { name: name.clone(), run_time_ns: info.run_time().as_nanos() as u64, runs: info.run_count() })
            })
            .collect()
    }

    pub fn read(&self) -> Result<KernelCounters, aya::maps::MapError> {
        let sum = |index| -> Result<u64, aya::maps::MapError> {
            Ok(self.map.get(&index, 0)?.iter().copied().fold(0u64, u64::wrapping_add))
        };
        Ok(KernelCounters {
            conn_events: sum(counter::CONN_EVENTS)?,
            conn_events_lost: sum(counter::CONN_EVENTS_LOST)?,
            socket_map_full: sum(counter::SOCKET_MAP_FULL)?,
            accept_unresolved: sum(counter::ACCEPT_UNRESOLVED)?,
            payloads: sum(counter::PAYLOADS)?,
            payloads_lost: sum(counter::PAYLOADS_LOST)?,
            payloads_truncated: sum(counter::PAYLOADS_TRUNCATED)?,
            payload_bytes_skipped: sum(counter::PAYLOAD_BYTES_SKIPPED)?,
            capture_map_full: sum(counter::CAPTURE_MAP_FULL)?,
            pending_map_full: sum(counter::PENDING_MAP_FULL)?,
            payload_read_failed: sum(counter::PAYLOAD_READ_FAILED)?,
            payload_bytes_lost_at_close: sum(counter::PAYLOAD_BYTES_LOST_AT_CLOSE)?,
            probe_bytes_lost_at_close: sum(counter::PROBE_BYTES_LOST_AT_CLOSE)?,
            sessions_recognised: sum(counter::SESSIONS_RECOGNISED)?,
            sessions_encrypted: sum(counter::SESSIONS_ENCRYPTED)?,
        })
    }
}

impl Kernel {
    /// Checks privileges and tracefs, resolves offsets, loads and attaches.
    pub fn load(config: &KernelConfig) -> Result<Self, KernelError> {
        if PROGRAMS.is_empty() {
            return Err(KernelError::NoPrograms);
        }
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        if uid != 0 && !has_bpf_capabilities() {
            return Err(KernelError::NotPrivileged(uid));
        }
        tracefs::ensure_mounted(&config.tracefs_path)?;
        raise_memlock_limit();

        let btf = std::fs::read(&config.btf_path)
            .map_err(|error| tracing::warn!(%error, path = %config.btf_path.display(), "cannot read the kernel's BTF: servers' processes and byte counts will be missing"))
            .ok();
        let parsed = btf.as_deref().and_then(|blob| {
            btf::Btf::parse(blob)
                .map_err(|error| tracing::warn!(%error, "cannot parse the kernel's BTF: servers' processes and byte counts will be missing"))
                .ok()
        });
        let offsets = parsed.as_ref().and_then(|parsed| {
            btf::kernel_offsets(parsed)
                .map_err(|error| tracing::warn!(%error, "kernel structure offsets unavailable: servers' processes and byte counts will be missing"))
                .ok()
        });
        let registers = parsed.as_ref().filter(|_| config.receives_at_exit).and_then(|parsed| {
            btf::syscall_argument_offsets(parsed)
                .map_err(|error| tracing::info!(%error, "syscall registers not found in the kernel's BTF: receives are followed from entry to exit"))
                .ok()
                .flatten()
        });
        let globals = offsets.unwrap_or_default();
        let (regs_fd, regs_buffer) = registers.unwrap_or_default();
        let capture = CaptureConfig {
            max_bytes: config.capture_bytes.min(MAX_CAPTURE as u32),
            probe_payloads: config.probe_payloads,
            regs_fd: regs_fd as u32,
            regs_buffer: regs_buffer as u32,
            wake_at: config.payload_ring_bytes / 8,
            _pad: 0,
        };
        let mut ebpf = EbpfLoader::new()
            .override_global("OFFSETS", &globals, true)
            .override_global("CAPTURE_CONFIG", &capture, true)
            .map_max_entries("CONN_EVENTS", config.ring_buffer_bytes)
            .map_max_entries("PAYLOAD_EVENTS", config.payload_ring_bytes)
            .map_max_entries("SOCKETS", config.max_connections)
            .map_max_entries("CAPTURE", config.max_connections)
            .load(PROGRAMS)
            .map_err(KernelError::Load)?;

        let mut attached = 0;
        let payloads: &[(&'static str, &'static str)] = if capture.max_bytes > 0 { PAYLOAD_TRACEPOINTS } else { &[] };
        for &(category, name) in TRACEPOINTS.iter().chain(payloads) {
            attach(&mut ebpf, category, name, name)?;
            attached += 1;
        }
        let mut receives_at_exit = false;
        if capture.max_bytes > 0 {
            receives_at_exit = capture.regs_fd != 0
                && RECEIVES_AT_EXIT.iter().all(|&(_, program)| {
                    load(&mut ebpf, program)
                        .map_err(|error| tracing::info!(%error, "receives are followed from entry to exit (bpf_task_pt_regs needs Linux 5.15)"))
                        .is_ok()
                });
            if receives_at_exit {
                for &(tracepoint, program) in RECEIVES_AT_EXIT {
                    attach(&mut ebpf, "syscalls", tracepoint, program)?;
                }
                attached += RECEIVES_AT_EXIT.len();
            } else {
                for &(category, name) in RECEIVES_AT_ENTRY_AND_EXIT {
                    attach(&mut ebpf, category, name, name)?;
                }
                attached += RECEIVES_AT_ENTRY_AND_EXIT.len();
            }
        }
        tracing::info!(
            tracepoints = attached,
            btf_offsets = offsets.is_some(),
            capture_bytes = capture.max_bytes,
            receives_at_exit,
            "kernel programs attached"
        );
        Ok(Self { ebpf, offsets })
    }

    /// Takes map `name` (each can be taken once) as the type `M` expects.
    fn take<M>(&mut self, name: &'static str) -> Result<M, KernelError>
    where
        M: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
    {
        let map = self.ebpf.take_map(name).ok_or(KernelError::Map {
            name,
            source: aya::maps::MapError::InvalidName { name: name.into() },
        })?;
        M::try_from(map).map_err(|source| KernelError::Map { name, source })
    }

    /// The connection event ring buffer.
    pub fn take_conn_events(&mut self) -> Result<RingBuf<MapData>, KernelError> {
        self.take("CONN_EVENTS")
    }

    /// The payload ring buffer.
    pub fn take_payload_events(&mut self) -> Result<RingBuf<MapData>, KernelError> {
        self.take("PAYLOAD_EVENTS")
    }

    /// The map of per-connection capture modes.
    pub fn take_capture_map(&mut self) -> Result<aya::maps::HashMap<MapData, u64, sensor_common::CaptureState>, KernelError> {
        self.take("CAPTURE")
    }

    /// The counters map, with the ids of the attached programs.
    pub fn take_counters(&mut self) -> Result<CounterReader, KernelError> {
        let map = self.take("COUNTERS")?;
        let programs = self
            .ebpf
            .programs()
            .filter_map(|(name, program)| Some((name.to_owned(), program.info().ok()?.id())))
            .collect();
        Ok(CounterReader { map, programs })
    }

    /// The kernel programs' own log (aya-log), if they were built with it.
    pub fn take_logger(&mut self) -> Option<aya_log::EbpfLogger<&'static dyn log::Log>> {
        match aya_log::EbpfLogger::init(&mut self.ebpf) {
            Ok(logger) => Some(logger),
            Err(error) => {
                tracing::debug!(%error, "kernel programs have no log map");
                None
            }
        }
    }
}

/// The tracepoint program `name`, loaded into the kernel.
fn load<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut TracePoint, KernelError> {
    let program: &mut TracePoint = ebpf
        .program_mut(name)
        .ok_or(KernelError::MissingProgram { name })?
        .try_into()
        .map_err(|source| KernelError::Program { name, source })?;
    if program.fd().is_err() {
        program.load().map_err(|source| KernelError::Program { name, source })?;
    }
    Ok(program)
}

/// Attaches program `name` to tracepoint `category:tracepoint`, loading it
/// first if needed.
fn attach(ebpf: &mut Ebpf, category: &'static str, tracepoint: &'static str, name: &'static str) -> Result<(), KernelError> {
    load(ebpf, name)?
        .attach(category, tracepoint)
        .map_err(|source| KernelError::Attach { category, name: tracepoint, source })?;
    Ok(())
}

/// True when the effective capability set has CAP_BPF (39) and CAP_PERFMON (38).
fn has_bpf_capabilities() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 39) != 0 && caps & (1 << 38) != 0)
}

/// Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK.
fn raise_memlock_limit() {
    let limit = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: plain syscall with a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) } != 0 {
        tracing::debug!("could not raise RLIMIT_MEMLOCK (fine on 5.11+)");
    }
}
