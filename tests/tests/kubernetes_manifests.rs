//! The Kubernetes manifests under `deploy/kubernetes/`: every document parses into the official
//! API types with no field lost (so a misspelled or misplaced field fails here, not on a
//! cluster), the kustomization lists exactly the files there, and the security properties the
//! deployment guide promises hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Namespace, PersistentVolumeClaim, PodSpec, ResourceQuota, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const NAMESPACE: &str = "dataflow";

fn manifest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes")
}

/// One YAML document of one manifest file, as JSON.
struct Document {
    file: String,
    json: Value,
}

impl Document {
    fn kind(&self) -> &str {
        self.json["kind"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.json["metadata"]["name"].as_str().unwrap_or_default()
    }

    fn typed<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.json.clone()).unwrap_or_else(|error| {
            panic!("{}: {} {}: {error}", self.file, self.kind(), self.name())
        })
    }
}

fn kustomization() -> Value {
    let text = std::fs::read_to_string(manifest_dir().join("kustomization.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn listed_resources() -> Vec<String> {
    kustomization()["resources"]
        .as_array()
        .expect("kustomization.yaml has a resources list")
        .iter()
        .map(|resource| {
            resource
                .as_str()
                .expect("resources are file names")
                .to_owned()
        })
        .collect()
}

fn parse_documents(file: &str, text: &str) -> Vec<Document> {
    let documents: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|error| panic!("{file}: not YAML: {error}"));
    documents
        .into_iter()
        .filter(|document| !document.is_null())
        .map(|json| Document {
            file: file.to_owned(),
            json,
        })
        .collect()
}

fn documents() -> Vec<Document> {
    listed_resources()
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(manifest_dir().join(file)).unwrap_or_else(|error| {
                panic!("{file} is listed in kustomization.yaml but unreadable: {error}")
            });
            parse_documents(file, &text)
        })
        .collect()
}

fn find<'a>(documents: &'a [Document], kind: &str, name: &str) -> &'a Document {
    documents
        .iter()
        .find(|document| document.kind() == kind && document.name() == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} in deploy/kubernetes"))
}

/// Deserialises into `T`, serialises back, and lists every difference with the original.
fn round_trip<T: DeserializeOwned + Serialize>(original: &Value) -> Result<Vec<String>, String> {
    let typed: T = serde_json::from_value(original.clone()).map_err(|error| error.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|error| error.to_string())?;
    let mut differences = Vec::new();
    compare(original, &back, "", &mut differences);
    Ok(differences)
}

/// Compares a document with its round trip. YAML lets a quantity or an int-or-string be
/// written as a number (`cpu: 2`, `port: 8080`) where the type keeps a string, so a number and
/// a string with the same text are equal.
fn compare(original: &Value, back: &Value, path: &str, differences: &mut Vec<String>) {
    match (original, back) {
        (Value::Object(original), Value::Object(back)) => {
            for (key, value) in original {
                let child = format!("{path}.{key}");
                match back.get(key) {
                    Some(back_value) => compare(value, back_value, &child, differences),
                    None if value.is_null() => {}
                    None => differences.push(format!(
                        "{child}: unknown or misplaced field (dropped by the API types)"
                    )),
                }
            }
            for key in back.keys().filter(|key| !original.contains_key(*key)) {
                differences.push(format!("{path}.{key}: appeared in the round trip"));
            }
        }
        (Value::Array(original), Value::Array(back)) => {
            if original.len() != back.len() {
                differences.push(format!(
                    "{path}: {} items became {}",
                    original.len(),
                    back.len()
                ));
            }
            for (index, (original, back)) in original.iter().zip(back).enumerate() {
                compare(original, back, &format!("{path}[{index}]"), differences);
            }
        }
        (Value::Number(number), Value::String(text))
        | (Value::String(text), Value::Number(number))
            if number.to_string() == *text => {}
        (original, back) if original == back => {}
        (original, back) => differences.push(format!("{path}: {original} became {back}")),
    }
}

