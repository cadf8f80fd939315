//! Pods reduced to [`PodInfo`], and the maps that find them by UID, container ID and IP.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::PodInfo;
use super::owners::OwnerResolver;

/// Annotation of a mirror pod (the API's view of a static pod) holding the hash the kubelet
/// names the static pod's cgroup after, instead of the mirror pod's UID.
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// A pod whose phase is final no longer holds its IP: the address may already be another pod's.
fn holds_ip(pod: &Pod) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    !matches!(phase, Some("Succeeded" | "Failed"))
}

/// A pod as stored: the public view plus what the maps need to stay consistent.
#[derive(Debug, Clone)]
pub(crate) struct StoredPod {
    pub(crate) info: Arc<PodInfo>,
    /// The static pod hash from [`MIRROR_ANNOTATION`], if any.
    mirror_hash: Option<String>,
    /// Whether the pod's IPs should resolve to it (not host network, not finished).
    owns_ips: bool,
    /// Set once deletion started; a live pod wins an IP over a terminating one.
    terminating: bool,
}

/// Reduces a pod; `None` when it lacks the identity fields every real pod has.
pub(crate) async fn stored_pod(pod: &Pod, owners: Option<&OwnerResolver>) -> Option<StoredPod> {
    let metadata = &pod.metadata;
    let namespace = metadata.namespace.clone()?;
    let name = metadata.name.clone()?;
    let uid = metadata.uid.clone()?;
    let workload = match owners {
        Some(owners) => owners.workload_of(&namespace, metadata).await,
        None => super::WorkloadRef {
            namespace: namespace.clone(),
            kind: "Pod".to_owned(),
            name: name.clone(),
        },
    };
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let host_network = spec.and_then(|spec| spec.host_network).unwrap_or(false);

    let mut ips: Vec<IpAddr> = status
        .and_then(|status| status.pod_ips.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|pod_ip| pod_ip.ip.parse().ok())
        .collect();
    if ips.is_empty()
        && let Some(ip) = status
            .and_then(|status| status.pod_ip.as_deref())
            .and_then(|ip| ip.parse().ok())
    {
        ips.push(ip);
    }

    let mut containers = BTreeMap::new();
    if let Some(status) = status {
        let all = [
            &status.container_statuses,
            &status.init_container_statuses,
            &status.ephemeral_container_statuses,
        ];
        for container in all.into_iter().flatten().flatten() {
            if let Some(id) = container_id(container) {
                containers.insert(id, container.name.clone());
            }
        }
    }

    let mirror_hash = metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(MIRROR_ANNOTATION))
        .cloned();
    Some(StoredPod {
        owns_ips: !host_network && holds_ip(pod),
        terminating: metadata.deletion_timestamp.is_some(),
        mirror_hash,
        info: Arc::new(PodInfo {
            namespace,
            name,
            uid,
            labels: metadata.labels.clone().unwrap_or_default(),
            workload,
            node: spec.and_then(|spec| spec.node_name.clone()),
            ips,
            host_network,
            created_unix_nano: metadata
                .creation_timestamp
                .as_ref()
                .and_then(|time| u64::try_from(time.0.as_nanosecond()).ok()),
            containers,
        }),
    })
}

/// `containerd://<id>`, `cri-o://<id>`, `docker://<id>` → `<id>`.
fn container_id(status: &ContainerStatus) -> Option<String> {
    let raw = status.container_id.as_deref()?;
    let id = raw.split_once("://").map_or(raw, |(_, id)| id);
    (!id.is_empty()).then(|| id.to_owned())
}

/// Every pod known, and the maps that find one. Each map entry points at a pod UID; removing a
/// pod removes only the entries still pointing at it, so an IP already taken by a newer pod
/// stays with the newer pod whatever the order of events.
#[derive(Debug, Default)]
pub(crate) struct PodStore {
    pods: HashMap<String, StoredPod>,
    by_container: HashMap<String, String>,
    by_mirror_hash: HashMap<String, String>,
    by_ip: HashMap<IpAddr, String>,
    by_namespace: HashMap<String, HashSet<String>>,
}

impl PodStore {
    pub(crate) fn upsert(&mut self, pod: StoredPod) {
        let uid = pod.info.uid.clone();
        self.remove(&uid);
        for container in pod.info.containers.keys() {
            self.by_container.insert(container.clone(), uid.clone());
        }
        if let Some(hash) = &pod.mirror_hash {
            self.by_mirror_hash.insert(hash.clone(), uid.clone());
        }
        if pod.owns_ips {
            for ip in &pod.info.ips {
                let holder_is_live = self
                    .by_ip
                    .get(ip)
                    .and_then(|holder| self.pods.get(holder))
                    .is_some_and(|holder| !holder.terminating);
                if !(pod.terminating && holder_is_live) {
                    self.by_ip.insert(*ip, uid.clone());
                }
            }
        }
        self.by_namespace
            .entry(pod.info.namespace.clone())
            .or_default()
            .insert(uid.clone());
        self.pods.insert(uid, pod);
    }

