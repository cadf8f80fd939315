//! Kubernetes metadata: which pod and workload a container ID or an IP address belongs to, and
//! which region and zone this node is in.
//!
//! - The node agent builds a [`PodIndex`]: it watches only the pods scheduled on its own node
//!   (field selector `spec.nodeName=<node>`) and answers "which pod runs container `<id>`"
//!   together with the node's `topology.kubernetes.io/region` and `zone` labels.
//! - The aggregator builds an [`IpIndex`]: it watches every pod and service of the cluster and
//!   answers "which workload owns address `<ip>`".
//!
//! Both use `kube::runtime::watcher`, which lists, then watches from the list's resource
//! version, resumes a closed watch from the last version or bookmark it saw, and lists again
//! when the server answers `410 Gone`. A relist replaces the whole index, so pods deleted while
//! the watch was down disappear too.
//!
//! Outside Kubernetes (no service account and no kubeconfig) the `from_environment`
//! constructors log once at info level and return an index on which every lookup is `None`:
//! the node agent and the aggregator keep running without pod attribution.
//!
//! ```no_run
//! # async fn example() {
//! use std::time::Duration;
//! use attribution::kubernetes::{IpIndex, PodIndex};
//!
//! // Node agent: NODE_NAME comes from the downward API (spec.nodeName).
//! let node_name = std::env::var("NODE_NAME").ok();
//! let pods = PodIndex::from_environment(node_name.as_deref()).await;
//! pods.wait_synced(Duration::from_secs(10)).await; // optional: lookups work before, returning None
//! let identity = attribution::read_proc_cgroup("/proc".as_ref(), 4242).unwrap_or_default();
//! if let Some(pod) = pods.lookup_cgroup(&identity) {
//!     println!("{} ({})", pod.workload_name(), pod.workload.kind);
//! }
//! let region = pods.node_topology().region;
//!
//! // Aggregator.
//! let ips = IpIndex::from_environment().await;
//! if let Some(workload) = ips.lookup("10.244.1.12".parse().unwrap()) {
//!     println!("{}", workload.workload_name()); // e.g. shop/checkout
//! }
//! # let _ = region;
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use kube::Client;

mod index;
mod ip_index;
mod owners;
mod pod_index;
mod pods;

pub use ip_index::{IpIndex, ServiceInfo, ServiceMatch};
pub use pod_index::{NodeTopology, PodIndex};

/// Node label holding the cloud region (set by cloud controller managers, or by hand).
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";
/// Node label holding the availability zone.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// Region label of clusters older than Kubernetes 1.17, still set by some providers.
pub const LEGACY_REGION_LABEL: &str = "failure-domain.beta.kubernetes.io/region";
/// Zone label of clusters older than Kubernetes 1.17.
pub const LEGACY_ZONE_LABEL: &str = "failure-domain.beta.kubernetes.io/zone";

/// Why a Kubernetes client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server URL given on the command line or in a test is not a valid URI.
    #[error("invalid kubernetes api url {url:?}: {source}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// The client could not be built from the configuration (TLS setup, proxy settings).
    #[error("cannot build a kubernetes client: {0}")]
    Client(#[source] kube::Error),
}

/// The workload a pod belongs to: the top of its chain of controllers.
///
/// A Deployment's pod (through its ReplicaSet) is the Deployment; a CronJob's pod (through its
/// Job) is the CronJob; StatefulSet and DaemonSet pods are their sets; a pod without a
/// controller is its own workload, of kind `Pod`. A service address that no single workload
/// backs is of kind `Service`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadRef {
    /// The namespace, shared by the pod and all its controllers.
    pub namespace: String,
    /// The controller's kind, as in `ownerReferences[].kind`: `Deployment`, `StatefulSet`,
    /// `DaemonSet`, `CronJob`, `Job`, `ReplicaSet`, `Pod`, `Service`, or a custom kind such as
    /// an Argo `Rollout`.
    pub kind: String,
    /// The controller's name.
    pub name: String,
}

impl WorkloadRef {
    /// `namespace/name`, e.g. `shop/checkout`: the name reports and filters show.
    pub fn workload_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One pod, reduced to what attribution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`, with dashes.
    pub uid: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// The workload the pod belongs to (the pod itself when it has no controller).
    pub workload: WorkloadRef,
    /// `spec.nodeName`; `None` while the pod is not scheduled.
    pub node: Option<String>,
    /// `status.podIPs`.
    pub ips: Vec<std::net::IpAddr>,
    /// `spec.hostNetwork`: the pod shares its node's addresses, so its IPs say nothing about it.
    pub host_network: bool,
    /// `metadata.creationTimestamp` in nanoseconds since the Unix epoch (whole seconds): the
    /// pod cannot have held its IPs before then, so a connection older than that went to an
    /// earlier holder of the address.
    pub created_unix_nano: Option<u64>,
    /// Container ID (64 hex digits, without the `containerd://` scheme) → container name, for
    /// regular, init and ephemeral containers.
    pub containers: BTreeMap<String, String>,
}

impl PodInfo {
    /// The workload's `namespace/name`, e.g. `shop/checkout`.
    pub fn workload_name(&self) -> String {
        self.workload.workload_name()
    }

    /// The name of the container with this ID, if it is one of this pod's.
    pub fn container_name(&self, container_id: &str) -> Option<&str> {
        self.containers.get(container_id).map(String::as_str)
    }
}

/// Builds a client the way `kubectl` finds its cluster: the pod's service account when running
/// in a pod, else `$KUBECONFIG` or `~/.kube/config`. Returns `None`, after logging once at info
/// level, when neither exists or the configuration cannot be used.
pub async fn client_from_environment() -> Option<Client> {
    let config = match kube::Config::infer().await {
        Ok(config) => config,
        Err(error) => {
            log_unavailable_once(&error.to_string());
            return None;
        }
    };
    match Client::try_from(config) {
        Ok(client) => Some(client),
        Err(error) => {
            log_unavailable_once(&error.to_string());
            None
        }
    }
}

/// Builds a client for an API server at an explicit URL, without credentials: for tests and
/// for `kubectl proxy` (`http://127.0.0.1:8001`).
pub fn client_from_url(url: &str) -> Result<Client, Error> {
    let uri = url.parse().map_err(|source| Error::InvalidUrl {
        url: url.to_owned(),
        source,
    })?;
    Client::try_from(kube::Config::new(uri)).map_err(Error::Client)
}

static UNAVAILABLE_LOGGED: AtomicBool = AtomicBool::new(false);

fn log_unavailable_once(reason: &str) {
    if !UNAVAILABLE_LOGGED.swap(true, Ordering::Relaxed) {
        tracing::info!(
            reason,
            "kubernetes api not available; pod and workload attribution is off"
        );
    }
}