/// The round trip through the official type for the document's apiVersion and kind.
fn check_document(document: &Value) -> Result<Vec<String>, String> {
    let api_version = document["apiVersion"].as_str().unwrap_or_default();
    let kind = document["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("v1", "Namespace") => round_trip::<Namespace>(document),
        ("v1", "ConfigMap") => round_trip::<ConfigMap>(document),
        ("v1", "ServiceAccount") => round_trip::<ServiceAccount>(document),
        ("v1", "Service") => round_trip::<Service>(document),
        ("v1", "PersistentVolumeClaim") => round_trip::<PersistentVolumeClaim>(document),
        ("v1", "ResourceQuota") => round_trip::<ResourceQuota>(document),
        ("apps/v1", "DaemonSet") => round_trip::<DaemonSet>(document),
        ("apps/v1", "Deployment") => round_trip::<Deployment>(document),
        ("networking.k8s.io/v1", "NetworkPolicy") => round_trip::<NetworkPolicy>(document),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => round_trip::<ClusterRole>(document),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            round_trip::<ClusterRoleBinding>(document)
        }
        ("rbac.authorization.k8s.io/v1", "Role") => round_trip::<Role>(document),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => round_trip::<RoleBinding>(document),
        _ => Err(format!(
            "no API type known for apiVersion {api_version:?} kind {kind:?}"
        )),
    }
}

#[test]
fn kustomization_lists_exactly_the_manifests_present() {
    let listed: BTreeSet<String> = listed_resources().into_iter().collect();
    let present: BTreeSet<String> = std::fs::read_dir(manifest_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            (name.ends_with(".yaml") || name.ends_with(".yml")) && name != "kustomization.yaml"
        })
        .collect();
    assert_eq!(
        listed, present,
        "kustomization.yaml resources and the files in deploy/kubernetes differ"
    );
    assert_eq!(
        listed_resources().len(),
        listed.len(),
        "a resource is listed twice"
    );
    let kustomization = kustomization();
    let images: BTreeSet<&str> = kustomization["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| image["name"].as_str().unwrap())
        .collect();
    let used: BTreeSet<String> = documents()
        .iter()
        .filter_map(pod_spec)
        .flat_map(|spec| {
            spec.containers
                .into_iter()
                .filter_map(|container| container.image)
        })
        .collect();
    for image in &used {
        assert_eq!(kustomization["namespace"], NAMESPACE);
        assert!(
            images.contains(image.as_str()),
            "image {image} has no entry under images: in kustomization.yaml"
        );
    }
}

