//! Counters, gauges and the commit-latency histogram of the aggregator, and
//! their Prometheus text rendering for `/metrics`.
//!
//! Every way a flow or a batch can be dropped has its own counter, so no loss
//! is silent: rejected batches by reason, lost events by source.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proto::v1::{FindingKind, LostEventSource};

#[cfg(test)]
mod tests;

/// Why a batch or a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// Decoded, but a field is missing or out of bounds.
    Invalid,
    /// The bytes on the stream were not a protobuf message of the right type.
    Undecodable,
    /// The message was larger than `--max-message-bytes`.
    TooLarge,
}

impl RejectReason {
    const ALL: [RejectReason; 3] = [Self::Invalid, Self::Undecodable, Self::TooLarge];

    fn index(self) -> usize {
        match self {
            Self::Invalid => 0,
            Self::Undecodable => 1,
            Self::TooLarge => 2,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Undecodable => "undecodable",
            Self::TooLarge => "too_large",
        }
    }
}

/// Lost-event sources in the order of their protobuf numbers.
const LOST_SOURCES: [LostEventSource; 7] = [
    LostEventSource::Unknown,
    LostEventSource::KernelRingBuffer,
    LostEventSource::SensorBuffer,
    LostEventSource::SensorDecode,
    LostEventSource::SubscriberQueue,
    LostEventSource::KernelPayloads,
    LostEventSource::SensorAccessBuffer,
];

fn lost_source_label(source: LostEventSource) -> &'static str {
    match source {
        LostEventSource::Unknown => "unknown",
        LostEventSource::KernelRingBuffer => "kernel_ring_buffer",
        LostEventSource::SensorBuffer => "sensor_buffer",
        LostEventSource::SensorDecode => "sensor_decode",
        LostEventSource::SubscriberQueue => "subscriber_queue",
        LostEventSource::KernelPayloads => "kernel_payloads",
        LostEventSource::SensorAccessBuffer => "sensor_access_buffer",
    }
}

/// Upper bounds, in seconds, of the commit-latency histogram buckets.
const COMMIT_BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A fixed-bucket latency histogram with lock-free updates.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in COMMIT_BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Flows counted in one-second buckets over the last minute, to report a rate
/// that follows the current load rather than the average since start.
#[derive(Debug)]
pub struct RateWindow {
    /// `(second, flows)` per slot; the slot of second `s` is `s % 60`.
    slots: [(u64, u64); RateWindow::SECONDS as usize],
}

impl Default for RateWindow {
    fn default() -> Self {
        Self { slots: [(u64::MAX, 0); Self::SECONDS as usize] }
    }
}

impl RateWindow {
    /// Length of the window.
    pub const SECONDS: u64 = 60;

    /// Adds `flows` to the bucket of `second` (seconds since start).
    pub fn add(&mut self, second: u64, flows: u64) {
        let slot = &mut self.slots[(second % Self::SECONDS) as usize];
        if slot.0 != second {
            *slot = (second, 0);
        }
        slot.1 += flows;
    }

    /// Flows per second over the last minute before `second`, counting only
    /// the seconds that have elapsed since start when that is less.
    pub fn rate(&self, second: u64, elapsed: Duration) -> f64 {
        let oldest = second.saturating_sub(Self::SECONDS - 1);
        let total: u64 = self
            .slots
            .iter()
            .filter(|(slot_second, _)| *slot_second != u64::MAX && (oldest..=second).contains(slot_second))
            .map(|(_, flows)| flows)
            .sum();
        let window = elapsed.as_secs_f64().clamp(1.0, Self::SECONDS as f64);
        total as f64 / window
    }
}

/// All counters of one aggregator process.
pub struct Metrics {
    started: Instant,
    /// Batches stored (not counting duplicates).
    pub ingested_batches: AtomicU64,
    /// Flows stored by this process.
    pub ingested_flows: AtomicU64,
    /// Data accesses stored by this process.
    pub ingested_accesses: AtomicU64,
    /// Batches acknowledged again because their sequence was already stored.
    pub duplicate_batches: AtomicU64,
    rejected: [AtomicU64; RejectReason::ALL.len()],
    lost: [AtomicU64; LOST_SOURCES.len()],
    /// Open `GetFlows` and `GetDataAccesses` streams.
    pub subscribers: AtomicU64,
    /// Open ingest streams.
    pub ingest_streams: AtomicU64,
    /// Transactions that failed; their batches were not acknowledged.
    pub store_errors: AtomicU64,
    commit_latency: Histogram,
    rate: Mutex<RateWindow>,
    /// Findings created, by kind (in [`FINDING_KINDS`] order).
    findings_created: [AtomicU64; FINDING_KINDS.len()],
    /// Columns classified, or classified again because the result changed.
    pub columns_classified: AtomicU64,
    /// Value-signal counts ignored because their validator name is unknown
    /// to this aggregator's classifier.
    pub unknown_signal_validators: AtomicU64,
    /// Lookups of residency host names.
    pub host_lookups: AtomicU64,
    /// Lookups of residency host names that failed.
    pub host_lookup_failures: AtomicU64,
    /// Addresses placed by residency host names after the last refresh.
    pub host_addresses: AtomicU64,
    /// Residency host names that place no address after the last refresh.
    pub hosts_unresolved: AtomicU64,
    /// Addresses that residency host names of different regions resolve to.
    pub host_address_conflicts: AtomicU64,
}

