//! Process identity from `/proc`: executable, command line, cgroup, container
//! and systemd unit, cached per process so each is read once while it lives.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use attribution::{
    PodIndex,
    cgroup::{CgroupIdentity, parse_proc_cgroup},
};

/// What the sensor knows about a process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub executable: String,
    pub command_line: String,
    pub cgroup_path: String,
    pub container_id: String,
    pub systemd_unit: String,
    /// The name flows are grouped by: the Kubernetes workload
    /// (`namespace/name`), else the container, systemd service or
    /// executable.
    pub workload: String,
    pub pod_namespace: String,
    pub pod_name: String,
    pub container_name: String,
}

/// Longest command line kept, in bytes: enough to tell processes apart
/// without shipping pages of arguments.
const MAX_COMMAND_LINE: usize = 512;

/// Bounded cache of process identities keyed by pid and command name (the
/// command name guards against pid reuse).
pub struct ProcessCache {
    proc_root: PathBuf,
    pods: PodIndex,
    /// What each recent `execve()` ran, by pid (bounded like `entries`).
    execs: HashMap<u32, crate::decode::Exec>,
    entries: HashMap<(u32, [u8; 16]), Arc<ProcessIdentity>>,
    capacity: usize,
}

impl ProcessCache {
    pub fn new(proc_root: impl Into<PathBuf>, capacity: usize) -> Self {
        Self::with_pods(proc_root, capacity, PodIndex::disabled())
    }

    /// A cache that also names the Kubernetes pod and workload of
    /// containerised processes.
    pub fn with_pods(proc_root: impl Into<PathBuf>, capacity: usize, pods: PodIndex) -> Self {
        Self { proc_root: proc_root.into(), pods, execs: HashMap::new(), entries: HashMap::new(), capacity: capacity.max(1) }
    }

