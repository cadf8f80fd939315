//! Personal data crossing regions, end to end. Two network namespaces stand
//! for an EU and a US region, joined by a link over real (non-loopback)
//! addresses; a real PostgreSQL server runs in the US one and a real psql
//! client in the EU one. One sensor (the kernel programs see every
//! namespace of this kernel) reports the client's data accesses; the
//! aggregator places both ends by its `--residency` file and stores a
//! TRANSFER finding, with drift findings once each. The same workload within
//! one region makes no TRANSFER finding. Literals never leave the node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    time::Duration,
};

use proto::v1::{
    AccessKind, DataAccess, DataAccessFilter, Finding, FindingKind, GetFindingsRequest, GetFlowsRequest, Severity,
    TransferClass, get_findings_response::ResponseTypes as FindingResponse,
};
use tests::{
    Aggregator, Sensor, TempDir, access_columns, accesses,
    databases::{Postgres, PostgresOptions},
    findings, free_port,
    netns::Sites,
    root_or_skip, wait_for_accesses,
};

/// A literal in a WHERE clause: it must reach no finding, stream or file.
const SECRET: &str = "eu-only-secret-4c7d21";

const SCHEMA: &str = "
CREATE TABLE customers (
    id int PRIMARY KEY,
    full_name text NOT NULL,
    email text NOT NULL,
    phone text,
    date_of_birth date,
    card_number text,
    iban text,
    country text
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id int REFERENCES customers (id),
    total numeric(10, 2),
    created_at timestamptz DEFAULT now()
);
INSERT INTO customers VALUES
    (1, 'Anna Schmidt', 'anna.schmidt@example.de', '+49 30 1234567', '1985-04-12', '4111111111111111', 'DE89370400440532013000', 'DE'),
    (2, 'Lukas Meyer', 'lukas.meyer@example.de', '+49 89 7654321', '1979-11-30', '5500005555555559', 'DE44500105175407324931', 'DE'),
    (3, 'Claire Dubois', 'claire.dubois@example.fr', '+33 1 23456789', '1992-02-03', '340000000000009', 'FR1420041010050500013M02606', 'FR');
INSERT INTO orders (customer_id, total, created_at) VALUES
    (1, 129.90, now() - interval '3 days'), (2, 15.00, now() - interval '1 day'), (1, 42.00, now());
";

/// The workload: what an EU checkout service asks its database. Sensitive
/// columns read or written: full_name, email, card_number, date_of_birth,
/// phone (never iban).
fn statements() -> Vec<String> {
    vec![
        format!(
            "SELECT c.full_name, c.email, c.card_number, o.total, o.created_at FROM customers c \
             JOIN orders o ON o.customer_id = c.id WHERE c.email <> '{SECRET}' ORDER BY o.created_at DESC"
        ),
        "SELECT id, date_of_birth FROM customers WHERE country = 'DE'".to_owned(),
        "UPDATE customers SET phone = '+49 30 5550100' WHERE id = 2".to_owned(),
        "INSERT INTO orders (customer_id, total) VALUES (3, 58.40)".to_owned(),
    ]
}

/// Statements of the workload that touch sensitive columns.
const SENSITIVE_STATEMENTS: u64 = 3;

const TRANSFER_COLUMNS: [&str; 5] = [
    "public.customers.card_number",
    "public.customers.date_of_birth",
    "public.customers.email",
    "public.customers.full_name",
    "public.customers.phone",
];

/// Namespaces, the database in the "US" one, an aggregator placing the two
/// subnets in `eu_region` and `us_region`, and a sensor in eu-central-1.
/// Fields drop in order: the sensor and aggregator stop first, the
/// namespaces go last.
struct Scenario {
    sensor: Option<Sensor>,
    aggregator: Option<Aggregator>,
    data: TempDir,
    postgres: Postgres,
    sites: Sites,
}