/// Finding kinds with their metric label.
const FINDING_KINDS: [(FindingKind, &str); 6] = [
    (FindingKind::Unknown, "unknown"),
    (FindingKind::Transfer, "transfer"),
    (FindingKind::NewFlow, "new_flow"),
    (FindingKind::FirstPersonalDataRead, "first_personal_data_read"),
    (FindingKind::NewSensitiveColumn, "new_sensitive_column"),
    (FindingKind::NewRegion, "new_region"),
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Counters at zero, with the uptime clock starting now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            ingested_batches: AtomicU64::new(0),
            ingested_flows: AtomicU64::new(0),
            ingested_accesses: AtomicU64::new(0),
            duplicate_batches: AtomicU64::new(0),
            rejected: Default::default(),
            lost: Default::default(),
            subscribers: AtomicU64::new(0),
            ingest_streams: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            commit_latency: Histogram::default(),
            rate: Mutex::new(RateWindow::default()),
            findings_created: Default::default(),
            columns_classified: AtomicU64::new(0),
            unknown_signal_validators: AtomicU64::new(0),
            host_lookups: AtomicU64::new(0),
            host_lookup_failures: AtomicU64::new(0),
            host_addresses: AtomicU64::new(0),
            hosts_unresolved: AtomicU64::new(0),
            host_address_conflicts: AtomicU64::new(0),
        }
    }

    /// Counts one finding created.
    pub fn finding_created(&self, kind: FindingKind) {
        let index = FINDING_KINDS.iter().position(|(known, _)| *known == kind).unwrap_or(0);
        self.findings_created[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Findings of `kind` created by this process.
    pub fn findings_created(&self, kind: FindingKind) -> u64 {
        let index = FINDING_KINDS.iter().position(|(known, _)| *known == kind).unwrap_or(0);
        self.findings_created[index].load(Ordering::Relaxed)
    }

    /// Time since the process started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts one refused batch or request.
    pub fn reject(&self, reason: RejectReason) {
        self.rejected[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Refused batches and requests, all reasons.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().map(|counter| counter.load(Ordering::Relaxed)).sum()
    }

    /// Counts events lost at `source`.
    pub fn add_lost(&self, source: LostEventSource, events: u64) {
        let index = LOST_SOURCES.iter().position(|known| *known == source).unwrap_or(0);
        self.lost[index].fetch_add(events, Ordering::Relaxed);
    }

    /// Events lost at `source` since start.
    pub fn lost(&self, source: LostEventSource) -> u64 {
        let index = LOST_SOURCES.iter().position(|known| *known == source).unwrap_or(0);
        self.lost[index].load(Ordering::Relaxed)
    }

    /// Events lost anywhere since start.
    pub fn lost_total(&self) -> u64 {
        self.lost.iter().map(|counter| counter.load(Ordering::Relaxed)).sum()
    }

    /// Records one committed transaction.
    pub fn record_commit(&self, elapsed: Duration, batches: u64, flows: u64) {
        self.commit_latency.observe(elapsed);
        self.ingested_batches.fetch_add(batches, Ordering::Relaxed);
        self.ingested_flows.fetch_add(flows, Ordering::Relaxed);
        let second = self.started.elapsed().as_secs();
        if let Ok(mut rate) = self.rate.lock() {
            rate.add(second, flows);
        }
    }

    /// Flows stored per second over the last minute.
    pub fn flows_rate(&self) -> f64 {
        let elapsed = self.started.elapsed();
        self.rate.lock().map(|rate| rate.rate(elapsed.as_secs(), elapsed)).unwrap_or(0.0)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    /// The gauges passed in are owned elsewhere.
    pub fn render_prometheus(&self, stored_flows: u64, stored_accesses: u64, connected_sensors: u64) -> String {
        let mut out = String::with_capacity(4096);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        counter(&mut out, "aggregator_ingested_batches_total", "Sensor batches stored.", load(&self.ingested_batches));
        counter(&mut out, "aggregator_ingested_flows_total", "Flows stored by this process.", load(&self.ingested_flows));
        counter(
            &mut out,
            "aggregator_ingested_accesses_total",
            "Data accesses stored by this process.",
            load(&self.ingested_accesses),
        );
        counter(
            &mut out,
            "aggregator_duplicate_batches_total",
            "Batches acknowledged again without being stored because their sequence was already stored.",
            load(&self.duplicate_batches),
        );
        header(&mut out, "aggregator_rejected_batches_total", "Batches and requests refused as malformed.", "counter");
        for reason in RejectReason::ALL {
            let _ = writeln!(
                out,
                "aggregator_rejected_batches_total{{reason=\"{}\"}} {}",
                reason.label(),
                load(&self.rejected[reason.index()])
            );
        }
        header(
            &mut out,
            "aggregator_lost_events_total",
            "Events lost, by where they were lost (sensor counters and subscriber queues).",
            "counter",
        );
        for (index, source) in LOST_SOURCES.iter().enumerate().skip(1) {
            let _ = writeln!(
                out,
                "aggregator_lost_events_total{{source=\"{}\"}} {}",
                lost_source_label(*source),
                load(&self.lost[index])
            );
        }
        counter(
            &mut out,
            "aggregator_subscriber_lost_flows_total",
            "Flows and data accesses subscribers missed because their queue overflowed.",
            self.lost(LostEventSource::SubscriberQueue),
        );
        counter(
            &mut out,
            "aggregator_store_errors_total",
            "Store transactions that failed; their batches were not acknowledged.",
            load(&self.store_errors),
        );
        header(&mut out, "aggregator_findings_created_total", "Findings created, by kind.", "counter");
        for (index, (_, label)) in FINDING_KINDS.iter().enumerate().skip(1) {
            let _ = writeln!(
                out,
                "aggregator_findings_created_total{{kind=\"{label}\"}} {}",
                load(&self.findings_created[index])
            );
        }
        counter(
            &mut out,
            "aggregator_columns_classified_total",
            "Inventory columns classified, or classified again because new value signals or rules changed the result.",
            load(&self.columns_classified),
        );
        counter(
            &mut out,
            "aggregator_unknown_signal_validators_total",
            "Value-signal counts ignored because their validator name is unknown to the classifier.",
            load(&self.unknown_signal_validators),
        );
        counter(
            &mut out,
            "aggregator_residency_host_lookups_total",
            "Lookups of the residency file's host names (at start and every refresh).",
            load(&self.host_lookups),
        );
        counter(
            &mut out,
            "aggregator_residency_host_lookup_failures_total",
            "Lookups of residency host names that failed or timed out; the name keeps its last answer for up to an hour.",
            load(&self.host_lookup_failures),
        );
        gauge(
            &mut out,
            "aggregator_residency_host_addresses",
            "Addresses placed by residency host names after the last refresh.",
            load(&self.host_addresses),
        );
        gauge(
            &mut out,
            "aggregator_residency_hosts_unresolved",
            "Residency host names that place no address after the last refresh.",
            load(&self.hosts_unresolved),
        );
        gauge(
            &mut out,
            "aggregator_residency_host_address_conflicts",
            "Addresses that residency host names of different regions resolve to, placed by none of them.",
            load(&self.host_address_conflicts),
        );
        gauge(&mut out, "aggregator_stored_flows", "Flows in the store, all time.", stored_flows);
        gauge(&mut out, "aggregator_stored_accesses", "Data accesses in the store, all time.", stored_accesses);
        gauge(&mut out, "aggregator_connected_sensors", "Sensor sessions with an open ingest stream.", connected_sensors);
        gauge(&mut out, "aggregator_ingest_streams", "Open ingest streams.", load(&self.ingest_streams));
        gauge(&mut out, "aggregator_subscribers", "Open GetFlows and GetDataAccesses streams.", load(&self.subscribers));
        gauge(&mut out, "aggregator_uptime_seconds", "Seconds since the aggregator started.", self.uptime().as_secs());

        header(
            &mut out,
            "aggregator_store_commit_seconds",
            "Time to commit one store transaction (a group of batches).",
            "histogram",
        );
        let histogram = &self.commit_latency;
        for (bound, bucket) in COMMIT_BUCKETS.iter().zip(&histogram.buckets) {
            let _ = writeln!(out, "aggregator_store_commit_seconds_bucket{{le=\"{bound}\"}} {}", load(bucket));
        }
        let count = load(&histogram.count);
        let _ = writeln!(out, "aggregator_store_commit_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "aggregator_store_commit_seconds_sum {}",
            load(&histogram.sum_nanos) as f64 / 1e9
        );
        let _ = writeln!(out, "aggregator_store_commit_seconds_count {count}");
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, help, "counter");
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {value}");
}
