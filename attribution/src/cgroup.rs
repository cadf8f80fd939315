//! Which container, pod or systemd unit a process belongs to, from its cgroup path.
//!
//! The kubelet and the container runtimes name cgroups after the pod UID and the container ID,
//! so a process's cgroup path (as read from `/proc/<pid>/cgroup`) is enough to attribute it
//! without asking any runtime socket. The layouts differ by runtime (containerd, CRI-O, Docker,
//! Podman), by cgroup driver (cgroupfs or systemd), by cgroup version (v1 controller lines or
//! the v2 `0::` line), and by nesting (kind and k3d run a whole node inside a container).
//!
//! Everything here is a pure function over text: it never panics and never does I/O, except
//! [`read_proc_cgroup`], a thin wrapper that reads the file and hands it to [`parse_proc_cgroup`].
//!
//! A reader in its own cgroup namespace (the default for Kubernetes pods on cgroup v2) sees
//! paths of other namespaces relative to its own root, such as
//! `/../../kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope`; `..` segments are
//! skipped, so the result is the same as from the host's namespace.

use std::fmt;
use std::io;
use std::path::Path;

#[cfg(test)]
mod tests;

/// The container engine that created a container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// containerd, directly (CRI plugin, nerdctl) or under Kubernetes.
    Containerd,
    /// CRI-O.
    CriO,
    /// Docker (also cri-dockerd under Kubernetes).
    Docker,
    /// Podman (libpod).
    Podman,
    /// A container ID was found but the layout does not say which engine made it
    /// (the cgroupfs driver names the container's cgroup after its bare ID).
    Unknown,
}

impl Runtime {
    /// A stable lowercase name, e.g. for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Kubernetes quality-of-service class of a pod, as encoded in its cgroup's parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QosClass {
    /// Requests equal limits for every container; the pod cgroup sits directly under `kubepods`.
    Guaranteed,
    /// Under `kubepods/burstable` or `kubepods-burstable.slice`.
    Burstable,
    /// Under `kubepods/besteffort` or `kubepods-besteffort.slice`.
    BestEffort,
}

impl QosClass {
    /// The name Kubernetes uses in `status.qosClass`.
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }
}

impl fmt::Display for QosClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a cgroup path says about the process in it. Every field is optional: a host process
/// has only a systemd unit, a container outside Kubernetes has no pod, and an unrecognised
/// layout yields the default (all `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CgroupIdentity {
    /// The engine of the innermost container; `None` when the process is in no container.
    pub runtime: Option<Runtime>,
    /// The innermost container's ID: 64 lowercase hex digits.
    pub container_id: Option<String>,
    /// The UID of the Kubernetes pod, with dashes (`8-4-4-4-12`); the systemd driver writes it
    /// with underscores, which are turned back into dashes here. Static pods use a 32-digit
    /// config hash instead of a UID; it is returned as written.
    pub pod_uid: Option<String>,
    /// The pod's QoS class; set only when `pod_uid` is.
    pub qos_class: Option<QosClass>,
    /// The innermost systemd unit (`nginx.service`, `session-2.scope`) of a process that is
    /// in no container; `None` for containers, whose scope unit only repeats the container ID.
    pub systemd_unit: Option<String>,
}

impl CgroupIdentity {
    /// True when the path was recognised as a container or a pod.
    pub fn is_containerised(&self) -> bool {
        self.container_id.is_some() || self.pod_uid.is_some()
    }

    /// How much the identity tells, used to pick the best line of a `/proc/<pid>/cgroup` file.
    fn richness(&self) -> u8 {
        u8::from(self.container_id.is_some()) * 4
            + u8::from(self.pod_uid.is_some()) * 2
            + u8::from(self.systemd_unit.is_some())
    }
}

