//! Residency host names over real gRPC into a real store: a datastore whose
//! address a configured name resolves to is placed in that name's region
//! (TRANSFER findings say so), answers that change are followed at the next
//! refresh while stored findings keep their places, failed lookups are
//! counted and never stop the aggregator, and the system resolver places
//! `localhost`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use proto::v1::get_findings_response::ResponseTypes as FindingResponseTypes;
use proto::v1::{DataAccess, Finding, FindingKind, GetFindingsRequest, Node, SensorBatch, ValueSignals};
use residency::Resolver;

/// The VPC is in Frankfurt; the managed database, reached at an address in
/// it, is named as being in N. Virginia.
const RESIDENCY: &str = r#"
[[network]]
cidr = "10.50.0.0/16"
region = "eu-central-1"

[[host]]
name = "orders-db.example.com"
region = "us-east-1"

[[host]]
name = "gone.example.com"
region = "us-east-1"
"#;

/// Answers from a table the test changes; unknown names fail.
#[derive(Debug, Default)]
struct FakeResolver {
    answers: Mutex<HashMap<String, Vec<IpAddr>>>,
}

impl FakeResolver {
    fn answer(&self, host: &str, addresses: &[&str]) {
        let addresses = addresses.iter().map(|text| text.parse().unwrap()).collect();
        self.answers.lock().unwrap().insert(host.to_string(), addresses);
    }
}

impl Resolver for FakeResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.answers
            .lock()
            .unwrap()
            .get(host)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "Name or service not known"))
    }
}

async fn start_with(dir: &Path, residency: &str, resolver: Option<Arc<dyn Resolver>>) -> aggregator::RunningServer {
    let mut config = config(dir);
    let path = dir.join("residency.toml");
    std::fs::write(&path, residency).unwrap();
    config.residency_file = Some(path);
    config.residency_refresh = Duration::from_secs(1);
    if let Some(resolver) = resolver {
        config.host_resolver = resolver;
    }
    aggregator::start(config).await.expect("server starts")
}

fn signals(sampled: u32, matches: &[(&str, u32)]) -> Option<ValueSignals> {
    Some(ValueSignals {
        sampled,
        empty: 0,
        matches: matches.iter().map(|(name, count)| (name.to_string(), *count)).collect(),
    })
}

/// `workload` reading customers.email and customers.card_number from `server`.
fn customer_read(time: u64, workload: &str, server: &str) -> DataAccess {
    let mut access = access(time, workload, 11, (server, 5432), "public.customers", &["email", "card_number"], false);
    access.columns[0].signals = signals(5, &[("email", 5)]);
    access.columns[1].signals = signals(5, &[("credit_card", 5)]);
    access
}

fn node_batch(session: &str, sequence: u64, region: &str, accesses: Vec<DataAccess>) -> SensorBatch {
    let mut batch = access_batch(session, sequence, &format!("node-{session}"), accesses);
    batch.node = Some(Node { name: format!("node-{session}"), region: region.into(), zone: format!("{region}a") });
    batch
}

async fn transfers(server: &aggregator::RunningServer) -> Vec<Finding> {
    let mut stream = observer(server).await.get_findings(GetFindingsRequest::default()).await.unwrap().into_inner();
    let mut found = Vec::new();
    while let Some(response) = stream.message().await.unwrap() {
        if let Some(FindingResponseTypes::Finding(finding)) = response.response_types
            && finding.kind() == FindingKind::Transfer
        {
            found.push(finding);
        }
    }
    found
}

async fn metrics(server: &aggregator::RunningServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.http_address().unwrap()).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datastore_named_in_another_region_is_a_transfer_and_answers_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = Arc::new(FakeResolver::default());
    resolver.answer("orders-db.example.com", &["10.50.0.9"]);
    let server = start_with(dir.path(), RESIDENCY, Some(resolver.clone())).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "checkout", "10.50.0.9")])).await.unwrap();

    // Looked up at start: the name is more specific than the VPC's range.
    let found = transfers(&server).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let transfer = &found[0];
    assert_eq!(transfer.direction, "eu-central-1 → us-east-1");
    let to = transfer.destination_place.as_ref().unwrap();
    assert_eq!((to.region.as_str(), to.country.as_str(), to.placed_by.as_str()), ("us-east-1", "US", "override"));
    assert_eq!(to.override_entry, "host name orders-db.example.com (resolved 10.50.0.9)");
    assert!(
        transfer.explanation.contains(
            "in region us-east-1 (United States, adequacy decision), placed by host name orders-db.example.com \
             (resolved 10.50.0.9)."
        ),
        "{}",
        transfer.explanation
    );
    // A name that does not resolve is counted, not fatal.
    let text = metrics(&server).await;
    assert!(metric(&text, "aggregator_residency_host_lookups_total") >= 2, "{text}");
    assert!(metric(&text, "aggregator_residency_host_lookup_failures_total") >= 1, "{text}");
    assert_eq!(metric(&text, "aggregator_residency_host_addresses"), 1, "{text}");
    assert_eq!(metric(&text, "aggregator_residency_hosts_unresolved"), 1, "{text}");

    // The database fails over to another address; the next refresh follows.
    resolver.answer("orders-db.example.com", &["10.50.0.10"]);
    let moved: IpAddr = "10.50.0.10".parse().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while server.context().locator.locate_ip(moved).map(|place| place.region).as_deref() != Some("us-east-1") {
        assert!(tokio::time::Instant::now() < deadline, "the refresh did not follow the new answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sensor
        .send(node_batch(
            "s1",
            2,
            "eu-central-1",
            vec![customer_read(2_000, "billing", "10.50.0.9"), customer_read(3_000, "billing", "10.50.0.10")],
        ))
        .await
        .unwrap();
    let found = transfers(&server).await;
    assert_eq!(found.len(), 2, "the old address is back in the VPC's region: {found:#?}");
    let billing = found.iter().find(|finding| finding.source == "billing").unwrap();
    assert_eq!(billing.destination, "10.50.0.10:5432");
    assert_eq!(
        billing.destination_place.as_ref().unwrap().override_entry,
        "host name orders-db.example.com (resolved 10.50.0.10)"
    );
    // The stored finding keeps the place it was given.
    let checkout = found.iter().find(|finding| finding.source == "checkout").unwrap();
    assert_eq!(checkout.destination_place.as_ref().unwrap().override_entry, to.override_entry);
    server.shutdown().await.unwrap();
}

/// The operating system's resolver: `localhost` is in /etc/hosts, so this
/// works offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_resolver_places_a_datastore_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let residency = "[[host]]\nname = \"localhost\"\nregion = \"us-east-1\"\n";
    let server = start_with(dir.path(), residency, None).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "checkout", "127.0.0.1")])).await.unwrap();
    let found = transfers(&server).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].direction, "eu-central-1 → us-east-1");
    assert_eq!(
        found[0].destination_place.as_ref().unwrap().override_entry,
        "host name localhost (resolved 127.0.0.1)"
    );
    let text = metrics(&server).await;
    assert_eq!(metric(&text, "aggregator_residency_host_lookup_failures_total"), 0, "{text}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_host_stops_the_start_with_what_to_do_instead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("residency.toml");
    std::fs::write(&path, "[[host]]\nname = \"*.rds.amazonaws.com\"\nregion = \"us-east-1\"\n").unwrap();
    let mut config = config(dir.path());
    config.residency_file = Some(path);
    let error = aggregator::start(config).await.err().expect("refused").to_string();
    assert!(error.contains("residency.toml:1:1") && error.contains("wildcards are not supported"), "{error}");
}
