//! Peer names: the Kubernetes workload behind the remote address of each flow
//! and behind the server of each data access, resolved at ingest.
//!
//! A sensor knows the workload of its own processes only. The aggregator
//! watches every pod and Service of the cluster ([`attribution::IpIndex`]) and
//! names the other end when its address is a pod IP or a Service cluster IP,
//! so both ends of a flow carry a workload. The lookup happens when the batch
//! arrives, a fraction of a second after the flow: pod IPs are reused, and the
//! index forgets a pod as soon as the API server reports it deleted, so an
//! address resolves to the pod holding it now, not to an earlier one.
//!
//! Addresses that resolve to nothing (outside the cluster, host-network pods,
//! the index not synced yet) leave the record as it was. Every lookup is
//! counted, resolved or not, on `/metrics`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use attribution::IpIndex;
use proto::v1::{SensorBatch, Workload};

#[cfg(test)]
mod tests;

/// Where the aggregator finds the Kubernetes API.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KubernetesApi {
    /// No peer names.
    #[default]
    Off,
    /// The pod's service account in a cluster, else `$KUBECONFIG` or
    /// `~/.kube/config`, like `kubectl`; without either, no peer names.
    Environment,
    /// An API server at this URL, without credentials (`kubectl proxy`).
    Url(String),
}

/// Why peer naming could not start.
#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    /// The API server URL is not usable.
    #[error(transparent)]
    Kubernetes(#[from] attribution::kubernetes::Error),
}

/// Resolves remote addresses to workloads and counts the lookups.
#[derive(Debug)]
pub struct PeerNames {
    index: IpIndex,
    flows_resolved: AtomicU64,
    flows_unresolved: AtomicU64,
    accesses_resolved: AtomicU64,
    accesses_unresolved: AtomicU64,
}

impl PeerNames {
    /// Peer naming from `index`.
    pub fn new(index: IpIndex) -> Self {
        Self {
            index,
            flows_resolved: AtomicU64::new(0),
            flows_unresolved: AtomicU64::new(0),
            accesses_resolved: AtomicU64::new(0),
            accesses_unresolved: AtomicU64::new(0),
        }
    }

    /// No peer naming: batches pass unchanged and nothing is counted.
    pub fn disabled() -> Self {
        Self::new(IpIndex::disabled())
    }

    /// Starts watching pods and Services as `api` says. Must be called inside
    /// a tokio runtime.
    pub async fn start(api: &KubernetesApi) -> Result<Self, PeersError> {
        let index = match api {
            KubernetesApi::Off => IpIndex::disabled(),
            KubernetesApi::Environment => IpIndex::from_environment().await,
            KubernetesApi::Url(url) => IpIndex::from_url(url)?,
        };
        if index.is_enabled() {
            tracing::info!(
                "naming peers from the kubernetes api (pods and services, cluster-wide)"
            );
        }
        Ok(Self::new(index))
    }

    /// Whether an API server is watched at all.
    pub fn is_enabled(&self) -> bool {
        self.index.is_enabled()
    }

    /// Whether pods and Services have been listed once.
    pub fn is_synced(&self) -> bool {
        self.index.is_synced()
    }

    /// The workload behind `ip` now: the workload of the pod holding it, or
    /// for a Service cluster IP the one workload behind the Service (the
    /// Service itself, kind `Service`, when none or several are).
    pub fn lookup(&self, ip: IpAddr) -> Option<Workload> {
        if let Some(pod) = self.index.lookup_pod(ip) {
            return Some(Workload {
                namespace: pod.workload.namespace.clone(),
                name: pod.workload.name.clone(),
                kind: pod.workload.kind.clone(),
                pod_name: pod.name.clone(),
                service_name: String::new(),
            });
        }
        let found = self.index.lookup_service(ip)?;
        let service = found.service;
        Some(match found.backing_workload {
            Some(workload) => Workload {
                namespace: workload.namespace,
                name: workload.name,
                kind: workload.kind,
                pod_name: String::new(),
                service_name: service.name.clone(),
            },
            None => Workload {
                namespace: service.namespace.clone(),
                name: service.name.clone(),
                kind: "Service".to_owned(),
                pod_name: String::new(),
                service_name: service.name.clone(),
            },
        })
    }