#[test]
fn every_document_round_trips_through_the_official_types() {
    let documents = documents();
    assert!(
        documents.len() >= 10,
        "expected the full set of manifests, found {}",
        documents.len()
    );
    let mut failures = Vec::new();
    for document in &documents {
        match check_document(&document.json) {
            Ok(differences) if differences.is_empty() => {}
            Ok(differences) => failures.push(format!(
                "{} ({} {}):\n  {}",
                document.file,
                document.kind(),
                document.name(),
                differences.join("\n  ")
            )),
            Err(error) => failures.push(format!(
                "{} ({} {}): {error}",
                document.file,
                document.kind(),
                document.name()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "manifests that do not match the API types:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_round_trip_catches_misspelled_and_misplaced_fields() {
    let misspelled = parse_documents(
        "inline",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      hostPid: true\n      containers: [{name: c, image: i}]\n",
    );
    let differences = check_document(&misspelled[0].json).unwrap();
    assert_eq!(
        differences,
        [".spec.template.spec.hostPid: unknown or misplaced field (dropped by the API types)"]
    );

    let misplaced = parse_documents(
        "inline",
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports:\n    - port: 80\n      containerPort: 80\n",
    );
    assert_eq!(check_document(&misplaced[0].json).unwrap().len(), 1);

    let quantities = parse_documents(
        "inline",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: x}\nspec:\n  hard: {pods: 10, cpu: \"2\"}\n",
    );
    assert_eq!(
        check_document(&quantities[0].json).unwrap(),
        Vec::<String>::new()
    );

    let unknown_kind = parse_documents(
        "inline",
        "apiVersion: v1\nkind: Secrett\nmetadata: {name: x}\n",
    );
    assert!(check_document(&unknown_kind[0].json).is_err());
}

fn pod_spec(document: &Document) -> Option<PodSpec> {
    match document.kind() {
        "DaemonSet" => document.typed::<DaemonSet>().spec?.template.spec,
        "Deployment" => document.typed::<Deployment>().spec?.template.spec,
        _ => None,
    }
}

fn only_container(spec: &PodSpec) -> &Container {
    assert_eq!(spec.containers.len(), 1);
    &spec.containers[0]
}

fn env_value<'a>(container: &'a Container, name: &str) -> Option<&'a str> {
    container
        .env
        .as_ref()?
        .iter()
        .find(|variable| variable.name == name)?
        .value
        .as_deref()
}

fn named_port(container: &Container, name: &str) -> i32 {
    container
        .ports
        .as_ref()
        .and_then(|ports| ports.iter().find(|port| port.name.as_deref() == Some(name)))
        .unwrap_or_else(|| panic!("container {} has no port named {name}", container.name))
        .container_port
}

/// Asserts liveness on /healthz and readiness on /readyz, both on the port named `http`.
fn assert_probes(container: &Container) {
    for (probe, path) in [
        (&container.liveness_probe, "/healthz"),
        (&container.readiness_probe, "/readyz"),
    ] {
        let http = probe
            .as_ref()
            .and_then(|probe| probe.http_get.as_ref())
            .unwrap_or_else(|| panic!("{} lacks an HTTP probe on {path}", container.name));
        assert_eq!(http.path.as_deref(), Some(path));
        assert_eq!(http.port, IntOrString::String("http".to_owned()));
    }
}

#[test]
fn sensor_daemonset_is_least_privilege_and_wired_to_the_node() {
    let documents = documents();
    let daemonset: DaemonSet = find(&documents, "DaemonSet", "sensor").typed();
    let spec = daemonset.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        spec.host_pid,
        Some(true),
        "the sensor reads host PIDs in /proc"
    );
    assert_ne!(spec.host_network, Some(true));
    assert_eq!(spec.service_account_name.as_deref(), Some("sensor"));
    let tolerations = spec.tolerations.as_ref().unwrap();
    assert!(
        tolerations.iter().any(
            |toleration| toleration.operator.as_deref() == Some("Exists")
                && toleration.key.is_none()
                && toleration.effect.is_none()
        ),
        "the sensor must tolerate every taint"
    );

    let container = only_container(&spec);
    let security = container.security_context.as_ref().unwrap();
    assert_ne!(
        security.privileged,
        Some(true),
        "the sensor must not be privileged"
    );
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    let capabilities = security.capabilities.as_ref().unwrap();
    assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_owned()][..]));
    let allowed: BTreeSet<&str> = [
        "BPF",
        "PERFMON",
        "SYS_RESOURCE",
        "SYS_PTRACE",
    ]
    .into();
    for capability in capabilities.add.as_ref().unwrap() {
        assert!(
            allowed.contains(capability.as_str()),
            "capability {capability} is more than the sensor needs"
        );
    }
    for needed in ["BPF", "PERFMON"] {
        assert!(
            capabilities
                .add
                .as_ref()
                .unwrap()
                .iter()
                .any(|capability| capability == needed)
        );
    }

    let node_name = container
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|variable| variable.name == "NODE_NAME")
        .unwrap();
    let field = node_name
        .value_from
        .as_ref()
        .and_then(|source| source.field_ref.as_ref())
        .unwrap();
    assert_eq!(field.field_path, "spec.nodeName");

    let service: Service = find(&documents, "Service", "aggregator").typed();
    let grpc_port = service
        .spec
        .as_ref()
        .unwrap()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|port| port.name.as_deref() == Some("grpc"))
        .unwrap()
        .port;
    assert_eq!(
        env_value(container, "DATAFLOW_AGGREGATOR"),
        Some(format!("http://aggregator.{NAMESPACE}.svc:{grpc_port}").as_str())
    );
    let http_port = named_port(container, "http");
    assert_eq!(http_port, 9092);
    assert_eq!(
        env_value(container, "DATAFLOW_HTTP_LISTEN"),
        Some("0.0.0.0:9092")
    );
    assert_probes(container);

    let resources = container.resources.as_ref().unwrap();
    assert!(resources.requests.as_ref().is_some_and(|requests| requests.contains_key("cpu") && requests.contains_key("memory")));
    assert!(
        resources
            .limits
            .as_ref()
            .is_some_and(|limits| limits.contains_key("cpu") && limits.contains_key("memory"))
    );

    // Host mounts: exactly these, all read-only.
    let volumes: HashMap<String, String> = spec
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .map(|volume| {
            (
                volume.name.clone(),
                volume
                    .host_path
                    .as_ref()
                    .expect("only hostPath volumes")
                    .path
                    .clone(),
            )
        })
        .collect();
    let host_paths: BTreeSet<&str> = volumes.values().map(String::as_str).collect();
    assert_eq!(
        host_paths,
        ["/sys/fs/cgroup", "/sys/kernel/btf", "/sys/kernel/tracing"].into()
    );
    for mount in container.volume_mounts.as_ref().unwrap() {
        assert_eq!(
            mount.read_only,
            Some(true),
            "host mount {} must be read-only",
            mount.mount_path
        );
        assert!(volumes.contains_key(&mount.name));
    }
}

