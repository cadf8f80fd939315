//! State shared by the gRPC services and the HTTP endpoints.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::fanout::Fanout;
use crate::peers::PeerNames;
use crate::store::Store;
use crate::telemetry::Metrics;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct Context {
    /// Read side of the store.
    pub store: Arc<Store>,
    /// Live feed of committed flows.
    pub fanout: Arc<Fanout>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Flows in the store, all time; kept by the writer.
    pub stored_flows: Arc<AtomicU64>,
    /// Data accesses in the store, all time; kept by the writer.
    pub stored_accesses: Arc<AtomicU64>,
    /// Names the Kubernetes workloads behind remote addresses at ingest.
    pub peers: Arc<PeerNames>,
    /// Sensor sessions with an open ingest stream.
    pub sensors: Arc<ConnectedSensors>,
    /// Becomes `true` when the aggregator starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// The residency table in force, which places datastores and nodes in
    /// reports.
    pub locator: Arc<residency::Locator>,
    /// Whether the aggregator serves requests (false before start and during
    /// shutdown), for `/readyz`.
    pub ready: Arc<AtomicBool>,
}

/// Sensor sessions with at least one open ingest stream.
#[derive(Default)]
pub struct ConnectedSensors {
    streams: Mutex<HashMap<String, usize>>,
}

/// Keeps a session counted as connected while it lives.
pub struct ConnectedGuard {
    sensors: Arc<ConnectedSensors>,
    session_id: String,
}

impl ConnectedSensors {
    /// Counts one more open stream for `session_id` until the guard drops.
    pub fn connect(self: &Arc<Self>, session_id: &str) -> ConnectedGuard {
        if let Ok(mut streams) = self.streams.lock() {
            *streams.entry(session_id.to_string()).or_default() += 1;
        }
        ConnectedGuard { sensors: Arc::clone(self), session_id: session_id.to_string() }
    }

    /// Whether `session_id` has an open stream.
    pub fn is_connected(&self, session_id: &str) -> bool {
        self.streams.lock().map(|streams| streams.contains_key(session_id)).unwrap_or(false)
    }

    /// Number of sessions with an open stream.
    pub fn count(&self) -> usize {
        self.streams.lock().map(|streams| streams.len()).unwrap_or(0)
    }
}

impl ConnectedGuard {
    /// The session this guard counts.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

impl Drop for ConnectedGuard {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.sensors.streams.lock()
            && let Some(count) = streams.get_mut(&self.session_id)
        {
            *count -= 1;
            if *count == 0 {
                streams.remove(&self.session_id);
            }
        }
    }
}

/// Counts a live gauge up while it lives.
pub struct GaugeGuard<'a>(&'a AtomicU64);

impl<'a> GaugeGuard<'a> {
    /// Increments `gauge` until dropped.
    pub fn new(gauge: &'a AtomicU64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
