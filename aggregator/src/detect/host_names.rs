//! Looks up the residency file's host names at start and every refresh
//! interval, so that peers are placed by the addresses the names resolve to
//! now.
//!
//! Sensors report peers by address: a `[[host]]` name places a peer only
//! through its DNS answer. Every name is looked up concurrently on the
//! blocking pool (the system resolver blocks), each with a time limit, and
//! the answers replace the previous ones in the locator shared by the
//! detector and the report ([`residency::Locator::apply_host_answers`]):
//! an address a name no longer resolves to stops being placed by it, while
//! findings already stored keep the places they were given. A failed lookup
//! is logged and counted, never fatal; the name keeps its last answer for up
//! to [`residency::STALE_ANSWER_LIMIT`].

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use residency::{HostRefresh, Locator, Resolver};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::telemetry::Metrics;

/// How often host names are looked up again by default.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The shortest refresh interval accepted: lookups must not hammer the resolver.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);
/// How long one lookup may take before it counts as failed.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Looks every host name of `locator` up once and applies the answers;
/// logs what changed and counts it in `metrics`.
pub async fn refresh(locator: &Locator, resolver: &Arc<dyn Resolver>, metrics: &Metrics) -> HostRefresh {
    let mut lookups = JoinSet::new();
    for (name, _) in locator.host_names() {
        let name = name.to_string();
        let resolver = Arc::clone(resolver);
        lookups.spawn(async move {
            let lookup = tokio::task::spawn_blocking({
                let name = name.clone();
                move || resolver.resolve(&name)
            });
            let result = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                Ok(Ok(result)) => result,
                Ok(Err(error)) => Err(io::Error::other(format!("the lookup failed: {error}"))),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs()),
                )),
            };
            (name, result)
        });
    }
    let mut answers: HashMap<String, io::Result<Vec<IpAddr>>> = HashMap::new();
    while let Some(joined) = lookups.join_next().await {
        // A lookup task that did not finish has no answer: it counts as failed.
        if let Ok((name, result)) = joined {
            answers.insert(name, result);
        }
    }
    let refresh = locator.apply_host_answers(answers, Instant::now());
    record(&refresh, metrics);
    refresh
}

fn record(refresh: &HostRefresh, metrics: &Metrics) {
    metrics.host_lookups.fetch_add(refresh.looked_up as u64, Ordering::Relaxed);
    metrics.host_lookup_failures.fetch_add(refresh.failures.len() as u64, Ordering::Relaxed);
    metrics.host_addresses.store(refresh.placed_addresses as u64, Ordering::Relaxed);
    metrics.hosts_unresolved.store(refresh.unresolved.len() as u64, Ordering::Relaxed);
    metrics.host_address_conflicts.store(refresh.conflicts.len() as u64, Ordering::Relaxed);
    for failure in &refresh.failures {
        tracing::warn!(
            host = %failure.name,
            error = %failure.error,
            kept_addresses = ?failure.kept_addresses,
            "residency host name lookup failed"
        );
    }
    for (host, address) in &refresh.added {
        tracing::info!(%host, %address, "residency host name now places address");
    }
    for (host, address) in &refresh.removed {
        tracing::info!(%host, %address, "residency host name no longer places address");
    }
    for (address, hosts) in &refresh.conflicts {
        tracing::warn!(
            %address,
            ?hosts,
            "residency host names of different regions resolve to one address; no name places it"
        );
    }
    let answered_empty =
        refresh.unresolved.iter().filter(|host| !refresh.failures.iter().any(|failure| failure.name == **host));
    for host in answered_empty {
        tracing::warn!(%host, "residency host name resolves to no address");
    }
}

/// Looks the host names of `locator` up now, then every `interval` until
/// `shutdown`; returns once the first lookups are done (each is bounded), so
/// that the first batches are placed by them. `None` when no host name is
/// configured.
pub async fn start(
    locator: Locator,
    resolver: Arc<dyn Resolver>,
    interval: Duration,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let names = locator.host_names().count();
    if names == 0 {
        return None;
    }
    let interval = interval.max(MIN_REFRESH_INTERVAL);
    let first = refresh(&locator, &resolver, &metrics).await;
    tracing::info!(
        names,
        addresses = first.placed_addresses,
        failed = first.failures.len(),
        refresh_seconds = interval.as_secs(),
        "residency host names looked up"
    );
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stopped = async move {
            // An error means the sender is gone, which is a shutdown too.
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    refresh(&locator, &resolver, &metrics).await;
                }
                () = &mut stopped => break,
            }
        }
    }))
}