#[test]
fn aggregator_runs_as_non_root_with_one_writer() {
    let documents = documents();
    let deployment: Deployment = find(&documents, "Deployment", "aggregator").typed();
    let deployment_spec = deployment.spec.unwrap();
    assert_eq!(deployment_spec.replicas, Some(1));
    assert_eq!(
        deployment_spec.strategy.unwrap().type_.as_deref(),
        Some("Recreate")
    );
    let template_labels = deployment_spec
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    let spec = deployment_spec.template.spec.unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("aggregator"));
    let pod_security = spec.security_context.as_ref().unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert!(pod_security.run_as_user.is_some_and(|uid| uid != 0));

    let container = only_container(&spec);
    assert_eq!(container.args.as_deref(), Some(&["serve".to_owned()][..]));
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_ne!(security.privileged, Some(true));
    let capabilities = security.capabilities.as_ref().unwrap();
    assert_eq!(capabilities.drop.as_deref(), Some(&["ALL".to_owned()][..]));
    assert!(capabilities.add.is_none());
    assert_probes(container);

    // The data directory is the persistent volume.
    let data_dir = env_value(container, "AGGREGATOR_DATA_DIR").unwrap();
    let mount = container
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .find(|mount| mount.mount_path == data_dir)
        .unwrap();
    let volume = spec
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|volume| volume.name == mount.name)
        .unwrap();
    let claim = &volume.persistent_volume_claim.as_ref().unwrap().claim_name;
    find(&documents, "PersistentVolumeClaim", claim);

    // The Service selects these pods and targets ports they declare.
    let service: Service = find(&documents, "Service", "aggregator").typed();
    let service_spec = service.spec.unwrap();
    for (key, value) in service_spec.selector.unwrap() {
        assert_eq!(
            template_labels.get(&key),
            Some(&value),
            "service selector {key}={value} does not match the pods"
        );
    }
    for port in service_spec.ports.unwrap() {
        let IntOrString::String(target) = port.target_port.unwrap() else {
            panic!("target ports are named")
        };
        assert_eq!(named_port(container, &target), port.port);
    }
    assert_eq!(
        env_value(container, "AGGREGATOR_LISTEN"),
        Some("0.0.0.0:50051")
    );
    assert_eq!(
        env_value(container, "AGGREGATOR_HTTP_LISTEN"),
        Some("0.0.0.0:9091")
    );
}

