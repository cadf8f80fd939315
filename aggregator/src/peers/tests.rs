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
    for result in LookupResult::ALL {
        assert_eq!((peers.flow_lookups(result), peers.access_lookups(result)), (0, 0));
    }
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

fn holder(since_unix_nano: Option<u64>) -> Holder {
    Holder {
        workload: Workload { namespace: "shop".into(), name: "worker".into(), ..Workload::default() },
        since_unix_nano,
    }
}

#[test]
fn a_connection_older_than_the_pod_holding_the_address_went_to_an_earlier_holder() {
    let created = 1_762_164_000_000_000_000;
    let second = 1_000_000_000;
    let pod = holder(Some(created));
    assert_eq!(pod.at(created + second).map(|workload| workload.name.as_str()), Ok("worker"));
    assert!(pod.at(created).is_ok());
    assert!(pod.at(created - second).is_ok(), "whole-second creation times and clock drift are tolerated");
    assert_eq!(pod.at(created - 3 * second), Err(LookupResult::EarlierHolder));
    assert!(pod.at(0).is_ok(), "no time: the current holder");
    assert!(holder(None).at(1).is_ok(), "no creation time: the current holder");
}
