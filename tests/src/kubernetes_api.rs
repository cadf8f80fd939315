//! A scripted stand-in for the Kubernetes API server: it replays recorded responses, list by
//! list and watch by watch, and records every request it gets. It serves plain HTTP on
//! loopback; Kubernetes clients reach it as they reach `kubectl proxy`.
//!
//! [`pod`], [`service`], [`list`] and [`watch_event`] write the JSON the API server sends,
//! for tests that script a cluster rather than replay a recording.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use tokio::sync::Notify;

/// How a watch response ends once its events are sent.
pub enum WatchEnd {
    /// The server closes the connection (timeout, API server restart, load balancer).
    Close,
    /// The connection stays open, silent.
    Hold,
    /// Stays open until the notify fires, then closes.
    CloseWhen(Arc<Notify>),
}

struct WatchReply {
    events: String,
    end: WatchEnd,
    /// Sent only once this fires: the watch is open and silent until then.
    gate: Option<Arc<Notify>>,
}

#[derive(Default)]
struct Script {
    lists: HashMap<String, VecDeque<(u16, String)>>,
    watches: HashMap<String, VecDeque<WatchReply>>,
    objects: HashMap<String, String>,
    requests: Vec<String>,
}

#[derive(Clone, Default)]
pub struct FakeApiServer {
    script: Arc<Mutex<Script>>,
}

impl FakeApiServer {
    /// Queues the answer to the next list of `path` (e.g. `/api/v1/pods`). The last list
    /// queued answers every list after it.
    pub fn list(&self, path: &str, status: u16, body: String) -> &Self {
        self.script
            .lock()
            .unwrap()
            .lists
            .entry(path.to_owned())
            .or_default()
            .push_back((status, body));
        self
    }

    /// Queues the answer to the next watch of `path`: newline-delimited watch events. Once the
    /// queue is empty, watches stay open and silent.
    pub fn watch(&self, path: &str, events: String, end: WatchEnd) -> &Self {
        self.script
            .lock()
            .unwrap()
            .watches
            .entry(path.to_owned())
            .or_default()
            .push_back(WatchReply {
                events,
                end,
                gate: None,
            });
        self
    }

    /// Like [`watch`](Self::watch), but the events are sent only once `gate` fires: until
    /// then the watch is open and silent, as when nothing changes in the cluster.
    pub fn watch_after(
        &self,
        path: &str,
        gate: Arc<Notify>,
        events: String,
        end: WatchEnd,
    ) -> &Self {
        self.script
            .lock()
            .unwrap()
            .watches
            .entry(path.to_owned())
            .or_default()
            .push_back(WatchReply {
                events,
                end,
                gate: Some(gate),
            });
        self
    }

    /// Serves `body` for every GET of `path`.
    pub fn object(&self, path: &str, body: String) -> &Self {
        self.script
            .lock()
            .unwrap()
            .objects
            .insert(path.to_owned(), body);
        self
    }

    /// Every request so far, as `path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.script.lock().unwrap().requests.clone()
    }

    /// Starts serving on an ephemeral port of 127.0.0.1 and returns the base URL.
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().fallback(serve).with_state(self.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        format!("http://{address}")
    }
}

fn json(status: u16, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn not_found(path: &str) -> Response {
    let name = path.rsplit('/').next().unwrap_or_default();
    json(
        404,
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"\"{name}\" not found","reason":"NotFound","details":{{"name":"{name}"}},"code":404}}"#
        ),
    )
}