    /// Names the remote end of every flow of `batch`, and the server of every
    /// data access without a server workload, where the address resolves.
    pub fn annotate(&self, batch: &mut SensorBatch) {
        if !self.index.is_enabled() {
            return;
        }
        // A batch holds few distinct peers; Service lookups walk the pods of
        // the Service's namespace, so each address is looked up once.
        let mut seen: HashMap<String, Option<Workload>> = HashMap::new();
        let mut resolve = |ip: &str| -> Option<Workload> {
            if let Some(known) = seen.get(ip) {
                return known.clone();
            }
            let workload = ip.parse().ok().and_then(|ip| self.lookup(ip));
            seen.insert(ip.to_owned(), workload.clone());
            workload
        };
        let (mut resolved, mut unresolved) = (0, 0);
        for flow in &mut batch.flows {
            let Some(remote) = flow.remote.as_ref().filter(|remote| !remote.ip.is_empty()) else {
                continue;
            };
            match resolve(&remote.ip) {
                Some(workload) => {
                    flow.remote_workload = Some(workload);
                    resolved += 1;
                }
                None => unresolved += 1,
            }
        }
        self.flows_resolved.fetch_add(resolved, Ordering::Relaxed);
        self.flows_unresolved
            .fetch_add(unresolved, Ordering::Relaxed);

        let (mut resolved, mut unresolved) = (0, 0);
        for access in &mut batch.accesses {
            if !access.server_workload.is_empty() {
                continue;
            }
            let Some(server) = access
                .server
                .as_ref()
                .filter(|server| !server.ip.is_empty())
            else {
                continue;
            };
            match resolve(&server.ip) {
                Some(workload) => {
                    access.server_workload = format!("{}/{}", workload.namespace, workload.name);
                    resolved += 1;
                }
                None => unresolved += 1,
            }
        }
        self.accesses_resolved
            .fetch_add(resolved, Ordering::Relaxed);
        self.accesses_unresolved
            .fetch_add(unresolved, Ordering::Relaxed);
    }

    /// Lookups so far for flows' remote ends: `(resolved, unresolved)`.
    pub fn flow_lookups(&self) -> (u64, u64) {
        (
            self.flows_resolved.load(Ordering::Relaxed),
            self.flows_unresolved.load(Ordering::Relaxed),
        )
    }

    /// Lookups so far for data accesses' servers: `(resolved, unresolved)`.
    pub fn access_lookups(&self) -> (u64, u64) {
        (
            self.accesses_resolved.load(Ordering::Relaxed),
            self.accesses_unresolved.load(Ordering::Relaxed),
        )
    }

    /// Appends the peer naming metrics in Prometheus text format.
    pub fn render_prometheus(&self, out: &mut String) {
        let name = "aggregator_peer_lookups_total";
        let _ = writeln!(
            out,
            "# HELP {name} Remote addresses looked up in the Kubernetes index at ingest, by record and result."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        let (flows_resolved, flows_unresolved) = self.flow_lookups();
        let (accesses_resolved, accesses_unresolved) = self.access_lookups();
        for (record, result, value) in [
            ("flow", "resolved", flows_resolved),
            ("flow", "unresolved", flows_unresolved),
            ("data_access", "resolved", accesses_resolved),
            ("data_access", "unresolved", accesses_unresolved),
        ] {
            let _ = writeln!(
                out,
                "{name}{{record=\"{record}\",result=\"{result}\"}} {value}"
            );
        }
        let name = "aggregator_kubernetes_synced";
        let _ = writeln!(
            out,
            "# HELP {name} 1 once pods and Services have been listed from the Kubernetes API, 0 before or without it."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {}", u8::from(self.is_synced()));
    }
}
