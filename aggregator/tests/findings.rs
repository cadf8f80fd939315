//! Findings over real gRPC into a real SQLite file: column classification
//! from names and value signals, places from node regions and residency
//! overrides, TRANSFER and drift findings, `Observer.GetFindings` (filters,
//! follow, restart), the `findings` command, and start-up errors for bad
//! `--rules` / `--residency` files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use aggregator::store::DATABASE_FILE;
use common::*;
use proto::v1::get_findings_response::ResponseTypes as FindingResponseTypes;
use proto::v1::{
    ColumnType, DataAccess, Finding, FindingFilter, FindingKind, GetFindingsRequest, GetInventoryRequest, InventoryColumn, Node,
    SensorBatch, Severity, TransferClass, ValueSignals,
};

/// Places 10.50.0.0/16 in us-east-1 and 10.60.0.0/16 in eu-central-1.
const RESIDENCY: &str = r#"
[[network]]
cidr = "10.50.0.0/16"
region = "us-east-1"

[[network]]
cidr = "10.60.0.0/16"
region = "eu-central-1"
"#;

const FINGERPRINT: &str = "SELECT email, card_number FROM customers WHERE id = ?";

async fn start_with(dir: &Path, residency: Option<&str>, rules: Option<&str>) -> aggregator::RunningServer {
    let mut config = config(dir);
    if let Some(text) = residency {
        let path = dir.join("residency.toml");
        std::fs::write(&path, text).unwrap();
        config.residency_file = Some(path);
    }
    if let Some(text) = rules {
        let path = dir.join("rules.toml");
        std::fs::write(&path, text).unwrap();
        config.rules_file = Some(path);
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

/// `checkout` reading customers.email and customers.card_number from `server`.
fn customer_read(time: u64, server: &str) -> DataAccess {
    let mut access = access(time, "checkout", 11, (server, 5432), "public.customers", &["email", "card_number"], false);
    access.fingerprint = FINGERPRINT.into();
    access.fingerprint_id = 0xfeed;
    access.columns[0].signals = signals(5, &[("email", 5), ("galactic_id", 1)]);
    access.columns[1].signals = signals(5, &[("credit_card", 5)]);
    access
}

fn node_batch(session: &str, sequence: u64, region: &str, accesses: Vec<DataAccess>) -> SensorBatch {
    let mut batch = access_batch(session, sequence, &format!("node-{session}"), accesses);
    batch.node = Some(Node { name: format!("node-{session}"), region: region.into(), zone: format!("{region}a") });
    batch
}

async fn get_findings(server: &aggregator::RunningServer, request: GetFindingsRequest) -> Vec<Finding> {
    let mut stream = observer(server).await.get_findings(request).await.unwrap().into_inner();
    let mut findings = Vec::new();
    while let Some(response) = stream.message().await.unwrap() {
        if let Some(FindingResponseTypes::Finding(finding)) = response.response_types {
            findings.push(finding);
        }
    }
    findings
}

async fn all_findings(server: &aggregator::RunningServer) -> Vec<Finding> {
    get_findings(server, GetFindingsRequest::default()).await
}

fn of_kind(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|finding| finding.kind() == kind).collect()
}

fn filtered(filter: FindingFilter) -> GetFindingsRequest {
    GetFindingsRequest { filter: Some(filter), ..Default::default() }
}

async fn columns(server: &aggregator::RunningServer) -> HashMap<String, InventoryColumn> {
    let datastores =
        observer(server).await.get_inventory(GetInventoryRequest::default()).await.unwrap().into_inner().datastores;
    let mut found = HashMap::new();
    for datastore in datastores {
        for database in datastore.databases {
            for table in database.tables {
                for column in table.columns {
                    found.insert(format!("{}.{}", table.name, column.name), column);
                }
            }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eu_workload_reading_card_data_from_a_us_datastore_is_one_transfer_finding() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9")])).await.unwrap();
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![customer_read(2_000, "10.50.0.9")])).await.unwrap();

    let findings = all_findings(&server).await;
    let transfers = of_kind(&findings, FindingKind::Transfer);
    assert_eq!(transfers.len(), 1, "{findings:#?}");
    let transfer = transfers[0];
    assert_eq!(transfer.columns, ["public.customers.card_number", "public.customers.email"]);
    assert_eq!(transfer.categories, ["PCI", "PII"]);
    assert_eq!(transfer.entities, ["CREDIT_CARD", "EMAIL_ADDRESS"]);
    let from = transfer.source_place.as_ref().unwrap();
    let to = transfer.destination_place.as_ref().unwrap();
    assert_eq!((from.region.as_str(), from.country.as_str(), from.jurisdiction.as_str()), ("eu-central-1", "DE", "eu"));
    assert_eq!(from.placed_by, "node");
    assert_eq!((to.region.as_str(), to.country.as_str(), to.jurisdiction.as_str()), ("us-east-1", "US", "adequate"));
    assert_eq!(to.placed_by, "override");
    assert_eq!(transfer.direction, "eu-central-1 → us-east-1");
    assert_eq!(transfer.data_movement, "workload_to_datastore");
    // The built-in table: the EU-US adequacy decision covers only certified recipients.
    assert_eq!(transfer.transfer_class(), TransferClass::ToAdequateCountry);
    assert!(transfer.requires_mechanism);
    assert!(transfer.adequacy.contains("2023-07-10"), "{}", transfer.adequacy);
    assert!(transfer.explanation.contains("Data Privacy Framework"), "{}", transfer.explanation);
    assert_eq!(transfer.severity(), Severity::Medium);
    // Repeats update the one finding.
    assert_eq!((transfer.first_seen_unix_nano, transfer.last_seen_unix_nano, transfer.count), (1_000, 2_000, 4));
    assert_eq!(transfer.evidence.len(), 1);
    assert_eq!(transfer.evidence[0].fingerprint, FINGERPRINT);
    assert_eq!(transfer.evidence[0].fingerprint_id, 0xfeed);
    assert_eq!(transfer.evidence[0].access_id, 1);
    // Identifiers, fingerprints and counts only.
    let everything = format!("{findings:?}");
    assert!(!everything.contains('@') && !everything.contains("4111"), "{everything}");

    let inventory = columns(&server).await;
    let email = inventory["public.customers.email"].classification.as_ref().unwrap();
    assert_eq!((email.entity.as_str(), email.category.as_str()), ("EMAIL_ADDRESS", "PII"));
    assert_eq!(email.sampled_values, 10);
    assert!(!email.rules_version.is_empty() && !email.reasons.is_empty());
    let card = inventory["public.customers.card_number"].classification.as_ref().unwrap();
    assert_eq!((card.entity.as_str(), card.category.as_str()), ("CREDIT_CARD", "PCI"));

    let metrics = metrics(&server).await;
    assert!(metrics.contains("aggregator_findings_created_total{kind=\"transfer\"} 1\n"), "{metrics}");
    // "galactic_id" is no validator of this classifier: counted, ignored.
    assert!(metrics.contains("aggregator_unknown_signal_validators_total 2\n"), "{metrics}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_read_within_one_region_is_no_transfer_and_unknown_places_are_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    // 10.60/16 is placed in eu-central-1, like the node.
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.60.0.9")])).await.unwrap();
    // 10.70.0.9 is placed by nothing: unknown, so no transfer either.
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![customer_read(2_000, "10.70.0.9")])).await.unwrap();
    let findings = all_findings(&server).await;
    assert!(of_kind(&findings, FindingKind::Transfer).is_empty(), "{findings:#?}");
    let pairs = of_kind(&findings, FindingKind::NewFlow);
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0].destination_place.as_ref().unwrap().region, "eu-central-1");
    assert!(pairs[1].destination_place.is_none(), "{:?}", pairs[1]);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_findings_appear_once_with_their_first_seen_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let mut first = node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9")]);
    first.flows = vec![flow(900, "checkout", 11, ("10.9.0.1", 443))];
    sensor.send(first).await.unwrap();
    let mut second = node_batch("s1", 2, "eu-central-1", vec![customer_read(5_000, "10.50.0.9")]);
    second.flows = vec![flow(4_900, "checkout", 11, ("10.9.0.1", 443))];
    sensor.send(second).await.unwrap();
    // A column whose name says nothing, first without values, then with
    // values that pass the card validator: classified again, then sensitive.
    let mut opaque = access(6_000, "billing", 12, ("10.50.0.9", 5432), "public.payments", &["data"], false);
    sensor.send(node_batch("s1", 3, "eu-central-1", vec![opaque.clone()])).await.unwrap();
    assert_eq!(columns(&server).await["public.payments.data"].classification.as_ref().unwrap().category, "");
    opaque.time_unix_nano = 7_000;
    opaque.columns[0].signals = signals(20, &[("credit_card", 20)]);
    sensor.send(node_batch("s1", 4, "eu-central-1", vec![opaque])).await.unwrap();
    assert_eq!(columns(&server).await["public.payments.data"].classification.as_ref().unwrap().category, "PCI");

    let findings = all_findings(&server).await;
    let keys: Vec<&str> = findings.iter().map(|finding| finding.key.as_str()).collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
    let find = |kind: FindingKind, key: &str| {
        let matching: Vec<&Finding> =
            findings.iter().filter(|finding| finding.kind() == kind && finding.key == key).collect();
        assert_eq!(matching.len(), 1, "{kind:?} {key}: {keys:?}");
        matching[0].clone()
    };
    let pair = find(FindingKind::NewFlow, "access|checkout|10.50.0.9:5432");
    assert_eq!((pair.first_seen_unix_nano, pair.last_seen_unix_nano), (1_000, 5_000));
    let edge = find(FindingKind::NewFlow, "flow|checkout|10.9.0.1:443");
    assert_eq!((edge.first_seen_unix_nano, edge.last_seen_unix_nano), (900, 4_900));
    assert_eq!(edge.source_place.as_ref().unwrap().region, "eu-central-1");
    let read = find(FindingKind::FirstPersonalDataRead, "personal-data-read|checkout");
    assert_eq!(read.first_seen_unix_nano, 1_000);
    let billing = find(FindingKind::FirstPersonalDataRead, "personal-data-read|billing");
    assert_eq!((billing.first_seen_unix_nano, billing.categories.as_slice()), (7_000, ["PCI".to_string()].as_slice()));
    for column in ["email", "card_number"] {
        let found =
            find(FindingKind::NewSensitiveColumn, &format!("column|10.50.0.9:5432|shop|public.customers|{column}"));
        assert_eq!(found.first_seen_unix_nano, 1_000);
    }
    let data = find(FindingKind::NewSensitiveColumn, "column|10.50.0.9:5432|shop|public.payments|data");
    assert_eq!(data.first_seen_unix_nano, 7_000);
    assert_eq!(data.entities, ["CREDIT_CARD"]);
    find(FindingKind::NewRegion, "region|eu-central-1");
    find(FindingKind::NewRegion, "region|us-east-1");
    // Ids are dense in creation order.
    let ids: Vec<u64> = findings.iter().map(|finding| finding.id).collect();
    assert_eq!(ids, (1..=findings.len() as u64).collect::<Vec<_>>());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_by_kind_severity_category_and_region() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let mut name_only = access(3_000, "crm", 13, ("10.60.0.9", 5432), "public.contacts", &["phone_number"], false);
    name_only.fingerprint = "SELECT phone_number FROM contacts".into();
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9"), name_only])).await.unwrap();
    let all = all_findings(&server).await;
    let kinds = |findings: &[Finding]| findings.iter().map(|finding| finding.kind()).collect::<Vec<_>>();

    let transfers = get_findings(
        &server,
        filtered(FindingFilter { kind: vec![FindingKind::Transfer as i32], ..Default::default() }),
    )
    .await;
    assert_eq!(kinds(&transfers), [FindingKind::Transfer]);
    let medium = get_findings(
        &server,
        filtered(FindingFilter { severity: vec![Severity::Medium as i32], ..Default::default() }),
    )
    .await;
    assert!(!medium.is_empty() && medium.iter().all(|finding| finding.severity() == Severity::Medium));
    assert_eq!(medium.len(), all.iter().filter(|finding| finding.severity() == Severity::Medium).count());
    let pci =
        get_findings(&server, filtered(FindingFilter { category: vec!["PCI".into()], ..Default::default() })).await;
    assert!(pci.iter().all(|finding| finding.categories.contains(&"PCI".to_string())));
    assert!(pci.iter().any(|finding| finding.kind() == FindingKind::Transfer));
    assert!(!pci.iter().any(|finding| finding.columns.contains(&"public.contacts.phone_number".to_string())));
    let us =
        get_findings(&server, filtered(FindingFilter { region: vec!["us-east-1".into()], ..Default::default() })).await;
    assert!(us.iter().any(|finding| finding.kind() == FindingKind::NewRegion));
    let in_us = |place: &Option<proto::v1::Place>| place.as_ref().is_some_and(|place| place.region == "us-east-1");
    assert!(us.iter().all(|finding| in_us(&finding.source_place) || in_us(&finding.destination_place)), "{us:#?}");
    assert!(us.len() < all.len());
    let both = get_findings(
        &server,
        filtered(FindingFilter {
            kind: vec![FindingKind::Transfer as i32],
            region: vec!["ap-southeast-2".into()],
            ..Default::default()
        }),
    )
    .await;
    assert!(both.is_empty());
    // The newest N.
    let last = get_findings(&server, GetFindingsRequest { number: 2, ..Default::default() }).await;
    assert_eq!(last.iter().map(|finding| finding.id).collect::<Vec<_>>(), [all.len() as u64 - 1, all.len() as u64]);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_sends_stored_then_live_findings_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9")])).await.unwrap();
    let stored = all_findings(&server).await.len();
    assert!(stored > 0);

    let mut stream = observer(&server)
        .await
        .get_findings(GetFindingsRequest { follow: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    // Live: a new workload in another region reads the same data.
    let mut other = customer_read(9_000, "10.50.0.9");
    other.client.as_mut().unwrap().workload = "reporting".into();
    sensor.send(node_batch("s2", 1, "eu-west-3", vec![other])).await.unwrap();

    let mut received = Vec::new();
    while received.iter().filter(|finding: &&Finding| finding.kind() == FindingKind::Transfer).count() < 2 {
        let response = tokio::time::timeout(Duration::from_secs(10), stream.message()).await.unwrap().unwrap().unwrap();
        match response.response_types.unwrap() {
            FindingResponseTypes::Finding(finding) => received.push(finding),
            FindingResponseTypes::LostEvents(event) => panic!("lost {event:?}"),
        }
    }
    let ids: Vec<u64> = received.iter().map(|finding| finding.id).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "stored then live, dense");
    assert!(ids.len() > stored);
    let live: Vec<&Finding> = received[stored..].iter().collect();
    assert!(live.iter().any(|finding| finding.key == "region|eu-west-3"));
    let transfer = live.iter().find(|finding| finding.kind() == FindingKind::Transfer).unwrap();
    assert_eq!(transfer.source, "reporting");
    assert_eq!(transfer.direction, "eu-west-3 → us-east-1");
    // Nothing more: a repeat updates findings without creating any.
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![customer_read(10_000, "10.50.0.9")])).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(300), stream.message()).await.is_err());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_and_classifications_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9")])).await.unwrap();
    let before = all_findings(&server).await;
    drop(sensor);
    server.shutdown().await.unwrap();

    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let after = all_findings(&server).await;
    assert_eq!(before, after);
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![customer_read(3_000, "10.50.0.9")])).await.unwrap();
    let again = all_findings(&server).await;
    assert_eq!(again.len(), before.len(), "known after restart: nothing new");
    let transfer = of_kind(&again, FindingKind::Transfer)[0].clone();
    assert_eq!((transfer.first_seen_unix_nano, transfer.last_seen_unix_nano, transfer.count), (1_000, 3_000, 4));
    assert_eq!(columns(&server).await["public.customers.email"].classification.as_ref().unwrap().category, "PII");
    // The stored rows are what the API shows.
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let rows: i64 = connection.query_row("SELECT count(*) FROM findings", [], |row| row.get(0)).unwrap();
    assert_eq!(rows as usize, again.len());
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_rules_and_labels_classify_columns() {
    let dir = tempfile::tempdir().unwrap();
    let rules = "version = \"acme-1\"\n\n[[label]]\ncolumn = \"public.customers.loyalty_code\"\nentity = \"MEDICAL_CONDITION\"\n";
    let server = start_with(dir.path(), Some(RESIDENCY), Some(rules)).await;
    let mut sensor = Sensor::open(&server).await;
    let read = access(1_000, "checkout", 11, ("10.50.0.9", 5432), "public.customers", &["loyalty_code"], false);
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![read])).await.unwrap();
    let column = columns(&server).await["public.customers.loyalty_code"].classification.clone().unwrap();
    assert_eq!((column.entity.as_str(), column.category.as_str()), ("MEDICAL_CONDITION", "PHI"));
    assert!(column.rules_version.ends_with("+acme-1"), "{}", column.rules_version);
    let transfer = of_kind(&all_findings(&server).await, FindingKind::Transfer)[0].clone();
    assert_eq!(transfer.categories, ["PHI"]);
    // PHI to a country whose adequacy decision covers only some recipients.
    assert_eq!(transfer.severity(), Severity::Medium);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rules_and_residency_files_stop_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut missing = config(dir.path());
    missing.residency_file = Some(dir.path().join("nowhere.toml"));
    let error = aggregator::start(missing).await.err().expect("refused").to_string();
    assert!(error.contains("--residency") && error.contains("nowhere.toml"), "{error}");

    let unknown_region = dir.path().join("regions.toml");
    std::fs::write(&unknown_region, "[[network]]\ncidr = \"10.0.0.0/8\"\nregion = \"moon-base-1\"\n").unwrap();
    let mut bad = config(dir.path());
    bad.residency_file = Some(unknown_region.clone());
    let error = aggregator::start(bad).await.err().expect("refused").to_string();
    assert!(error.contains("moon-base-1") && error.contains("regions.toml:"), "{error}");

    let broken_rules = dir.path().join("rules.toml");
    std::fs::write(&broken_rules, "[[label]]\ncolumn = \"a.b\"\nentity = \"NO_SUCH_ENTITY\"\n").unwrap();
    // The command line says what is wrong and where, and exits non-zero.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(["serve", "--no-http", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--rules")
        .arg(&broken_rules)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid --rules file") && stderr.contains("rules.toml"), "{stderr}");
    assert!(stderr.contains("NO_SUCH_ENTITY"), "{stderr}");
    assert!(!dir.path().join("data").join(DATABASE_FILE).exists(), "nothing opened before the check");
}

