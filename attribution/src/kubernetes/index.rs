//! What [`PodIndex`](super::PodIndex) and [`IpIndex`](super::IpIndex) share: the pod watch loop,
//! the background tasks and the "first list done" signal.

use std::pin::pin;
use std::sync::{Arc, PoisonError, RwLock};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::owners::OwnerResolver;
use super::pods::{PodStore, stored_pod};

/// Background tasks that stop when the last handle of their index is dropped.
#[derive(Debug, Default)]
pub(crate) struct Tasks(Vec<JoinHandle<()>>);

impl Tasks {
    pub(crate) fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.0.push(tokio::spawn(task));
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Set once a watched resource has been listed completely for the first time.
#[derive(Debug)]
pub(crate) struct Synced(watch::Sender<bool>);

impl Default for Synced {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl Synced {
    pub(crate) fn mark(&self) {
        self.0.send_replace(true);
    }

    pub(crate) fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    pub(crate) async fn wait(&self) {
        let mut receiver = self.0.subscribe();
        // Only fails when the sender is gone, and the sender lives in `self`.
        let _ = receiver.wait_for(|synced| *synced).await;
    }
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps `store` equal to the pods the API server has for `config`, for as long as it runs.
///
/// Objects of a list are buffered until the list is complete and then replace the store at
/// once: lookups never see a half-listed store, and pods deleted while no watch was running
/// leave with the relist.
pub(crate) async fn run_pod_watch(
    api: Api<Pod>,
    config: watcher::Config,
    owners: Arc<OwnerResolver>,
    store: Arc<RwLock<PodStore>>,
    synced: Arc<Synced>,
    scope: &'static str,
) {
    let mut events = pin!(watcher(api, config).default_backoff());
    let mut listing = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => listing.clear(),
            Ok(watcher::Event::InitApply(pod)) => {
                if let Some(pod) = stored_pod(&pod, Some(&owners)).await {
                    listing.push(pod);
                }
            }
            Ok(watcher::Event::InitDone) => {
                let pods = std::mem::take(&mut listing);
                let count = pods.len();
                write(&store).replace_all(pods);
                if !synced.is_set() {
                    tracing::info!(scope, pods = count, "pod index synced");
                } else {
                    tracing::debug!(scope, pods = count, "pod index relisted");
                }
                synced.mark();
            }
            Ok(watcher::Event::Apply(pod)) => {
                if let Some(pod) = stored_pod(&pod, Some(&owners)).await {
                    write(&store).upsert(pod);
                }
            }
            Ok(watcher::Event::Delete(pod)) => {
                if let Some(uid) = pod.metadata.uid.as_deref() {
                    write(&store).remove(uid);
                }
            }
            Err(error) => log_watch_error(scope, "pods", &error),
        }
    }
}

/// A `410 Gone` is the API server's normal way of asking for a relist after a long disconnect;
/// anything else (RBAC, API server down) is worth a warning. The watcher retries either way.
pub(crate) fn log_watch_error(scope: &'static str, resource: &'static str, error: &watcher::Error) {
    let expired = matches!(error, watcher::Error::WatchError(status) if status.code == 410);
    if expired {
        tracing::debug!(scope, resource, %error, "watch expired; relisting");
    } else {
        tracing::warn!(scope, resource, %error, "kubernetes watch failed; retrying with backoff");
    }
}
