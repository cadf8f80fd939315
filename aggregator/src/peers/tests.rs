#![allow(clippy::unwrap_used, clippy::expect_used)]

use proto::v1::{DataAccess, Endpoint, Flow};

use super::*;

#[tokio::test]
async fn without_kubernetes_batches_pass_unchanged_and_nothing_is_counted() {
    let peers = PeerNames::start(&KubernetesApi::Off).await.unwrap();
    assert!(!peers.is_enabled());
    let mut batch = SensorBatch {
        flows: vec![Flow {
            remote: Some(Endpoint {
                ip: "10.244.1.15".into(),
                port: 5432,
            }),
            ..Flow::default()
        }],
        accesses: vec![DataAccess {
            server: Some(Endpoint {
                ip: "10.244.1.15".into(),
                port: 5432,
            }),
            ..DataAccess::default()
        }],
        ..SensorBatch::default()
    };
    let before = batch.clone();
    peers.annotate(&mut batch);
    assert_eq!(batch, before);
    assert_eq!(peers.flow_lookups(), (0, 0));
    assert_eq!(peers.access_lookups(), (0, 0));
    let mut metrics = String::new();
    peers.render_prometheus(&mut metrics);
    assert!(
        metrics.contains("aggregator_peer_lookups_total{record=\"flow\",result=\"resolved\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("aggregator_kubernetes_synced 0"),
        "{metrics}"
    );
}

#[test]
fn an_unusable_api_url_is_an_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(PeerNames::start(&KubernetesApi::Url("not a url".into())));
    assert!(matches!(result, Err(PeersError::Kubernetes(_))));
}