impl Scenario {
    fn start(eu_subnet: u8, us_subnet: u8, eu_region: &str, us_region: &str) -> Option<Self> {
        let sites = Sites::create("eu", eu_subnet, "us", us_subnet);
        let postgres = Postgres::start_with(PostgresOptions {
            netns: Some(sites.b.name.clone()),
            listen: vec![sites.b.address.into()],
            trust: vec![sites.a.cidr.clone()],
            ..Default::default()
        })?;
        // Set up before the sensor starts (over the US namespace's loopback).
        postgres.psql(SCHEMA);
        let data = TempDir::new("e2e-residency");
        let residency = data.0.join("residency.toml");
        std::fs::write(
            &residency,
            format!(
                "version = \"e2e\"\n\n[[network]]\ncidr = \"{}\"\nregion = \"{eu_region}\"\n\n\
                 [[network]]\ncidr = \"{}\"\nregion = \"{us_region}\"\n",
                sites.a.cidr, sites.b.cidr
            ),
        )
        .unwrap();
        let aggregator =
            Aggregator::start_with(data.0.clone(), free_port(), &["--residency", &residency.display().to_string()]);
        let sensor = Sensor::start(&aggregator.url(), &["--region", "eu-central-1", "--capture-bytes", "4096"]);
        Some(Self { sensor: Some(sensor), aggregator: Some(aggregator), data, postgres, sites })
    }

    fn aggregator(&self) -> &Aggregator {
        self.aggregator.as_ref().unwrap()
    }

    /// `ip:port` of the database as clients in the EU namespace reach it.
    fn datastore(&self) -> String {
        format!("{}:{}", self.sites.b.address, self.postgres.port)
    }

    /// One psql session in the EU namespace running the workload.
    fn run_workload(&self) {
        let mut psql = self.sites.a.command("psql");
        let (host, port) = (self.sites.b.address.to_string(), self.postgres.port.to_string());
        psql.args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &host,
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]);
        for statement in statements() {
            psql.args(["-c", &statement]);
        }
        let output = psql.output().expect("psql");
        assert!(
            output.status.success(),
            "psql in the EU namespace failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("Anna Schmidt"), "the join returned the customers");
    }

    fn filter(&self) -> DataAccessFilter {
        DataAccessFilter { workload: vec!["psql".into()], datastore: vec![self.datastore()], ..Default::default() }
    }

    /// Waits until the aggregator stored `sessions` runs of the workload.
    async fn wait_for_sessions(&self, sessions: u64) -> Vec<DataAccess> {
        let count = |seen: &[DataAccess]| -> BTreeMap<String, u64> {
            let mut counts = BTreeMap::new();
            for access in seen {
                *counts.entry(access.operation.clone()).or_default() += access.count;
            }
            counts
        };
        let seen = wait_for_accesses(self.aggregator(), self.filter(), |seen| {
            let counts = count(seen);
            counts.get("SELECT") == Some(&(2 * sessions))
                && counts.get("UPDATE") == Some(&sessions)
                && counts.get("INSERT") == Some(&sessions)
        })
        .await;
        let counts = count(&seen);
        assert_eq!(
            (counts.get("SELECT"), counts.get("UPDATE"), counts.get("INSERT")),
            (Some(&(2 * sessions)), Some(&sessions), Some(&sessions)),
            "every statement of {sessions} session(s) reached the aggregator: {seen:#?}\nsensor metrics:\n{}",
            self.sensor.as_ref().unwrap().metrics()
        );
        seen
    }

    /// Stops the sensor and the aggregator, then checks no file of the
    /// aggregator's data dir holds the secret literal.
    fn stop_and_check_data_dir(&mut self) {
        self.sensor = None;
        self.aggregator = None;
        assert!(self.data.0.join("aggregator.db").exists(), "the data dir holds the database");
        assert_no_secret_in(&self.data.0);
    }
}

fn assert_no_secret_in(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_no_secret_in(&path);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "{} holds a literal", path.display());
    }
}

