//! A scripted stand-in for the Kubernetes API server: it replays recorded responses, list by
//! list and watch by watch, and records every request it gets.

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

/// Reads a recorded response from `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("fixture {}: {error}", path.display()))
}

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
            .push_back(WatchReply { events, end });
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
        });
        let lines: Vec<Result<String, Infallible>> = reply
            .events
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| Ok(format!("{line}\n")))
            .collect();
        let events = futures::stream::iter(lines);
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