#[test]
fn rbac_only_reads() {
    let documents = documents();
    let read_verbs: BTreeSet<&str> = ["get", "list", "watch"].into();
    let mut roles = 0;
    for document in &documents {
        let rules: Vec<PolicyRule> = match document.kind() {
            "ClusterRole" => document.typed::<ClusterRole>().rules.unwrap_or_default(),
            "Role" => document.typed::<Role>().rules.unwrap_or_default(),
            _ => continue,
        };
        roles += 1;
        for rule in rules {
            for verb in &rule.verbs {
                assert!(
                    read_verbs.contains(verb.as_str()),
                    "{}: verb {verb} is not read-only",
                    document.name()
                );
            }
            for resource in rule.resources.iter().flatten() {
                assert_ne!(resource, "*", "{}: wildcard resource", document.name());
                assert_ne!(
                    resource,
                    "secrets",
                    "{}: no component reads secrets",
                    document.name()
                );
            }
            assert!(!rule.api_groups.iter().flatten().any(|group| group == "*"));
        }
    }
    assert_eq!(roles, 2);

    // Every binding names an existing role and service account, and every pod runs as one.
    let accounts: BTreeSet<&str> = documents
        .iter()
        .filter(|document| document.kind() == "ServiceAccount")
        .map(Document::name)
        .collect();
    for document in documents
        .iter()
        .filter(|document| document.kind() == "ClusterRoleBinding")
    {
        let binding: ClusterRoleBinding = document.typed();
        find(&documents, &binding.role_ref.kind, &binding.role_ref.name);
        for subject in binding.subjects.unwrap() {
            assert_eq!(subject.kind, "ServiceAccount");
            assert_eq!(subject.namespace.as_deref(), Some(NAMESPACE));
            assert!(
                accounts.contains(subject.name.as_str()),
                "binding to unknown account {}",
                subject.name
            );
        }
    }
    for spec in documents.iter().filter_map(pod_spec) {
        assert!(accounts.contains(spec.service_account_name.as_deref().unwrap()));
    }
}

#[test]
fn network_policies_guard_the_aggregator() {
    let documents = documents();
    let policy: NetworkPolicy = find(&documents, "NetworkPolicy", "aggregator").typed();
    let spec = policy.spec.unwrap();
    assert_eq!(
        spec.pod_selector
            .unwrap()
            .match_labels
            .unwrap()
            .get("app.kubernetes.io/name")
            .map(String::as_str),
        Some("aggregator")
    );
    let ingress = spec.ingress.unwrap();
    let grpc = ingress
        .iter()
        .find(|rule| {
            rule.ports
                .iter()
                .flatten()
                .any(|port| port.port == Some(IntOrString::Int(50051)))
        })
        .expect("a rule for the gRPC port");
    let sources = grpc.from.as_ref().unwrap();
    assert!(sources.iter().all(|peer| peer.ip_block.is_none()));
    let selected: BTreeSet<(String, String)> = sources
        .iter()
        .flat_map(|peer| {
            peer.pod_selector
                .as_ref()
                .and_then(|selector| selector.match_labels.clone())
                .unwrap_or_default()
        })
        .collect();
    assert!(selected.contains(&("app.kubernetes.io/name".to_owned(), "sensor".to_owned())));
    assert!(selected.contains(&("dataflow.io/subscriber".to_owned(), "true".to_owned())));
    assert!(
        sources.iter().all(|peer| peer.pod_selector.is_some()),
        "every gRPC source is a labelled pod"
    );
    let metrics = ingress
        .iter()
        .find(|rule| {
            rule.ports
                .iter()
                .flatten()
                .any(|port| port.port == Some(IntOrString::Int(9091)))
        })
        .expect("a rule for the metrics port");
    assert!(
        metrics
            .from
            .as_ref()
            .unwrap()
            .iter()
            .all(|peer| peer.namespace_selector.is_some())
    );
}

#[test]
fn every_object_is_labelled_and_namespaced() {
    let cluster_scoped: BTreeSet<&str> = ["Namespace", "ClusterRole", "ClusterRoleBinding"].into();
    for document in documents() {
        let metadata = &document.json["metadata"];
        assert_eq!(
            metadata["labels"]["app.kubernetes.io/part-of"],
            "dataflow",
            "{} {} lacks app.kubernetes.io/part-of",
            document.kind(),
            document.name()
        );
        if !cluster_scoped.contains(document.kind()) {
            assert_eq!(
                metadata["namespace"],
                NAMESPACE,
                "{} {} is not in {NAMESPACE}",
                document.kind(),
                document.name()
            );
        }
    }
}

/// `(api group, resource, verb)` triples a ClusterRole grants.
fn grants(role: &ClusterRole) -> BTreeSet<(String, String, String)> {
    let mut grants = BTreeSet::new();
    for rule in role.rules.iter().flatten() {
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                for verb in &rule.verbs {
                    grants.insert((group.clone(), resource.clone(), verb.clone()));
                }
            }
        }
    }
    grants
}