/// Accesses of the workload: from the EU address to the US address, by
/// psql, with the columns the statements touch.
fn check_accesses(scenario: &Scenario, seen: &[DataAccess]) {
    for access in seen {
        let client = access.client_endpoint.as_ref().expect("client endpoint");
        assert_eq!(client.ip, scenario.sites.a.address.to_string(), "{access:?}");
        let server = access.server.as_ref().expect("server");
        assert_eq!(
            (server.ip.clone(), server.port),
            (scenario.sites.b.address.to_string(), u32::from(scenario.postgres.port))
        );
        assert_eq!(access.client.as_ref().map(|p| p.command.as_str()), Some("psql"));
        assert!(!format!("{access:?}").contains(SECRET), "a literal in {access:?}");
    }
    let join = seen.iter().find(|a| a.fingerprint.contains("JOIN orders")).expect("the join");
    assert_eq!(
        access_columns(join, AccessKind::Read),
        [
            "public.customers.card_number",
            "public.customers.email",
            "public.customers.full_name",
            "public.customers.id",
            "public.orders.created_at",
            "public.orders.customer_id",
            "public.orders.total"
        ]
        .into_iter()
        .map(String::from)
        .collect::<BTreeSet<_>>()
    );
    assert!(join.fingerprint.contains("c.email <> ?"), "{}", join.fingerprint);
    let update = seen.iter().find(|a| a.operation == "UPDATE").expect("the update");
    assert_eq!(access_columns(update, AccessKind::Write), BTreeSet::from(["public.customers.phone".to_owned()]));
}