async fn serve(State(server): State<FakeApiServer>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let is_watch = query
        .split('&')
        .any(|pair| pair == "watch=true" || pair == "watch=1");
    let mut script = server.script.lock().unwrap();
    script.requests.push(format!("{path}?{query}"));

    if is_watch {
        let reply = script.watches.get_mut(&path).and_then(VecDeque::pop_front);
        drop(script);
        let reply = reply.unwrap_or(WatchReply {
            events: String::new(),
            end: WatchEnd::Hold,
            gate: None,
        });
        let lines: Vec<Result<String, Infallible>> = reply
            .events
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| Ok(format!("{line}\n")))
            .collect();
        let gate = reply.gate;
        let events = futures::stream::once(async move {
            if let Some(gate) = gate {
                gate.notified().await;
            }
        })
        .filter_map(|()| async { None::<Result<String, Infallible>> })
        .chain(futures::stream::iter(lines));
        let body = match reply.end {
            WatchEnd::Close => Body::from_stream(events),
            WatchEnd::Hold => Body::from_stream(events.chain(futures::stream::pending())),
            WatchEnd::CloseWhen(notify) => Body::from_stream(
                events.chain(
                    futures::stream::once(async move { notify.notified().await })
                        .filter_map(|()| async { None }),
                ),
            ),
        };
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap();
    }
    if let Some(queue) = script.lists.get_mut(&path) {
        let (status, body) = if queue.len() > 1 {
            queue.pop_front().unwrap()
        } else {
            queue.front().cloned().unwrap()
        };
        return json(status, body);
    }
    match script.objects.get(&path) {
        Some(body) => json(200, body.clone()),
        None => not_found(&path),
    }
}

/// A pod as the API server lists it: running on `node-a` since 2025-11-03T09:00:00Z, holding
/// `ip`, controlled by `owner` (`(kind, name)`, e.g. `("StatefulSet", "orders-db")`) when
/// given, labelled `labels`.
pub fn pod(
    namespace: &str,
    name: &str,
    uid: &str,
    ip: &str,
    owner: Option<(&str, &str)>,
    labels: &[(&str, &str)],
) -> serde_json::Value {
    let owner_references: Vec<serde_json::Value> = owner
        .into_iter()
        .map(|(kind, owner_name)| {
            serde_json::json!({
                "apiVersion": if kind == "Job" { "batch/v1" } else { "apps/v1" },
                "kind": kind,
                "name": owner_name,
                "uid": format!("{uid}-owner"),
                "controller": true,
                "blockOwnerDeletion": true,
            })
        })
        .collect();
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), serde_json::Value::from(*value)))
        .collect();
    serde_json::json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": "1",
            "creationTimestamp": "2025-11-03T09:00:00Z",
            "labels": labels,
            "ownerReferences": owner_references,
        },
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "main", "image": "registry.example.com/main:1"}],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

/// `object` created at `time` (RFC 3339, whole seconds, e.g. `2025-11-03T10:30:00Z`).
pub fn created_at(mut object: serde_json::Value, time: &str) -> serde_json::Value {
    object["metadata"]["creationTimestamp"] = serde_json::Value::from(time);
    object
}

/// A ClusterIP Service selecting pods by `selector`.
pub fn service(
    namespace: &str,
    name: &str,
    cluster_ip: &str,
    selector: &[(&str, &str)],
) -> serde_json::Value {
    let selector: serde_json::Map<String, serde_json::Value> = selector
        .iter()
        .map(|(key, value)| ((*key).to_owned(), serde_json::Value::from(*value)))
        .collect();
    serde_json::json!({
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("{namespace}-{name}"), "resourceVersion": "1"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "selector": selector,
            "ports": [{"port": 5432, "protocol": "TCP"}],
        },
    })
}

/// A list response (`PodList`, `ServiceList`) at `resource_version`.
pub fn list(kind: &str, resource_version: &str, items: Vec<serde_json::Value>) -> String {
    serde_json::json!({
        "kind": kind,
        "apiVersion": "v1",
        "metadata": {"resourceVersion": resource_version},
        "items": items,
    })
    .to_string()
}

/// One line of a watch response: `event` is `ADDED`, `MODIFIED` or `DELETED`; the object
/// gets `resource_version`, from which a resumed watch continues.
pub fn watch_event(event: &str, mut object: serde_json::Value, resource_version: &str) -> String {
    object["metadata"]["resourceVersion"] = serde_json::Value::from(resource_version);
    format!("{}\n", serde_json::json!({"type": event, "object": object}))
}