/// Parses one cgroup path, such as the part after the second `:` of a `/proc/<pid>/cgroup`
/// line. Unknown layouts give an identity with every field `None`.
pub fn parse_cgroup_path(path: &str) -> CgroupIdentity {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != "." && *segment != "..")
        .collect();

    let mut container: Option<(usize, Runtime, String)> = None;
    let mut pod: Option<(usize, String)> = None;
    for (index, segment) in segments.iter().enumerate().rev() {
        if container.is_none() {
            let parent = index.checked_sub(1).and_then(|i| segments.get(i)).copied();
            if let Some((runtime, id)) = container_in_segment(segment, parent) {
                container = Some((index, runtime, id));
            }
        }
        if pod.is_none()
            && let Some(uid) = pod_uid_in_segment(segment)
        {
            pod = Some((index, uid));
        }
        if container.is_some() && pod.is_some() {
            break;
        }
    }

    let mut identity = CgroupIdentity::default();
    match (container, pod) {
        // A pod cgroup nested inside a container (a kind or k3d node seen from the host) with
        // the process directly in the pod cgroup: the outer container is the node, not the
        // process's container.
        (Some((container_index, _, _)), Some((pod_index, uid))) if pod_index > container_index => {
            identity.pod_uid = Some(uid);
            identity.qos_class = Some(qos_class(&segments[..=pod_index]));
        }
        (container, pod) => {
            if let Some((_, runtime, id)) = container {
                identity.runtime = Some(runtime);
                identity.container_id = Some(id);
            }
            if let Some((pod_index, uid)) = pod {
                identity.pod_uid = Some(uid);
                identity.qos_class = Some(qos_class(&segments[..=pod_index]));
            }
        }
    }
    if !identity.is_containerised() {
        identity.systemd_unit = segments
            .iter()
            .rev()
            .find(|segment| is_systemd_unit(segment))
            .map(|segment| (*segment).to_owned());
    }
    identity
}

/// Parses the content of a `/proc/<pid>/cgroup` file: cgroup v2 (`0::/path`), v1
/// (`4:memory:/path`, `1:name=systemd:/path`) or a hybrid of both. Every line is parsed and
/// the one that says the most wins (a container beats a pod, a pod beats a systemd unit);
/// on a tie the unified (v2) line wins, then the first line.
pub fn parse_proc_cgroup(content: &str) -> CgroupIdentity {
    let mut best: Option<(CgroupIdentity, bool)> = None;
    for line in content.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_hierarchy), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let unified = controllers.is_empty();
        let identity = parse_cgroup_path(path.trim_end());
        let better = match &best {
            None => true,
            Some((current, current_unified)) => {
                identity.richness() > current.richness()
                    || (identity.richness() == current.richness() && unified && !current_unified)
            }
        };
        if better {
            best = Some((identity, unified));
        }
    }
    best.map(|(identity, _)| identity).unwrap_or_default()
}

/// Reads `<proc_root>/<pid>/cgroup` and parses it. `proc_root` is `/proc`, or the host's
/// `/proc` mounted elsewhere (e.g. `/host/proc`) when the reader runs in a container.
pub fn read_proc_cgroup(proc_root: &Path, pid: u32) -> io::Result<CgroupIdentity> {
    let content = std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup"))?;
    Ok(parse_proc_cgroup(&content))
}

/// Prefixes of the scope (systemd driver) or directory (cgroupfs driver) that a runtime gives
/// a container's cgroup. Longer prefixes first where one is a prefix of another.
const CONTAINER_PREFIXES: &[(&str, Runtime)] = &[
    ("cri-containerd-", Runtime::Containerd),
    ("nerdctl-", Runtime::Containerd),
    ("crio-", Runtime::CriO),
    ("docker-", Runtime::Docker),
    ("libpod-", Runtime::Podman),
];

/// The monitor processes that CRI-O and Podman run beside a container get a scope of their
/// own with the container's ID; they are not inside the container.
const MONITOR_PREFIXES: &[&str] = &["crio-conmon-", "libpod-conmon-"];

/// The runtime name in the `<slice>:<runtime>:<id>` form that containerd and CRI-O use for
/// cgroup v1 with the systemd driver when they are not the parent of the slice.
const COLON_RUNTIMES: &[(&str, Runtime)] = &[
    ("cri-containerd", Runtime::Containerd),
    ("crio", Runtime::CriO),
    ("docker", Runtime::Docker),
    ("libpod", Runtime::Podman),
];

