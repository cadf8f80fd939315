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
//! A connection opened before the pod now holding its address was created
//! went to an earlier holder (a sensor that buffered flows while the
//! aggregator was away delivers them late): such a flow is left unnamed
//! rather than named after the wrong pod.
//!
//! Addresses that resolve to nothing (outside the cluster, host-network pods,
//! the index not synced yet) leave the record as it was. Every lookup is
//! counted, by result, on `/metrics`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

/// Pod creation times have whole seconds and node clocks drift: a flow up to
/// this much older than its peer pod is still taken to be that pod's.
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(2);

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupResult {
    /// The address named a workload.
    Resolved,
    /// No pod or Service holds the address.
    Unresolved,
    /// The pod holding the address now was created after the connection
    /// opened: the connection went to an earlier holder.
    EarlierHolder,
}

impl LookupResult {
    const ALL: [LookupResult; 3] = [Self::Resolved, Self::Unresolved, Self::EarlierHolder];

    fn label(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Unresolved => "unresolved",
            Self::EarlierHolder => "earlier_holder",
        }
    }
}

/// Lookup counts of one kind of record, by result.
#[derive(Debug, Default)]
struct Counts([AtomicU64; LookupResult::ALL.len()]);

impl Counts {
    fn add(&self, result: LookupResult, count: u64) {
        self.0[result as usize].fetch_add(count, Ordering::Relaxed);
    }

    fn get(&self, result: LookupResult) -> u64 {
        self.0[result as usize].load(Ordering::Relaxed)
    }
}

/// A workload behind an address, and since when it holds the address when
/// that is known (a pod's creation time).
#[derive(Clone, Debug)]
struct Holder {
    workload: Workload,
    since_unix_nano: Option<u64>,
}

impl Holder {
    /// The workload, when it held the address at `time_unix_nano` (zero:
    /// unknown time, taken as now).
    fn at(&self, time_unix_nano: u64) -> Result<&Workload, LookupResult> {
        let tolerance = CLOCK_TOLERANCE.as_nanos() as u64;
        match self.since_unix_nano {
            Some(since) if time_unix_nano != 0 && time_unix_nano.saturating_add(tolerance) < since => {
                Err(LookupResult::EarlierHolder)
            }
            _ => Ok(&self.workload),
        }
    }
}

/// Resolves remote addresses to workloads and counts the lookups.
#[derive(Debug)]
pub struct PeerNames {
    index: IpIndex,
    flows: Counts,
    accesses: Counts,
}

impl PeerNames {
    /// Peer naming from `index`.
    pub fn new(index: IpIndex) -> Self {
        Self { index, flows: Counts::default(), accesses: Counts::default() }
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
            tracing::info!("naming peers from the kubernetes api (pods and services, cluster-wide)");
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
        self.holder(ip).map(|holder| holder.workload)
    }

    fn holder(&self, ip: IpAddr) -> Option<Holder> {
        if let Some(pod) = self.index.lookup_pod(ip) {
            return Some(Holder {
                workload: Workload {
                    namespace: pod.workload.namespace.clone(),
                    name: pod.workload.name.clone(),
                    kind: pod.workload.kind.clone(),
                    pod_name: pod.name.clone(),
                    service_name: String::new(),
                },
                since_unix_nano: pod.created_unix_nano,
            });
        }
        let found = self.index.lookup_service(ip)?;
        let service = found.service;
        let workload = match found.backing_workload {
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
        };
        // A Service's address is stable while it exists; the pods behind it
        // change without changing what the address stands for.
        Some(Holder { workload, since_unix_nano: None })
    }

    /// Names the remote end of every flow of `batch`, and the server of every
    /// data access without a server workload, where the address resolves to
    /// the workload that held it when the connection was opened.
    pub fn annotate(&self, batch: &mut SensorBatch) {
        if !self.index.is_enabled() {
            return;
        }
        // A batch holds few distinct peers; Service lookups walk the pods of
        // the Service's namespace, so each address is looked up once.
        let mut seen: HashMap<String, Option<Holder>> = HashMap::new();
        let mut resolve = |ip: &str, time_unix_nano: u64| -> Result<Workload, LookupResult> {
            let holder = seen
                .entry(ip.to_owned())
                .or_insert_with(|| ip.parse().ok().and_then(|ip| self.holder(ip)));
            let holder = holder.as_ref().ok_or(LookupResult::Unresolved)?;
            holder.at(time_unix_nano).cloned()
        };
        let mut counts = [0; LookupResult::ALL.len()];
        for flow in &mut batch.flows {
            let Some(remote) = flow.remote.as_ref().filter(|remote| !remote.ip.is_empty()) else {
                continue;
            };
            // The peer was chosen when the connection opened.
            let time = if flow.opened_unix_nano != 0 { flow.opened_unix_nano } else { flow.time_unix_nano };
            match resolve(&remote.ip, time) {
                Ok(workload) => {
                    flow.remote_workload = Some(workload);
                    counts[LookupResult::Resolved as usize] += 1;
                }
                Err(result) => counts[result as usize] += 1,
            }
        }
        for result in LookupResult::ALL {
            self.flows.add(result, counts[result as usize]);
        }

        let mut counts = [0; LookupResult::ALL.len()];
        for access in &mut batch.accesses {
            if !access.server_workload.is_empty() {
                continue;
            }
            let Some(server) = access.server.as_ref().filter(|server| !server.ip.is_empty()) else {
                continue;
            };
            match resolve(&server.ip, access.time_unix_nano) {
                Ok(workload) => {
                    access.server_workload = format!("{}/{}", workload.namespace, workload.name);
                    counts[LookupResult::Resolved as usize] += 1;
                }
                Err(result) => counts[result as usize] += 1,
            }
        }
        for result in LookupResult::ALL {
            self.accesses.add(result, counts[result as usize]);
        }
    }

    /// Lookups so far for flows' remote ends with this result.
    pub fn flow_lookups(&self, result: LookupResult) -> u64 {
        self.flows.get(result)
    }

    /// Lookups so far for data accesses' servers with this result.
    pub fn access_lookups(&self, result: LookupResult) -> u64 {
        self.accesses.get(result)
    }

    /// Appends the peer naming metrics in Prometheus text format.
    pub fn render_prometheus(&self, out: &mut String) {
        let name = "aggregator_peer_lookups_total";
        let _ = writeln!(
            out,
            "# HELP {name} Remote addresses looked up in the Kubernetes index at ingest, by record and result \
             (earlier_holder: the pod holding the address now was created after the connection opened)."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        for (record, counts) in [("flow", &self.flows), ("data_access", &self.accesses)] {
            for result in LookupResult::ALL {
                let _ = writeln!(out, "{name}{{record=\"{record}\",result=\"{}\"}} {}", result.label(), counts.get(result));
            }
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
