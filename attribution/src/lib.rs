//! Attribution: which workload a process or an address belongs to.
//!
//! - [`cgroup`] turns a process's cgroup path into a container ID, a pod UID or a systemd unit.
//! - [`kubernetes`] watches the Kubernetes API to turn container IDs and IP addresses into
//!   pods and workloads, and reads the node's region and zone.
#![forbid(unsafe_code)]

pub mod cgroup;
pub mod kubernetes;

pub use cgroup::{
    CgroupIdentity, QosClass, Runtime, parse_cgroup_path, parse_proc_cgroup, read_proc_cgroup,
};
pub use kubernetes::{IpIndex, NodeTopology, PodIndex, PodInfo, WorkloadRef};
