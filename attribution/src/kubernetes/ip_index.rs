//! The aggregator's view: which pod, service and workload an IP address belongs to.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

use super::index::{Synced, Tasks, log_watch_error, read, run_pod_watch, write};
use super::owners::OwnerResolver;
use super::pods::PodStore;
use super::{Error, PodInfo, WorkloadRef};

/// A Service with a virtual address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.clusterIPs` (or `spec.clusterIP` on servers that predate dual stack).
    pub cluster_ips: Vec<IpAddr>,
    /// `spec.selector`; empty for a service whose endpoints are managed by hand.
    pub selector: BTreeMap<String, String>,
}

impl ServiceInfo {
    /// `namespace/name`, e.g. `shop/payments`.
    pub fn service_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A service address, with the workload behind it when there is exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceMatch {
    /// The service.
    pub service: Arc<ServiceInfo>,
    /// The workload of every ready-to-serve pod the selector picks, when they all share one;
    /// `None` for no pods, pods of several workloads, or a service without a selector.
    pub backing_workload: Option<WorkloadRef>,
}

#[derive(Debug, Default)]
struct ServiceStore {
    services: HashMap<(String, String), Arc<ServiceInfo>>,
    by_ip: HashMap<IpAddr, (String, String)>,
}

impl ServiceStore {
    fn upsert(&mut self, service: ServiceInfo) {
        let key = (service.namespace.clone(), service.name.clone());
        self.remove(&key);
        for ip in &service.cluster_ips {
            self.by_ip.insert(*ip, key.clone());
        }
        self.services.insert(key, Arc::new(service));
    }

    fn remove(&mut self, key: &(String, String)) {
        if let Some(old) = self.services.remove(key) {
            for ip in &old.cluster_ips {
                if self.by_ip.get(ip) == Some(key) {
                    self.by_ip.remove(ip);
                }
            }
        }
    }

    fn by_ip(&self, ip: &IpAddr) -> Option<Arc<ServiceInfo>> {
        self.services.get(self.by_ip.get(ip)?).cloned()
    }
}

/// Every pod IP and service cluster IP of the cluster, resolved to workloads.
///
/// Pods on the host network are left out (their address is the node's), and so are finished
/// pods (their address may already belong to a new pod). Cheap to clone; the watches stop when
/// the last clone is dropped. Lookups return `None` before the first lists complete and when
/// Kubernetes is not available.
#[derive(Debug, Clone)]
pub struct IpIndex {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    pods: Arc<RwLock<PodStore>>,
    services: Arc<RwLock<ServiceStore>>,
    pods_synced: Arc<Synced>,
    services_synced: Arc<Synced>,
    enabled: bool,
    _tasks: Tasks,
}

impl IpIndex {
    /// Starts list+watch of all pods and services with `client`. Must be called inside a tokio
    /// runtime.
    pub fn new(client: Client) -> Self {
        let pods = Arc::new(RwLock::new(PodStore::default()));
        let services = Arc::new(RwLock::new(ServiceStore::default()));
        let pods_synced = Arc::new(Synced::default());
        let services_synced = Arc::new(Synced::default());
        let owners = Arc::new(OwnerResolver::new(client.clone()));
        let mut tasks = Tasks::default();
        tasks.spawn(run_pod_watch(
            Api::<Pod>::all(client.clone()),
            watcher::Config::default(),
            owners,
            Arc::clone(&pods),
            Arc::clone(&pods_synced),
            "cluster",
        ));
        tasks.spawn(run_service_watch(
            Api::<Service>::all(client),
            Arc::clone(&services),
            Arc::clone(&services_synced),
        ));
        Self {
            inner: Arc::new(Inner {
                pods,
                services,
                pods_synced,
                services_synced,
                enabled: true,
                _tasks: tasks,
            }),
        }
    }

    /// Connects to the API server at `url` without credentials (tests, `kubectl proxy`).
    pub fn from_url(url: &str) -> Result<Self, Error> {
        Ok(Self::new(super::client_from_url(url)?))
    }