async fn run_command(server: &aggregator::RunningServer, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(&args[..1])
        .arg("--server")
        .arg(format!("http://{}", server.grpc_address()))
        .args(&args[1..])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_findings_and_inventory_commands_show_transfers_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![customer_read(1_000, "10.50.0.9")])).await.unwrap();

    let text = run_command(&server, &["findings", "--kind", "transfer"]).await;
    assert!(text.contains("MEDIUM TRANSFER"), "{text}");
    assert!(text.contains("columns: public.customers.card_number, public.customers.email (PCI, PII)"), "{text}");
    assert!(text.contains(&format!("evidence: access 1 {FINGERPRINT}")), "{text}");
    let json = run_command(&server, &["findings", "--json", "--severity", "medium", "--category", "pci"]).await;
    let lines: Vec<serde_json::Value> = json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|line| line["finding"]["severity"] == "SEVERITY_MEDIUM"), "{json}");
    let transfer = lines.iter().find(|line| line["finding"]["kind"] == "FINDING_KIND_TRANSFER").unwrap();
    assert_eq!(transfer["finding"]["transferClass"], "TRANSFER_CLASS_TO_ADEQUATE_COUNTRY");
    assert_eq!(transfer["finding"]["destinationPlace"]["placedBy"], "override");
    assert_eq!(transfer["finding"]["evidence"][0]["fingerprintId"], 0xfeed);
    let none = run_command(&server, &["findings", "--region", "ap-southeast-2"]).await;
    assert!(none.is_empty(), "{none}");

    let tree = run_command(&server, &["inventory"]).await;
    assert!(tree.contains("[PII EMAIL_ADDRESS "), "{tree}");
    assert!(tree.contains("[PCI CREDIT_CARD "), "{tree}");
    let json = run_command(&server, &["inventory", "--json"]).await;
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let columns = &value[0]["databases"][0]["tables"][0]["columns"];
    let email = columns.as_array().unwrap().iter().find(|column| column["name"] == "email").unwrap();
    assert_eq!(email["classification"]["category"], "PII");
    assert!(email["classification"]["reasons"][0]["kind"].is_string(), "{email}");
    server.shutdown().await.unwrap();
}