    /// A process executed a new program: forget what was cached for its pid
    /// and remember the exec for when `/proc` no longer has it.
    pub fn note_exec(&mut self, exec: crate::decode::Exec) {
        if self.execs.len() >= self.capacity {
            self.execs.clear();
        }
        self.forget(exec.pid);
        self.execs.insert(exec.pid, exec);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The identity of `pid`, read from `/proc` on first sight. A process
    /// that is already gone yields what the kernel event told (its command).
    pub fn lookup(&mut self, pid: u32, comm: &[u8; 16]) -> Arc<ProcessIdentity> {
        if let Some(found) = self.entries.get(&(pid, *comm)) {
            return Arc::clone(found);
        }
        if self.entries.len() >= self.capacity {
            // Cheap bounded eviction: forget everything; live processes are
            // read again on their next connection.
            self.entries.clear();
        }
        let (mut identity, complete) = read_identity(&self.proc_root, &self.pods, pid, &command_name(comm));
        if identity.executable.is_empty()
            && let Some(exec) = self.execs.get(&pid)
        {
            // The process is gone; its exec, seen by the kernel, still names it.
            identity.executable = exec.filename.clone();
            identity.command_line = exec.command_line.clone();
            if identity.workload == command_name(comm) {
                identity.workload = workload_name(&CgroupIdentity::default(), &exec.filename, &identity.workload);
            }
        }
        let identity = Arc::new(identity);
        // A container whose pod the index has not seen yet (it is still
        // syncing) is looked up again next time rather than cached unnamed.
        if complete {
            self.entries.insert((pid, *comm), Arc::clone(&identity));
        }
        identity
    }

    /// Forgets a process (e.g. when its pid is known to be reused).
    pub fn forget(&mut self, pid: u32) {
        self.entries.retain(|(cached, _), _| *cached != pid);
    }
}

/// The kernel's command name as a string (NUL-padded, at most 15 bytes).
pub fn command_name(comm: &[u8; 16]) -> String {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    String::from_utf8_lossy(&comm[..end]).into_owned()
}

/// The identity, and whether it is as complete as it will get.
fn read_identity(proc_root: &Path, pods: &PodIndex, pid: u32, command: &str) -> (ProcessIdentity, bool) {
    if pid == 0 {
        return (ProcessIdentity::default(), true);
    }
    let dir = proc_root.join(pid.to_string());
    let executable = std::fs::read_link(dir.join("exe"))
        .map(|path| path.to_string_lossy().trim_end_matches(" (deleted)").to_owned())
        .unwrap_or_default();
    let command_line = std::fs::read(dir.join("cmdline"))
        .map(|raw| command_line(&raw))
        .unwrap_or_default();
    let cgroup_content = std::fs::read_to_string(dir.join("cgroup")).unwrap_or_default();
    let cgroup = parse_proc_cgroup(&cgroup_content);
    let cgroup_path = unified_cgroup_path(&cgroup_content).unwrap_or_default();
    let pod = if pods.is_enabled() && cgroup.is_containerised() { pods.lookup_cgroup(&cgroup) } else { None };
    let complete = !(pods.is_enabled() && cgroup.is_containerised() && pod.is_none());
    let workload = match &pod {
        Some(pod) => pod.workload_name(),
        None => workload_name(&cgroup, &executable, command),
    };
    let container_id = cgroup.container_id.unwrap_or_default();
    let identity = ProcessIdentity {
        executable,
        command_line,
        cgroup_path,
        systemd_unit: cgroup.systemd_unit.unwrap_or_default(),
        workload,
        pod_namespace: pod.as_ref().map(|p| p.namespace.clone()).unwrap_or_default(),
        pod_name: pod.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        container_name: pod
            .as_ref()
            .and_then(|p| p.container_name(&container_id).map(str::to_owned))
            .unwrap_or_default(),
        container_id,
    };
    (identity, complete)
}

/// NUL-separated arguments → one line, bounded.
fn command_line(raw: &[u8]) -> String {
    let mut line: String = String::from_utf8_lossy(raw)
        .split('\0')
        .filter(|arg| !arg.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.len() > MAX_COMMAND_LINE {
        let mut cut = MAX_COMMAND_LINE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

/// The cgroup v2 path (`0::/path`), else the first v1 path.
fn unified_cgroup_path(content: &str) -> Option<String> {
    let paths = content.lines().filter_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        Some((controllers.is_empty(), path))
    });
    let mut first = None;
    for (unified, path) in paths {
        if unified {
            return Some(path.to_owned());
        }
        first.get_or_insert_with(|| path.to_owned());
    }
    first
}

/// Container beats service beats executable: the most stable name a person
/// would recognise.
fn workload_name(cgroup: &CgroupIdentity, executable: &str, command: &str) -> String {
    if let Some(id) = &cgroup.container_id {
        return format!("container/{}", id.get(..12).unwrap_or(id));
    }
    if let Some(unit) = &cgroup.systemd_unit
        && let Some(service) = unit.strip_suffix(".service")
    {
        return service.to_owned();
    }
    match Path::new(executable).file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => command.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn comm(name: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..name.len()].copy_from_slice(name.as_bytes());
        out
    }

    #[test]
    fn reads_this_process() {
        let mut cache = ProcessCache::new("/proc", 8);
        let me = std::process::id();
        let identity = cache.lookup(me, &comm("x"));
        let exe = std::env::current_exe().unwrap();
        assert_eq!(identity.executable, exe.to_string_lossy());
        assert!(identity.command_line.contains(exe.file_name().unwrap().to_str().unwrap()));
        assert!(!identity.workload.is_empty());
        assert_eq!(cache.len(), 1);
        // Cached: the same Arc comes back.
        assert!(Arc::ptr_eq(&identity, &cache.lookup(me, &comm("x"))));
    }

    #[test]
    fn gone_process_falls_back_to_command() {
        let mut cache = ProcessCache::new("/nonexistent-proc", 8);
        let identity = cache.lookup(4_000_000, &comm("psql"));
        assert_eq!(identity.workload, "psql");
        assert_eq!(identity.executable, "");
    }

    #[test]
    fn exec_names_a_process_gone_from_proc() {
        let mut cache = ProcessCache::new("/nonexistent-proc", 8);
        cache.note_exec(crate::decode::Exec {
            pid: 4_000_001,
            filename: "/usr/bin/psql".into(),
            command_line: "psql -c select".into(),
        });
        let identity = cache.lookup(4_000_001, &comm("psql"));
        assert_eq!(identity.executable, "/usr/bin/psql");
        assert_eq!(identity.command_line, "psql -c select");
        assert_eq!(identity.workload, "psql");
    }

    #[test]
    fn cache_is_bounded() {
        let mut cache = ProcessCache::new("/nonexistent-proc", 4);
        for pid in 1..100 {
            cache.lookup(pid, &comm("a"));
            assert!(cache.len() <= 4);
        }
    }

    #[test]
    fn workload_prefers_container_then_service_then_executable() {
        let container = parse_proc_cgroup(
            "0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n",
        );
        assert_eq!(workload_name(&container, "/usr/bin/app", "app"), "container/0123456789ab");
        let service = parse_proc_cgroup("0::/system.slice/postgresql.service\n");
        assert_eq!(workload_name(&service, "/usr/lib/postgresql/15/bin/postgres", "postgres"), "postgresql");
        let session = parse_proc_cgroup("0::/user.slice/user-0.slice/session-2.scope\n");
        assert_eq!(workload_name(&session, "/usr/bin/psql", "psql"), "psql");
    }

    #[test]
    fn command_line_is_joined_and_bounded() {
        assert_eq!(command_line(b"psql\0-h\0localhost\0"), "psql -h localhost");
        let long = vec![b'a'; 2000];
        let line = command_line(&long);
        assert!(line.len() <= MAX_COMMAND_LINE + '…'.len_utf8());
    }

    #[test]
    fn unified_path_preferred() {
        assert_eq!(unified_cgroup_path("1:name=systemd:/a\n0::/b\n").as_deref(), Some("/b"));
        assert_eq!(unified_cgroup_path("4:memory:/a\n").as_deref(), Some("/a"));
        assert_eq!(unified_cgroup_path("garbage").as_deref(), None);
    }
}