#[test]
fn aggregator_reads_pods_and_services_cluster_wide_to_name_peers() {
    let documents = documents();
    // The aggregator's account is bound cluster-wide, to a role that grants exactly what
    // peer naming reads: pods and Services everywhere (get, list, watch), and the ReplicaSets
    // and Jobs between a pod and its Deployment or CronJob (get).
    let binding = documents
        .iter()
        .filter(|document| document.kind() == "ClusterRoleBinding")
        .map(|document| document.typed::<ClusterRoleBinding>())
        .find(|binding| {
            binding
                .subjects
                .iter()
                .flatten()
                .any(|subject| subject.kind == "ServiceAccount" && subject.name == "aggregator")
        })
        .expect("a ClusterRoleBinding for the aggregator's service account");
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    let role: ClusterRole = find(&documents, "ClusterRole", &binding.role_ref.name).typed();
    let expected: BTreeSet<(String, String, String)> = [
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "services", "get"),
        ("", "services", "list"),
        ("", "services", "watch"),
        ("apps", "replicasets", "get"),
        ("batch", "jobs", "get"),
    ]
    .into_iter()
    .map(|(group, resource, verb)| (group.to_owned(), resource.to_owned(), verb.to_owned()))
    .collect();
    assert_eq!(grants(&role), expected);
    for rule in role.rules.iter().flatten() {
        assert!(
            rule.resource_names.is_none(),
            "peer naming reads every object of a kind"
        );
        assert!(rule.non_resource_urls.is_none());
    }
    // No namespaced binding narrows or widens it.
    assert!(!documents.iter().any(|document| document.kind() == "RoleBinding"));

    // The aggregator runs with peer naming on, as that account.
    let deployment: Deployment = find(&documents, "Deployment", "aggregator").typed();
    let spec = deployment.spec.unwrap().template.spec.unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("aggregator"));
    assert_ne!(spec.automount_service_account_token, Some(false));
    assert_eq!(
        env_value(only_container(&spec), "AGGREGATOR_KUBERNETES"),
        Some("auto")
    );
    // Its network policy restricts only what comes in: the API server stays reachable.
    let policy: NetworkPolicy = find(&documents, "NetworkPolicy", "aggregator").typed();
    let policy_types = policy.spec.unwrap().policy_types.unwrap_or_default();
    assert!(
        !policy_types.iter().any(|kind| kind == "Egress"),
        "an egress policy would cut the aggregator off from the API server"
    );
}

#[test]
fn aggregator_configuration_files_are_valid_and_mounted_where_it_reads_them() {
    let documents = documents();
    let config: ConfigMap = find(&documents, "ConfigMap", "aggregator-config").typed();
    let data = config.data.expect("the ConfigMap has data");
    let residency_text = data.get("residency.toml").expect("residency.toml in the ConfigMap");
    let rules_text = data.get("rules.toml").expect("rules.toml in the ConfigMap");
    // The same libraries the aggregator reads them with, at start.
    residency::Locator::builtin()
        .expect("built-in residency table")
        .with_overrides("residency.toml", residency_text)
        .expect("residency.toml is a valid residency file");
    classifier::Engine::builder()
        .rules_text("rules.toml", rules_text)
        .and_then(|builder| builder.build())
        .expect("rules.toml is a valid rules file");

    let deployment = find(&documents, "Deployment", "aggregator");
    let spec = pod_spec(deployment).expect("the aggregator's pod spec");
    let container = only_container(&spec);
    let mount = container
        .volume_mounts
        .as_ref()
        .and_then(|mounts| mounts.iter().find(|mount| mount.name == "config"))
        .expect("the config volume is mounted");
    assert_eq!((mount.mount_path.as_str(), mount.read_only), ("/etc/dataflow", Some(true)));
    for (variable, key) in [("AGGREGATOR_RESIDENCY", "residency.toml"), ("AGGREGATOR_RULES", "rules.toml")] {
        assert_eq!(env_value(container, variable), Some(format!("/etc/dataflow/{key}").as_str()), "{variable}");
    }
    let volume = spec
        .volumes
        .as_ref()
        .and_then(|volumes| volumes.iter().find(|volume| volume.name == "config"))
        .expect("the config volume");
    assert_eq!(volume.config_map.as_ref().map(|source| source.name.as_str()), Some("aggregator-config"));
}