    /// Connects the way `kubectl` would (service account in a pod, else kubeconfig); without a
    /// cluster, logs once at info level and returns a disabled index.
    pub async fn from_environment() -> Self {
        match super::client_from_environment().await {
            Some(client) => Self::new(client),
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

    /// The workload behind an address: a pod's workload for a pod IP; for a service IP the
    /// workload backing the service, or the service itself (kind `Service`) when no single
    /// workload backs it.
    pub fn lookup(&self, ip: IpAddr) -> Option<WorkloadRef> {
        if let Some(pod) = self.lookup_pod(ip) {
            return Some(pod.workload.clone());
        }
        let service = self.lookup_service(ip)?;
        Some(service.backing_workload.unwrap_or_else(|| WorkloadRef {
            namespace: service.service.namespace.clone(),
            kind: "Service".to_owned(),
            name: service.service.name.clone(),
        }))
    }

    /// The pod that holds this IP.
    pub fn lookup_pod(&self, ip: IpAddr) -> Option<Arc<PodInfo>> {
        read(&self.inner.pods).by_ip(&ip)
    }

    /// The service with this cluster IP, and the one workload behind it if there is one.
    pub fn lookup_service(&self, ip: IpAddr) -> Option<ServiceMatch> {
        let service = read(&self.inner.services).by_ip(&ip)?;
        let backing_workload = if service.selector.is_empty() {
            None
        } else {
            let pods = read(&self.inner.pods);
            let mut workloads = pods
                .serving_pods_in(&service.namespace)
                .filter(|pod| {
                    service
                        .selector
                        .iter()
                        .all(|(key, value)| pod.labels.get(key) == Some(value))
                })
                .map(|pod| &pod.workload);
            match workloads.next() {
                Some(first) if workloads.all(|other| other == first) => Some(first.clone()),
                _ => None,
            }
        };
        Some(ServiceMatch {
            service,
            backing_workload,
        })
    }

    /// True once pods and services were both listed; stays true across relists.
    pub fn is_synced(&self) -> bool {
        self.inner.pods_synced.is_set() && self.inner.services_synced.is_set()
    }

    /// Waits until [`is_synced`](Self::is_synced) or until `timeout`; returns whether synced.
    /// A disabled index never syncs.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        if !self.inner.enabled {
            return false;
        }
        let both = async {
            self.inner.pods_synced.wait().await;
            self.inner.services_synced.wait().await;
        };
        tokio::time::timeout(timeout, both).await.is_ok()
    }
}

fn service_info(service: &Service) -> Option<ServiceInfo> {
    let namespace = service.metadata.namespace.clone()?;
    let name = service.metadata.name.clone()?;
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let listed = spec.cluster_ips.clone().unwrap_or_default();
    let addresses = if listed.is_empty() {
        spec.cluster_ip.clone().into_iter().collect()
    } else {
        listed
    };
    // Headless services have `None` here: no virtual address, clients reach the pods directly.
    let cluster_ips: Vec<IpAddr> = addresses.iter().filter_map(|ip| ip.parse().ok()).collect();
    if cluster_ips.is_empty() {
        return None;
    }
    Some(ServiceInfo {
        namespace,
        name,
        cluster_ips,
        selector: spec.selector.clone().unwrap_or_default(),
    })
}

async fn run_service_watch(
    api: Api<Service>,
    store: Arc<RwLock<ServiceStore>>,
    synced: Arc<Synced>,
) {
    let mut events = pin!(watcher(api, watcher::Config::default()).default_backoff());
    let mut listing = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => listing.clear(),
            Ok(watcher::Event::InitApply(service)) => listing.extend(service_info(&service)),
            Ok(watcher::Event::InitDone) => {
                let mut fresh = ServiceStore::default();
                for service in std::mem::take(&mut listing) {
                    fresh.upsert(service);
                }
                let count = fresh.services.len();
                *write(&store) = fresh;
                if !synced.is_set() {
                    tracing::info!(services = count, "service index synced");
                }
                synced.mark();
            }
            Ok(watcher::Event::Apply(service)) => {
                let key = (
                    service.metadata.namespace.clone(),
                    service.metadata.name.clone(),
                );
                match service_info(&service) {
                    Some(info) => write(&store).upsert(info),
                    // Turned headless or ExternalName: it no longer has an address of its own.
                    None => {
                        if let (Some(namespace), Some(name)) = key {
                            write(&store).remove(&(namespace, name));
                        }
                    }
                }
            }
            Ok(watcher::Event::Delete(service)) => {
                if let (Some(namespace), Some(name)) =
                    (service.metadata.namespace, service.metadata.name)
                {
                    write(&store).remove(&(namespace, name));
                }
            }
            Err(error) => log_watch_error("cluster", "services", &error),
        }
    }
}
