//! Losses are counted and shown, never silent: with a tiny kernel ring
//! buffer and a stalled sensor, the kernel programs drop events; the sensor
//! reports the exact count on /metrics, the aggregator counts it in its
//! status, and a subscriber receives a LostEvent saying so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use proto::v1::{LostEventSource, get_flows_response::ResponseTypes};
use tests::{Aggregator, PeerServer, Sensor, TempDir, collect_until, follow, metric, root_or_skip, run_client};

#[tokio::test(flavor = "multi_thread")]
async fn kernel_ring_buffer_overflow_is_counted_and_streamed() {
    if !root_or_skip("kernel_ring_buffer_overflow_is_counted_and_streamed") {
        return;
    }
    let data = TempDir::new("e2e-losses");
    let aggregator = Aggregator::start(data.0.clone());
    // One page of ring buffer holds about 30 connection events.
    let sensor = Sensor::start(&aggregator.url(), &["--ring-buffer-bytes", "4096"]);
    let mut subscription = follow(&aggregator, vec![]).await;

    // Stall the sensor so nothing drains the ring, then make 100
    // connections (400 events).
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(sensor.process.pid() as i32, libc::SIGSTOP) };
    let mut server = PeerServer::start("127.0.0.1:0", 10, 10, 100);
    let target = format!("127.0.0.1:{}", server.port);
    tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            run_client(&target, 10, 10);
        }
    })
    .await
    .unwrap();
    server.process.child.wait().unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(sensor.process.pid() as i32, libc::SIGCONT) };

    let responses = collect_until(&mut subscription, Duration::from_secs(20), |seen| {
        seen.iter().any(|r| matches!(&r.response_types, Some(ResponseTypes::LostEvents(_))))
    })
    .await;
    let lost: Vec<_> = responses
        .iter()
        .filter_map(|r| match &r.response_types {
            Some(ResponseTypes::LostEvents(lost)) => Some(lost.clone()),
            _ => None,
        })
        .collect();
    assert!(!lost.is_empty(), "a LostEvent reached the subscriber");
    assert_eq!(lost[0].source, LostEventSource::KernelRingBuffer as i32);
    assert!(!lost[0].node_name.is_empty());

    // Let the counters settle, then compare the three views of the loss.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kernel_lost = metric(&sensor.metrics(), "dataflow_sensor_kernel_events_lost_total").unwrap();
    assert!(kernel_lost > 0, "the kernel dropped events");
    let delivered = metric(&sensor.metrics(), "dataflow_sensor_kernel_events_total").unwrap();
    assert!(delivered + kernel_lost >= 400, "every event is either delivered or counted: {delivered} + {kernel_lost}");
    let streamed: u64 = lost.iter().map(|l| l.num_events_lost).sum();
    let more = collect_until(&mut subscription, Duration::from_millis(500), |_| false).await;
    let streamed = streamed
        + more
            .iter()
            .filter_map(|r| match &r.response_types {
                Some(ResponseTypes::LostEvents(l)) if l.source == LostEventSource::KernelRingBuffer as i32 => Some(l.num_events_lost),
                _ => None,
            })
            .sum::<u64>();
    assert_eq!(streamed, kernel_lost, "the stream reports exactly what the kernel lost");
    assert_eq!(aggregator.status().await.lost_events, kernel_lost);
}
