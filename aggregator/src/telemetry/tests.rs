#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use super::*;

#[test]
fn rate_window_averages_over_the_last_minute() {
    let mut window = RateWindow::default();
    window.add(0, 600);
    window.add(59, 600);
    // Both seconds are inside the window that ends at second 59.
    assert_eq!(window.rate(59, Duration::from_secs(60)), 20.0);
    // At second 60, second 0 has left the window.
    assert_eq!(window.rate(60, Duration::from_secs(61)), 10.0);
    // A slot reused for a later second starts from zero.
    window.add(120, 60);
    assert_eq!(window.rate(120, Duration::from_secs(121)), 1.0);
}

#[test]
fn rate_window_divides_by_elapsed_time_when_younger_than_a_minute() {
    let mut window = RateWindow::default();
    window.add(0, 100);
    window.add(1, 100);
    assert_eq!(window.rate(1, Duration::from_secs(2)), 100.0);
}

#[test]
fn prometheus_text_has_every_family_and_reason() {
    let metrics = Metrics::new();
    metrics.reject(RejectReason::TooLarge);
    metrics.add_lost(LostEventSource::KernelRingBuffer, 7);
    metrics.record_commit(Duration::from_millis(3), 2, 10);
    let text = metrics.render_prometheus(10, 3, 1);
    assert!(text.contains("aggregator_rejected_batches_total{reason=\"too_large\"} 1"));
    assert!(text.contains("aggregator_lost_events_total{source=\"kernel_ring_buffer\"} 7"));
    assert!(text.contains("aggregator_ingested_flows_total 10"));
    assert!(text.contains("aggregator_store_commit_seconds_bucket{le=\"0.005\"} 1"));
    assert!(text.contains("aggregator_store_commit_seconds_bucket{le=\"0.0025\"} 0"));
    assert!(text.contains("aggregator_store_commit_seconds_count 1"));
    assert!(text.contains("aggregator_connected_sensors 1"));
    assert!(text.contains("aggregator_stored_accesses 3"));
    metrics.add_lost(LostEventSource::SensorAccessBuffer, 2);
    let text = metrics.render_prometheus(10, 3, 1);
    assert!(text.contains("aggregator_lost_events_total{source=\"sensor_access_buffer\"} 2"));
    assert!(text.contains("aggregator_lost_events_total{source=\"kernel_payloads\"} 0"));
    assert_eq!(metrics.rejected_total(), 1);
    assert_eq!(metrics.lost_total(), 9);
}