/// Accesses reported by a sensor on the server's node (no client process)
/// place the server by that node, for every later client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_seen_by_its_own_sensor_is_placed_in_that_nodes_region() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), None, None).await;
    let mut sensor = Sensor::open(&server).await;
    let mut server_side = customer_read(1_000, "10.80.0.9");
    server_side.client = None;
    sensor.send(node_batch("db-node", 1, "us-west-2", vec![server_side])).await.unwrap();
    sensor.send(node_batch("app-node", 1, "eu-west-1", vec![customer_read(2_000, "10.80.0.9")])).await.unwrap();
    let findings = all_findings(&server).await;
    let transfers = of_kind(&findings, FindingKind::Transfer);
    assert_eq!(transfers.len(), 1, "{findings:#?}");
    assert_eq!(transfers[0].direction, "eu-west-1 → us-west-2");
    assert_eq!(transfers[0].destination_place.as_ref().unwrap().placed_by, "node");
    server.shutdown().await.unwrap();
}

/// The example files in docs/findings.md are valid.
#[test]
fn the_documented_configuration_examples_load() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/findings.md")).unwrap();
    let block_after = |heading: &str| {
        let section = &docs[docs.find(heading).unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        section[start..start + section[start..].find("```").unwrap()].to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    let residency = dir.path().join("residency.toml");
    std::fs::write(&rules, block_after("### `--rules FILE`")).unwrap();
    std::fs::write(&residency, block_after("### `--residency FILE`")).unwrap();
    let knowledge = aggregator::detect::Knowledge::load(Some(&rules), Some(&residency)).unwrap();
    assert!(knowledge.engine.rules_version().ends_with("+acme-2025-11"));
    assert_eq!(knowledge.locator.locate_ip("10.50.1.2".parse().unwrap()).unwrap().region, "us-east-1");
    assert_eq!(knowledge.locator.locate_ip("192.168.10.7".parse().unwrap()).unwrap().country, "DE");
    assert_eq!(knowledge.locator.host_names().count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_rules_reclassify_stored_columns_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let read = access(1_000, "checkout", 11, ("10.50.0.9", 5432), "public.customers", &["loyalty_code"], false);
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![read])).await.unwrap();
    assert_eq!(columns(&server).await["public.customers.loyalty_code"].classification.as_ref().unwrap().category, "");
    drop(sensor);
    server.shutdown().await.unwrap();

    let rules =
        "version = \"acme-2\"\n\n[[label]]\ncolumn = \"public.customers.loyalty_code\"\nentity = \"EMAIL_ADDRESS\"\n";
    let server = start_with(dir.path(), Some(RESIDENCY), Some(rules)).await;
    // No new traffic: the stored column follows the new rules.
    let mut classified = None;
    for _ in 0..100 {
        let column = columns(&server).await["public.customers.loyalty_code"].classification.clone().unwrap();
        if column.rules_version.ends_with("+acme-2") {
            classified = Some(column);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let column = classified.expect("classified again at start");
    assert_eq!((column.entity.as_str(), column.category.as_str()), ("EMAIL_ADDRESS", "PII"));
    let findings = all_findings(&server).await;
    assert_eq!(of_kind(&findings, FindingKind::NewSensitiveColumn).len(), 1, "{findings:#?}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tables_other_columns_decide_whose_rows_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let entity = |columns: &HashMap<String, InventoryColumn>, name: &str| {
        columns[name].classification.as_ref().map(|class| class.entity.clone()).unwrap_or_default()
    };
    let read = |time: u64, names: &[&str]| access(time, "billing", 11, ("10.50.0.9", 5432), "public.clients", names, false);

    // Alone, an address and a phone on a `clients` row are a person's.
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![read(1_000, &["address1", "phone"])])).await.unwrap();
    let seen = columns(&server).await;
    assert_eq!(entity(&seen, "public.clients.address1"), "STREET_ADDRESS");
    assert_eq!(entity(&seen, "public.clients.phone"), "PHONE_NUMBER");

    // A VAT number on the same rows makes them companies': the columns seen before are
    // classified again, without being read again.
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![read(2_000, &["vat_number"])])).await.unwrap();
    let seen = columns(&server).await;
    assert_eq!(entity(&seen, "public.clients.address1"), "");
    assert_eq!(entity(&seen, "public.clients.phone"), "");

    // A given name says the rows are people after all (a sole trader's VAT number).
    sensor.send(node_batch("s1", 3, "eu-central-1", vec![read(3_000, &["first_name"])])).await.unwrap();
    let seen = columns(&server).await;
    assert_eq!(entity(&seen, "public.clients.address1"), "STREET_ADDRESS");
    assert_eq!(entity(&seen, "public.clients.first_name"), "PERSON_NAME");
    // Another table's columns are not affected.
    let other = access(4_000, "billing", 11, ("10.50.0.9", 5432), "public.orders", &["address1", "vat_number"], false);
    sensor.send(node_batch("s1", 4, "eu-central-1", vec![other])).await.unwrap();
    let seen = columns(&server).await;
    assert_eq!(entity(&seen, "public.orders.address1"), "");
    assert_eq!(entity(&seen, "public.clients.address1"), "STREET_ADDRESS");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_columns_declared_type_sets_aside_what_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let class = |columns: &HashMap<String, InventoryColumn>, name: &str| {
        columns[name].classification.clone().unwrap_or_default()
    };
    let read = |time: u64, types: &[(&str, ColumnType)]| {
        let mut access = access(
            time,
            "petitions",
            12,
            ("10.50.0.9", 5432),
            "public.petitions",
            &types.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
            false,
        );
        for (column, (_, column_type)) in access.columns.iter_mut().zip(types) {
            column.column_type = *column_type as i32;
        }
        access
    };

    // Read without its type, a `notified_by_email` is taken for an address.
    sensor.send(node_batch("s1", 1, "eu-central-1", vec![read(1_000, &[("notified_by_email", ColumnType::Unknown)])])).await.unwrap();
    assert_eq!(class(&columns(&server).await, "public.petitions.notified_by_email").entity, "EMAIL_ADDRESS");

    // Once a sensor reads its type on the wire (a boolean), the column is classified again,
    // without new values, and the reasons say why.
    let typed = [("notified_by_email", ColumnType::Boolean), ("creator_email", ColumnType::Text)];
    sensor.send(node_batch("s1", 2, "eu-central-1", vec![read(2_000, &typed)])).await.unwrap();
    let seen = columns(&server).await;
    let flag = class(&seen, "public.petitions.notified_by_email");
    assert_eq!(flag.entity, "");
    assert!(
        flag.reasons.iter().any(|reason| reason.contains(r#""kind":"column_type","column_type":"boolean","set_aside":"EMAIL_ADDRESS""#)),
        "{:?}",
        flag.reasons
    );
    assert_eq!(class(&seen, "public.petitions.creator_email").entity, "EMAIL_ADDRESS");
    // The inventory shows the type.
    assert_eq!(seen["public.petitions.notified_by_email"].column_type, ColumnType::Boolean as i32);

    // The type is kept: a later read that does not carry it changes nothing.
    sensor.send(node_batch("s1", 3, "eu-central-1", vec![read(3_000, &[("notified_by_email", ColumnType::Unknown)])])).await.unwrap();
    assert_eq!(class(&columns(&server).await, "public.petitions.notified_by_email").entity, "");
    server.shutdown().await.unwrap();

    // And it survives a restart: the store keeps it. Values that look like addresses make the
    // column be classified again, with the stored type, which still sets the address aside.
    let server = start_with(dir.path(), Some(RESIDENCY), None).await;
    let mut sensor = Sensor::open(&server).await;
    let mut emails = read(4_000, &[("notified_by_email", ColumnType::Unknown)]);
    emails.columns[0].signals =
        Some(ValueSignals { sampled: 3, empty: 0, matches: [("email".to_string(), 3)].into_iter().collect() });
    sensor.send(node_batch("s1", 4, "eu-central-1", vec![emails])).await.unwrap();
    let flag = class(&columns(&server).await, "public.petitions.notified_by_email");
    assert_eq!((flag.entity.as_str(), flag.sampled_values), ("", 3));
    server.shutdown().await.unwrap();
}