fn keyed<'a>(all: &'a [Finding], kind: FindingKind, key: &str) -> &'a Finding {
    let matching: Vec<&Finding> = all.iter().filter(|f| f.kind() == kind && f.key == key).collect();
    assert_eq!(matching.len(), 1, "one {kind:?} finding {key}: {all:#?}");
    matching[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eu_client_of_a_us_database_is_a_transfer_finding_and_literals_stay_on_the_node() {
    if !root_or_skip("an_eu_client_of_a_us_database_is_a_transfer_finding_and_literals_stay_on_the_node") {
        return;
    }
    let Some(mut scenario) = Scenario::start(1, 2, "eu-central-1", "us-east-1") else {
        return;
    };
    let aggregator = scenario.aggregator();
    let datastore = scenario.datastore();
    let mut live = aggregator
        .client()
        .await
        .get_findings(GetFindingsRequest { follow: true, ..Default::default() })
        .await
        .expect("GetFindings")
        .into_inner();

    scenario.run_workload();
    let first = scenario.wait_for_sessions(1).await;
    check_accesses(&scenario, &first);
    // A second session: the transfer is updated, no drift finding repeats.
    scenario.run_workload();
    let seen = scenario.wait_for_sessions(2).await;
    check_accesses(&scenario, &seen);
    // Both ends are on this kernel: each statement is reported once, from
    // the client's side, never again from the server's.
    let to_datastore =
        accesses(aggregator, DataAccessFilter { datastore: vec![datastore.clone()], ..Default::default() }).await;
    assert_eq!(to_datastore.len(), seen.len(), "{to_datastore:#?}");

    let is_ours = |f: &Finding| f.kind() == FindingKind::Transfer && f.destination.contains(&datastore);
    let mut all = findings(aggregator).await;
    for _ in 0..50 {
        if all.iter().any(|f| is_ours(f) && f.count == 2 * SENSITIVE_STATEMENTS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        all = findings(aggregator).await;
    }
    let transfers: Vec<&Finding> = all.iter().filter(|f| is_ours(f)).collect();
    assert_eq!(transfers.len(), 1, "one transfer finding: {all:#?}");
    let transfer = transfers[0];
    assert_eq!(transfer.source, "psql");
    assert_eq!(transfer.destination, format!("postgres ({datastore})"), "the server process is named");
    assert_eq!(transfer.columns, TRANSFER_COLUMNS, "exactly the sensitive columns the statements touched");
    assert_eq!(transfer.categories, ["PCI", "PII"]);
    assert_eq!(transfer.entities, ["CREDIT_CARD", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "PERSON_NAME", "PHONE_NUMBER"]);
    let from = transfer.source_place.as_ref().unwrap();
    let to = transfer.destination_place.as_ref().unwrap();
    assert_eq!(
        (from.region.as_str(), from.country.as_str(), from.jurisdiction.as_str(), from.placed_by.as_str()),
        ("eu-central-1", "DE", "eu", "override")
    );
    assert_eq!(
        (to.region.as_str(), to.country.as_str(), to.jurisdiction.as_str(), to.placed_by.as_str()),
        ("us-east-1", "US", "adequate", "override")
    );
    assert_eq!(transfer.direction, "eu-central-1 → us-east-1");
    assert_eq!(transfer.data_movement, "workload_to_datastore");
    assert_eq!(transfer.transfer_class(), TransferClass::ToAdequateCountry);
    assert!(transfer.requires_mechanism, "the EU-US decision covers certified recipients only");
    assert_eq!(
        transfer.adequacy,
        "adequacy decision of 2023-07-10; scope: only organisations certified under the EU-US Data Privacy Framework"
    );
    // PCI is high-risk; the decision covers only some recipients.
    assert_eq!(transfer.severity(), Severity::Medium);
    assert!(
        transfer.explanation.starts_with(&format!(
            "Workload psql in region eu-central-1 (Germany, EU) reads and writes personal data held by datastore \
             postgres ({datastore}) in region us-east-1 (United States, adequacy decision)."
        )),
        "{}",
        transfer.explanation
    );
    assert!(transfer.explanation.contains("Data Privacy Framework"), "{}", transfer.explanation);
    assert_eq!(transfer.count, 2 * SENSITIVE_STATEMENTS, "both sessions counted in the one finding");
    assert!(transfer.first_seen_unix_nano > 0 && transfer.first_seen_unix_nano < transfer.last_seen_unix_nano);
    // Evidence: fingerprints and record ids, no literal.
    assert!(!transfer.evidence.is_empty());
    let evidence: Vec<&str> = transfer.evidence.iter().map(|e| e.fingerprint.as_str()).collect();
    assert!(evidence.iter().any(|f| f.contains("JOIN orders") && f.contains("c.email <> ?")), "{evidence:?}");
    assert!(evidence.iter().all(|f| !f.contains(SECRET) && !f.contains("5550100")), "{evidence:?}");
    assert!(!evidence.iter().any(|f| f.starts_with("INSERT")), "the INSERT touches no sensitive column: {evidence:?}");
    let ids: BTreeSet<u64> = seen.iter().map(|a| a.id).collect();
    assert!(transfer.evidence.iter().all(|e| ids.contains(&e.access_id)), "evidence points at stored accesses");

    // Drift: once each, however often seen.
    let mut keys: Vec<&str> = all.iter().map(|f| f.key.as_str()).collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "no finding twice: {keys:?}");
    keyed(&all, FindingKind::FirstPersonalDataRead, "personal-data-read|psql");
    keyed(&all, FindingKind::NewRegion, "region|eu-central-1");
    let us = keyed(&all, FindingKind::NewRegion, "region|us-east-1");
    assert_eq!(us.source_place.as_ref().or(us.destination_place.as_ref()).unwrap().placed_by, "override");
    let pair = keyed(&all, FindingKind::NewFlow, &format!("access|psql|{datastore}"));
    assert_eq!(pair.destination_place.as_ref().unwrap().region, "us-east-1");
    for column in TRANSFER_COLUMNS {
        let (table, name) = column.rsplit_once('.').unwrap();
        let found =
            keyed(&all, FindingKind::NewSensitiveColumn, &format!("column|{datastore}|postgres|{table}|{name}"));
        assert_eq!(found.columns, [column]);
    }
    assert!(!all.iter().any(|f| f.columns.iter().any(|c| c.ends_with(".iban"))), "iban was never read");

    // The live stream carried the same findings, and no literal.
    let mut streamed = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(500), live.message()).await {
            Ok(Ok(Some(response))) => match response.response_types {
                Some(FindingResponse::Finding(finding)) => streamed.push(finding),
                other => panic!("unexpected {other:?}"),
            },
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(status)) => panic!("findings stream failed: {status}"),
        }
    }
    assert!(streamed.iter().any(|f| f.key == transfer.key), "the transfer was streamed: {streamed:#?}");
    assert!(!format!("{streamed:?}").contains(SECRET));
    assert!(!format!("{all:?}").contains(SECRET));
    // Nor in what else the aggregator serves.
    assert!(!format!("{:?}", accesses(aggregator, DataAccessFilter::default()).await).contains(SECRET));
    let mut flows = aggregator
        .client()
        .await
        .get_flows(GetFlowsRequest { number: 100_000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut text = String::new();
    while let Some(response) = flows.message().await.unwrap() {
        text.push_str(&format!("{response:?}"));
    }
    assert!(text.contains(&scenario.sites.b.address.to_string()) && !text.contains(SECRET));

    // The transfer shows in the data-residency report, with its places and
    // evidence, and without the literal.
    let (status, body) = tests::http_get(aggregator.http, "/report.json").expect("GET /report.json");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(SECRET), "a literal in the report");
    let report: serde_json::Value = serde_json::from_str(&body).expect("the JSON report parses");
    let transfers = report["transfers"].as_array().expect("transfers in the report");
    assert_eq!(transfers.len(), 1, "{transfers:#?}");
    let shown = transfers[0].to_string();
    for expected in ["eu-central-1", "us-east-1", "email", "card_number", "date_of_birth", "PCI", "PII", "2023-07-10"] {
        assert!(shown.contains(expected), "{expected} missing from the report's transfer: {shown}");
    }
    assert!(!transfers[0]["evidence"].as_array().expect("evidence").is_empty(), "{shown}");
    // Each personal column carries the type PostgreSQL declared for it on the wire.
    let typed: Vec<(String, String)> = report["datastores"]
        .as_array()
        .expect("datastores in the report")
        .iter()
        .flat_map(|datastore| datastore["personal_data_columns"].as_array().cloned().unwrap_or_default())
        .map(|column| (column["column"].as_str().unwrap_or("").to_owned(), column["column_type"].as_str().unwrap_or("").to_owned()))
        .collect();
    for (column, family) in [("email", "text"), ("date_of_birth", "date"), ("card_number", "text")] {
        assert!(
            typed.iter().any(|(name, declared)| name == column && declared == family),
            "{column} as {family} missing from the report's datastores: {typed:?}"
        );
    }
    // The spreadsheet of datastores places the US database and lists what it holds.
    let (status, csv) = tests::http_get(aggregator.http, "/report.csv?section=datastores").expect("GET datastores CSV");
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("datastore,datastore_name,protocol,region,"), "{csv}");
    assert!(
        csv.lines().any(|line| line.contains("us-east-1") && line.contains("PCI; PII") && line.contains("postgresql")),
        "{csv}"
    );
    let (status, html) = tests::http_get(aggregator.http, "/report").expect("GET /report");
    assert_eq!(status, 200);
    assert!(html.contains("us-east-1") && html.contains("eu-central-1") && !html.contains(SECRET));
    drop(live);
    scenario.stop_and_check_data_dir();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_workload_within_one_region_is_no_transfer() {
    if !root_or_skip("the_same_workload_within_one_region_is_no_transfer") {
        return;
    }
    // Both subnets in eu-central-1.
    let Some(mut scenario) = Scenario::start(3, 4, "eu-central-1", "eu-central-1") else {
        return;
    };
    scenario.run_workload();
    let seen = scenario.wait_for_sessions(1).await;
    // The accesses are there, with the sensitive columns: the absence of a
    // transfer is not for want of data.
    check_accesses(&scenario, &seen);
    let datastore = scenario.datastore();
    let aggregator = scenario.aggregator();
    let mut all = findings(aggregator).await;
    for _ in 0..50 {
        if all.iter().any(|f| f.kind() == FindingKind::NewSensitiveColumn && f.key.contains(&datastore)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        all = findings(aggregator).await;
    }
    let read = keyed(&all, FindingKind::FirstPersonalDataRead, "personal-data-read|psql");
    assert!(read.categories.contains(&"PII".to_owned()), "{read:?}");
    let pair = keyed(&all, FindingKind::NewFlow, &format!("access|psql|{datastore}"));
    assert_eq!(pair.destination_place.as_ref().unwrap().region, "eu-central-1");
    assert_eq!(pair.source_place.as_ref().unwrap().region, "eu-central-1");
    assert!(
        all.iter().any(|f| f.kind() == FindingKind::NewSensitiveColumn && f.key.contains(&datastore)),
        "sensitive columns were classified: {all:#?}"
    );
    assert!(!all.iter().any(|f| f.kind() == FindingKind::Transfer), "no transfer within one region: {all:#?}");
    assert!(!all.iter().any(|f| f.key == "region|us-east-1"), "{all:#?}");
    scenario.stop_and_check_data_dir();
}