fn container_in_segment(segment: &str, parent: Option<&str>) -> Option<(Runtime, String)> {
    if is_container_id(segment) {
        let runtime = match parent {
            Some("docker") => Runtime::Docker,
            Some("libpod_parent") => Runtime::Podman,
            _ => Runtime::Unknown,
        };
        return Some((runtime, segment.to_owned()));
    }

    let colon_fields: Vec<&str> = segment.split(':').collect();
    if let [_slice, runtime_name, id] = colon_fields.as_slice() {
        let runtime = COLON_RUNTIMES
            .iter()
            .find(|(name, _)| name == runtime_name)
            .map(|(_, runtime)| *runtime)?;
        return is_container_id(id).then(|| (runtime, (*id).to_owned()));
    }

    if MONITOR_PREFIXES
        .iter()
        .any(|prefix| segment.starts_with(prefix))
    {
        return None;
    }
    let name = segment.strip_suffix(".scope").unwrap_or(segment);
    CONTAINER_PREFIXES.iter().find_map(|(prefix, runtime)| {
        let id = name.strip_prefix(prefix)?;
        is_container_id(id).then(|| (*runtime, id.to_owned()))
    })
}

fn pod_uid_in_segment(segment: &str) -> Option<String> {
    // In the `<slice>:<runtime>:<id>` form the pod slice is the first field.
    let segment = segment.split(':').next().unwrap_or(segment);
    // cgroupfs driver: `pod<uid>`.
    if let Some(uid) = segment.strip_prefix("pod") {
        return normalise_pod_uid(uid);
    }
    // systemd driver: `kubepods-pod<uid>.slice`, `kubepods-burstable-pod<uid>.slice`, and with
    // a cgroup root such as kind's `/kubelet`: `kubelet-kubepods-besteffort-pod<uid>.slice`.
    let name = segment.strip_suffix(".slice")?;
    if !name.contains("kubepods") {
        return None;
    }
    let (_, uid) = name.rsplit_once("-pod")?;
    normalise_pod_uid(uid)
}

/// Accepts a UID as `8-4-4-4-12` hex with dashes or underscores, or a 32-digit hex static pod
/// hash; returns it with dashes.
fn normalise_pod_uid(raw: &str) -> Option<String> {
    if raw.len() == 32 && raw.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Some(raw.to_ascii_lowercase());
    }
    if raw.len() != 36 {
        return None;
    }
    let mut uid = String::with_capacity(36);
    for (position, character) in raw.chars().enumerate() {
        let separator = matches!(position, 8 | 13 | 18 | 23);
        match character {
            '-' | '_' if separator => uid.push('-'),
            c if !separator && c.is_ascii_hexdigit() => uid.push(c.to_ascii_lowercase()),
            _ => return None,
        }
    }
    Some(uid)
}

fn is_container_id(candidate: &str) -> bool {
    candidate.len() == 64
        && candidate
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

fn qos_class(segments_to_pod: &[&str]) -> QosClass {
    // Only the ancestors of the pod cgroup count; look at the nearest `kubepods` level.
    let ancestors = segments_to_pod
        .split_last()
        .map(|(_, rest)| rest)
        .unwrap_or(&[]);
    for segment in ancestors.iter().rev() {
        if *segment == "besteffort" || segment.ends_with("kubepods-besteffort.slice") {
            return QosClass::BestEffort;
        }
        if *segment == "burstable" || segment.ends_with("kubepods-burstable.slice") {
            return QosClass::Burstable;
        }
        if *segment == "kubepods" || segment.ends_with("kubepods.slice") {
            break;
        }
    }
    // The systemd driver also repeats the class in the pod slice's own name.
    match segments_to_pod.last() {
        Some(pod) if pod.contains("-besteffort-pod") => QosClass::BestEffort,
        Some(pod) if pod.contains("-burstable-pod") => QosClass::Burstable,
        _ => QosClass::Guaranteed,
    }
}

fn is_systemd_unit(segment: &str) -> bool {
    [".service", ".scope"]
        .iter()
        .any(|suffix| segment.len() > suffix.len() && segment.ends_with(suffix))
}
