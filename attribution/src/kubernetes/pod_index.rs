//! The node agent's view: pods on this node by container ID and pod UID, and this node's region.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::watcher;
use kube::{Api, Client};

use super::index::{Synced, Tasks, read, run_pod_watch, write};
use super::owners::OwnerResolver;
use super::pods::PodStore;
use super::{Error, LEGACY_REGION_LABEL, LEGACY_ZONE_LABEL, PodInfo, REGION_LABEL, ZONE_LABEL};
use crate::cgroup::CgroupIdentity;

/// How often the node's labels are read again: regions do not move, but a node may be labelled
/// after the agent started.
const NODE_REFRESH: Duration = Duration::from_secs(300);
/// Retry delays for reading the node, doubling up to the last.
const NODE_RETRY_FIRST: Duration = Duration::from_secs(1);
const NODE_RETRY_MAX: Duration = Duration::from_secs(60);

/// Where this node runs, from its topology labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeTopology {
    /// The node's name.
    pub node: Option<String>,
    /// `topology.kubernetes.io/region` (or the pre-1.17 `failure-domain.beta.kubernetes.io/region`).
    pub region: Option<String>,
    /// `topology.kubernetes.io/zone` (or the pre-1.17 `failure-domain.beta.kubernetes.io/zone`).
    pub zone: Option<String>,
}

/// Pods scheduled on one node, found by container ID or pod UID, and that node's topology.
///
/// Cheap to clone; the watch stops when the last clone is dropped. Lookups never block on the
/// network: they read what the watch has gathered so far, and return `None` before the first
/// list completes and when Kubernetes is not available.
#[derive(Debug, Clone)]
pub struct PodIndex {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    pods: Arc<RwLock<PodStore>>,
    topology: Arc<RwLock<NodeTopology>>,
    pods_synced: Arc<Synced>,
    node_synced: Arc<Synced>,
    enabled: bool,
    _tasks: Tasks,
}

impl PodIndex {
    /// Starts watching the pods of `node_name` and reading its labels with `client`.
    /// Must be called inside a tokio runtime.
    pub fn new(client: Client, node_name: &str) -> Self {
        let pods = Arc::new(RwLock::new(PodStore::default()));
        let topology = Arc::new(RwLock::new(NodeTopology {
            node: Some(node_name.to_owned()),
            ..Default::default()
        }));
        let pods_synced = Arc::new(Synced::default());
        let node_synced = Arc::new(Synced::default());
        let owners = Arc::new(OwnerResolver::new(client.clone()));
        let mut tasks = Tasks::default();

        let config = watcher::Config::default().fields(&format!("spec.nodeName={node_name}"));
        tasks.spawn(run_pod_watch(
            Api::<Pod>::all(client.clone()),
            config,
            owners,
            Arc::clone(&pods),
            Arc::clone(&pods_synced),
            "node",
        ));
        tasks.spawn(run_node_refresh(
            Api::<Node>::all(client),
            node_name.to_owned(),
            Arc::clone(&topology),
            Arc::clone(&node_synced),
        ));
        Self {
            inner: Arc::new(Inner {
                pods,
                topology,
                pods_synced,
                node_synced,
                enabled: true,
                _tasks: tasks,
            }),
        }
    }

    /// Connects to the API server at `url` without credentials (tests, `kubectl proxy`).
    pub fn from_url(url: &str, node_name: &str) -> Result<Self, Error> {
        Ok(Self::new(super::client_from_url(url)?, node_name))
    }

    /// Connects the way `kubectl` would (service account in a pod, else kubeconfig). Without a
    /// cluster or without a node name, logs once at info level and returns a disabled index.
    pub async fn from_environment(node_name: Option<&str>) -> Self {
        let Some(node_name) = node_name.filter(|name| !name.is_empty()) else {
            tracing::info!("node name unknown (set NODE_NAME); pod attribution is off");
            return Self::disabled();
        };
        match super::client_from_environment().await {
            Some(client) => Self::new(client, node_name),
            None => Self::disabled(),
        }
    }

    /// An index on which every lookup is `None`.
    pub fn disabled() -> Self {
        Self {
            inner: Arc::new(Inner::default()),
        }
    }

    /// Whether this index talks to an API server at all.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled
    }

    /// The pod running the container with this ID (64 hex digits, no `containerd://` scheme).
    pub fn lookup_container(&self, container_id: &str) -> Option<Arc<PodInfo>> {
        read(&self.inner.pods).by_container(container_id)
    }

    /// The pod with this UID (or, for a static pod, its config hash as found in its cgroup).
    pub fn lookup_pod_uid(&self, uid: &str) -> Option<Arc<PodInfo>> {
        read(&self.inner.pods).by_uid(uid)
    }

    /// The pod of a process from its cgroup: by container ID, else by pod UID (a process in the
    /// pod's cgroup but in no container, or a container the API does not list yet).
    pub fn lookup_cgroup(&self, identity: &CgroupIdentity) -> Option<Arc<PodInfo>> {
        let pods = read(&self.inner.pods);
        identity
            .container_id
            .as_deref()
            .and_then(|id| pods.by_container(id))
            .or_else(|| identity.pod_uid.as_deref().and_then(|uid| pods.by_uid(uid)))
    }

    /// This node's name, region and zone as last read; all `None` while unknown.
    pub fn node_topology(&self) -> NodeTopology {
        read(&self.inner.topology).clone()
    }

    /// How many pods the index holds.
    pub fn pod_count(&self) -> usize {
        read(&self.inner.pods).len()
    }

    /// True once the pods were listed and the node was read; stays true across relists.
    pub fn is_synced(&self) -> bool {
        self.inner.pods_synced.is_set() && self.inner.node_synced.is_set()
    }

    /// Waits until [`is_synced`](Self::is_synced) or until `timeout`; returns whether synced.
    /// A disabled index never syncs.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        if !self.inner.enabled {
            return false;
        }
        let both = async {
            self.inner.pods_synced.wait().await;
            self.inner.node_synced.wait().await;
        };
        tokio::time::timeout(timeout, both).await.is_ok()
    }
}

async fn run_node_refresh(
    api: Api<Node>,
    node_name: String,
    topology: Arc<RwLock<NodeTopology>>,
    synced: Arc<Synced>,
) {
    let mut retry = NODE_RETRY_FIRST;
    loop {
        match api.get(&node_name).await {
            Ok(node) => {
                let labels = node.metadata.labels.unwrap_or_default();
                let label = |current: &str, legacy: &str| {
                    labels.get(current).or_else(|| labels.get(legacy)).cloned()
                };
                let read_topology = NodeTopology {
                    node: Some(node_name.clone()),
                    region: label(REGION_LABEL, LEGACY_REGION_LABEL),
                    zone: label(ZONE_LABEL, LEGACY_ZONE_LABEL),
                };
                let changed = {
                    let mut current = write(&topology);
                    let changed = *current != read_topology;
                    *current = read_topology.clone();
                    changed
                };
                if changed || !synced.is_set() {
                    tracing::info!(
                        node = %node_name,
                        region = read_topology.region.as_deref().unwrap_or(""),
                        zone = read_topology.zone.as_deref().unwrap_or(""),
                        "node topology read"
                    );
                }
                synced.mark();
                retry = NODE_RETRY_FIRST;
                tokio::time::sleep(NODE_REFRESH).await;
            }
            Err(error) => {
                tracing::warn!(node = %node_name, %error, retry_in_seconds = retry.as_secs(), "cannot read node labels");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(NODE_RETRY_MAX);
            }
        }
    }
}