    pub(crate) fn remove(&mut self, uid: &str) {
        let Some(old) = self.pods.remove(uid) else {
            return;
        };
        for container in old.info.containers.keys() {
            if self
                .by_container
                .get(container)
                .is_some_and(|holder| holder == uid)
            {
                self.by_container.remove(container);
            }
        }
        if let Some(hash) = &old.mirror_hash
            && self
                .by_mirror_hash
                .get(hash)
                .is_some_and(|holder| holder == uid)
        {
            self.by_mirror_hash.remove(hash);
        }
        for ip in &old.info.ips {
            if self.by_ip.get(ip).is_some_and(|holder| holder == uid) {
                self.by_ip.remove(ip);
            }
        }
        if let Some(uids) = self.by_namespace.get_mut(&old.info.namespace) {
            uids.remove(uid);
            if uids.is_empty() {
                self.by_namespace.remove(&old.info.namespace);
            }
        }
    }

    /// Replaces everything with the result of a (re)list.
    pub(crate) fn replace_all(&mut self, pods: Vec<StoredPod>) {
        *self = Self::default();
        for pod in pods {
            self.upsert(pod);
        }
    }

    pub(crate) fn by_uid(&self, uid: &str) -> Option<Arc<PodInfo>> {
        let uid = self.by_mirror_hash.get(uid).map_or(uid, String::as_str);
        self.pods.get(uid).map(|pod| Arc::clone(&pod.info))
    }

    pub(crate) fn by_container(&self, container_id: &str) -> Option<Arc<PodInfo>> {
        self.by_uid(self.by_container.get(container_id)?)
    }

    pub(crate) fn by_ip(&self, ip: &IpAddr) -> Option<Arc<PodInfo>> {
        self.by_uid(self.by_ip.get(ip)?)
    }

    /// Pods of a namespace that can serve traffic (own their IPs).
    pub(crate) fn serving_pods_in(&self, namespace: &str) -> impl Iterator<Item = &PodInfo> {
        self.by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
            .filter_map(|uid| self.pods.get(uid))
            .filter(|pod| pod.owns_ips && !pod.terminating)
            .map(|pod| pod.info.as_ref())
    }

    pub(crate) fn len(&self) -> usize {
        self.pods.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::kubernetes::WorkloadRef;

    fn pod(uid: &str, ip: &str, terminating: bool) -> StoredPod {
        StoredPod {
            info: Arc::new(PodInfo {
                namespace: "shop".to_owned(),
                name: format!("pod-{uid}"),
                uid: uid.to_owned(),
                labels: BTreeMap::new(),
                workload: WorkloadRef {
                    namespace: "shop".to_owned(),
                    kind: "Pod".to_owned(),
                    name: uid.to_owned(),
                },
                node: None,
                ips: vec![ip.parse().unwrap()],
                host_network: false,
                created_unix_nano: None,
                containers: [(format!("container-of-{uid}"), "main".to_owned())].into(),
            }),
            mirror_hash: None,
            owns_ips: true,
            terminating,
        }
    }

    #[test]
    fn a_late_deletion_does_not_take_the_address_from_its_new_owner() {
        let address: IpAddr = "10.244.1.30".parse().unwrap();
        let mut store = PodStore::default();
        store.upsert(pod("old", "10.244.1.30", false));
        store.upsert(pod("new", "10.244.1.30", false));
        store.remove("old");
        assert_eq!(store.by_ip(&address).unwrap().uid, "new");
        assert!(store.by_container("container-of-old").is_none());
        assert_eq!(store.by_container("container-of-new").unwrap().uid, "new");
    }

    #[test]
    fn a_terminating_pod_does_not_take_a_live_pods_address_back() {
        let address: IpAddr = "10.244.1.30".parse().unwrap();
        let mut store = PodStore::default();
        store.upsert(pod("old", "10.244.1.30", false));
        store.upsert(pod("new", "10.244.1.30", false));
        // The old pod's deletion starts (MODIFIED with deletionTimestamp) after the new pod appeared.
        store.upsert(pod("old", "10.244.1.30", true));
        assert_eq!(store.by_ip(&address).unwrap().uid, "new");
    }

    #[test]
    fn replacing_everything_forgets_pods_missing_from_the_list() {
        let mut store = PodStore::default();
        store.upsert(pod("a", "10.0.0.1", false));
        store.upsert(pod("b", "10.0.0.2", false));
        store.replace_all(vec![pod("b", "10.0.0.2", false)]);
        assert_eq!(store.len(), 1);
        assert!(store.by_uid("a").is_none());
        assert!(store.by_ip(&"10.0.0.1".parse().unwrap()).is_none());
        assert_eq!(store.serving_pods_in("shop").count(), 1);
    }
}
