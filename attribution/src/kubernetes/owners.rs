//! Walks a pod's controller chain up to its workload: ReplicaSet → Deployment, Job → CronJob.
//!
//! The walk reads the intermediate controller (`GET` of the ReplicaSet or the Job) because its
//! `ownerReferences` is the only authoritative link; results are cached by controller, so each
//! ReplicaSet or Job is read once however many pods it has.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Api, Client};

use super::WorkloadRef;

/// Past this many cached controllers the cache is cleared: ReplicaSets accumulate with every
/// rollout, and a relearn costs one `GET` each.
const CACHE_CAPACITY: usize = 20_000;

/// Label the Deployment controller puts on its ReplicaSets and their pods; the ReplicaSet is
/// named `<deployment>-<hash>`.
const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

type ControllerKey = (String, String, String);

pub(crate) struct OwnerResolver {
    client: Client,
    cache: Mutex<HashMap<ControllerKey, WorkloadRef>>,
}

impl OwnerResolver {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The workload of a pod with this metadata.
    pub(crate) async fn workload_of(&self, namespace: &str, metadata: &ObjectMeta) -> WorkloadRef {
        let pod_name = metadata.name.clone().unwrap_or_default();
        // A static pod's mirror is "controlled" by its Node; the pod is its own workload.
        let Some(owner) = controller_of(metadata).filter(|owner| owner.kind != "Node") else {
            return WorkloadRef {
                namespace: namespace.to_owned(),
                kind: "Pod".to_owned(),
                name: pod_name,
            };
        };
        let direct = WorkloadRef {
            namespace: namespace.to_owned(),
            kind: owner.kind.clone(),
            name: owner.name.clone(),
        };
        if owner.kind != "ReplicaSet" && owner.kind != "Job" {
            return direct;
        }
        let key = (namespace.to_owned(), owner.kind.clone(), owner.name.clone());
        if let Some(cached) = self.cached(&key) {
            return cached;
        }
        let looked_up = match owner.kind.as_str() {
            "ReplicaSet" => {
                self.controller_metadata::<ReplicaSet>(namespace, &owner.name)
                    .await
            }
            _ => {
                self.controller_metadata::<Job>(namespace, &owner.name)
                    .await
            }
        };
        match looked_up {
            Ok(Some(controller_metadata)) => {
                let workload = controller_of(&controller_metadata)
                    .map(|parent| WorkloadRef {
                        namespace: namespace.to_owned(),
                        kind: parent.kind.clone(),
                        name: parent.name.clone(),
                    })
                    .unwrap_or_else(|| direct.clone());
                self.remember(key, workload.clone());
                workload
            }
            // Gone already, or not readable (RBAC, API server down): guess without caching, so
            // a later pod of the same controller tries again.
            Ok(None) => guess_workload(direct, metadata),
            Err(error) => {
                tracing::debug!(
                    namespace,
                    kind = %owner.kind,
                    name = %owner.name,
                    %error,
                    "cannot read pod controller; guessing its workload from names"
                );
                guess_workload(direct, metadata)
            }
        }
    }

    async fn controller_metadata<K>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>, kube::Error>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(|object| object.meta().clone()))
    }

    fn cached(&self, key: &ControllerKey) -> Option<WorkloadRef> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn remember(&self, key: ControllerKey, workload: WorkloadRef) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, workload);
    }
}

/// The owner reference with `controller: true`; there is at most one.
fn controller_of(metadata: &ObjectMeta) -> Option<&OwnerReference> {
    metadata
        .owner_references
        .as_deref()?
        .iter()
        .find(|owner| owner.controller == Some(true))
}

/// Without the ReplicaSet, a Deployment's pod still tells its Deployment: the ReplicaSet is
/// named `<deployment>-<pod-template-hash>` and the pod carries the hash as a label.
fn guess_workload(direct: WorkloadRef, pod_metadata: &ObjectMeta) -> WorkloadRef {
    if direct.kind != "ReplicaSet" {
        return direct;
    }
    let hash = pod_metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(POD_TEMPLATE_HASH_LABEL));
    let deployment = hash.and_then(|hash| {
        direct
            .name
            .strip_suffix(hash.as_str())?
            .strip_suffix('-')
            .filter(|name| !name.is_empty())
    });
    match deployment {
        Some(name) => WorkloadRef {
            namespace: direct.namespace,
            kind: "Deployment".to_owned(),
            name: name.to_owned(),
        },
        None => direct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(owner_kind: &str, owner_name: &str, hash: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some("pod".to_owned()),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".to_owned(),
                kind: owner_kind.to_owned(),
                name: owner_name.to_owned(),
                uid: "u".to_owned(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            labels: hash.map(|hash| [(POD_TEMPLATE_HASH_LABEL.to_owned(), hash.to_owned())].into()),
            ..Default::default()
        }
    }

    fn direct(kind: &str, name: &str) -> WorkloadRef {
        WorkloadRef {
            namespace: "shop".to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
        }
    }

    #[test]
    fn guesses_the_deployment_from_the_template_hash() {
        let pod = metadata("ReplicaSet", "checkout-7d9f8b6c5d", Some("7d9f8b6c5d"));
        assert_eq!(
            guess_workload(direct("ReplicaSet", "checkout-7d9f8b6c5d"), &pod),
            direct("Deployment", "checkout")
        );
    }

    #[test]
    fn keeps_the_replicaset_when_names_do_not_fit() {
        let pod = metadata("ReplicaSet", "standalone", Some("7d9f8b6c5d"));
        assert_eq!(
            guess_workload(direct("ReplicaSet", "standalone"), &pod),
            direct("ReplicaSet", "standalone")
        );
        let pod = metadata("ReplicaSet", "-7d9f8b6c5d", Some("7d9f8b6c5d"));
        assert_eq!(
            guess_workload(direct("ReplicaSet", "-7d9f8b6c5d"), &pod),
            direct("ReplicaSet", "-7d9f8b6c5d")
        );
        let pod = metadata("ReplicaSet", "checkout-7d9f8b6c5d", None);
        assert_eq!(
            guess_workload(direct("ReplicaSet", "checkout-7d9f8b6c5d"), &pod),
            direct("ReplicaSet", "checkout-7d9f8b6c5d")
        );
    }

    #[test]
    fn only_the_controller_reference_counts() {
        let mut pod = metadata("ReplicaSet", "checkout-1", None);
        if let Some(owners) = pod.owner_references.as_mut() {
            owners[0].controller = None;
        }
        assert!(controller_of(&pod).is_none());
    }
}
