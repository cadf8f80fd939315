//! The data-residency report from a real store filled over real gRPC: the
//! model's sections, the HTML, JSON and CSV renderers (escaping, formula
//! cells), the `report` command reading the store of a running aggregator,
//! the HTTP endpoints, and the HTML page rendered, screenshotted and
//! printed by a real headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aggregator::report::{self, Report, csv::Section};
use common::*;
use proto::v1::{DataAccess, Node, SensorBatch, ValueSignals};

/// Places 10.50.0.0/16 in us-east-1, 10.60.0.0/16 in eu-central-1 and
/// 10.80.0.0/16 in ap-south-1 (India, no adequacy decision); 10.70.0.0/16
/// is placed by nothing.
const RESIDENCY: &str = r#"
[[network]]
cidr = "10.50.0.0/16"
region = "us-east-1"

[[network]]
cidr = "10.80.0.0/16"
region = "ap-south-1"

[[network]]
cidr = "10.60.0.0/16"
region = "eu-central-1"
"#;

const FINGERPRINT: &str = "SELECT email, card_number FROM customers WHERE id = ?";
/// 2025-11-20T10:00:00Z, in nanoseconds.
const T0: u64 = 1_763_632_800_000_000_000;
const SECOND: u64 = 1_000_000_000;
/// A table name and a workload name a hostile peer could report.
const SCRIPT_TABLE: &str = "public.<script>alert(1)</script>";
const FORMULA_WORKLOAD: &str = "=HYPERLINK(\"http://x\")";

async fn start(dir: &Path) -> aggregator::RunningServer {
    let mut config = config(dir);
    let path = dir.join("residency.toml");
    std::fs::write(&path, RESIDENCY).unwrap();
    config.residency_file = Some(path);
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
    access.fingerprint = FINGERPRINT.into();
    access.fingerprint_id = 0xfeed;
    access.columns[0].signals = signals(5, &[("email", 5)]);
    access.columns[1].signals = signals(5, &[("credit_card", 5)]);
    // The server described the e-mail column's type; the card number's is not known yet.
    access.columns[0].column_type = proto::v1::ColumnType::Text as i32;
    access
}

fn node_batch(session: &str, sequence: u64, region: &str, accesses: Vec<DataAccess>) -> SensorBatch {
    let mut batch = access_batch(session, sequence, &format!("node-{session}"), accesses);
    batch.node = Some(Node { name: format!("node-{session}"), region: region.into(), zone: format!("{region}a") });
    batch
}

/// The findings tests' scenario (an EU workload reading customers.email and
/// customers.card_number from a US datastore), plus a writer in the EU, a
/// read of card data from India, a read from a datastore nothing places, a
/// hostile table name and a hostile workload name.
async fn fill(server: &aggregator::RunningServer) {
    let mut sensor = Sensor::open(server).await;
    let mut first = node_batch("s1", 1, "eu-central-1", vec![customer_read(T0, "checkout", "10.50.0.9")]);
    first.flows = vec![flow(T0 - SECOND, "checkout", 11, ("10.9.0.1", 443))];
    sensor.send(first).await.unwrap();
    sensor
        .send(node_batch("s1", 2, "eu-central-1", vec![customer_read(T0 + 60 * SECOND, "checkout", "10.50.0.9")]))
        .await
        .unwrap();
    // Same region: no transfer, but personal data written.
    let mut write = access(T0 + 120 * SECOND, "billing", 12, ("10.60.0.9", 5432), "public.invoices", &["email"], true);
    write.fingerprint = "UPDATE invoices SET email = ? WHERE id = ?".into();
    let mut hostile = access(T0 + 180 * SECOND, "crm", 13, ("10.60.0.9", 5432), SCRIPT_TABLE, &["phone_number"], false);
    hostile.fingerprint = format!("SELECT phone_number FROM {SCRIPT_TABLE}");
    let formula = customer_read(T0 + 240 * SECOND, FORMULA_WORKLOAD, "10.50.0.9");
    let india = customer_read(T0 + 200 * SECOND, "analytics", "10.80.0.9");
    let mut unplaced =
        access(T0 + 210 * SECOND, "reports", 14, ("10.70.0.9", 5432), "public.customers", &["email"], false);
    unplaced.fingerprint = "SELECT email FROM customers".into();
    sensor.send(node_batch("s1", 3, "eu-central-1", vec![write, hostile, formula, india, unplaced])).await.unwrap();
}

fn build(server: &aggregator::RunningServer) -> Report {
    let context = server.context();
    report::build(&context.store, &context.locator, T0 + 3_600 * SECOND).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_has_every_section_with_what_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    fill(&server).await;
    let report = build(&server);

    let header = &report.header;
    assert_eq!(header.generated_at, "2025-11-20T11:00:00Z");
    assert_eq!(header.aggregator_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(header.rules_versions.len(), 1, "{:?}", header.rules_versions);
    assert!(!header.residency_version.is_empty() && !header.residency_as_of.is_empty());
    assert_eq!(header.evidence_from.as_deref(), Some("2025-11-20T09:59:59Z"));
    assert_eq!(header.evidence_until.as_deref(), Some("2025-11-20T10:04:00Z"));
    assert!(!header.nothing_observed);

    // Transfers: checkout's and the hostile workload's to us-east-1, analytics' to India (first: HIGH).
    assert_eq!(report.transfers.len(), 3, "{:#?}", report.transfers);
    let india = &report.transfers[0];
    assert_eq!((india.workload.as_str(), india.severity.as_str()), ("analytics", "HIGH"));
    assert_eq!(
        (india.transfer_class.as_str(), india.direction.as_str()),
        ("to_third_country", "eu-central-1 → ap-south-1")
    );
    assert_eq!(india.to.as_ref().unwrap().jurisdiction, "third_country");
    let checkout = report.transfers.iter().find(|transfer| transfer.workload == "checkout").unwrap();
    assert_eq!(checkout.severity, "MEDIUM");
    assert_eq!(checkout.datastore, "10.50.0.9:5432");
    assert_eq!(checkout.direction, "eu-central-1 → us-east-1");
    assert_eq!(checkout.data_movement, "workload_to_datastore");
    let from = checkout.from.as_ref().unwrap();
    let to = checkout.to.as_ref().unwrap();
    assert_eq!((from.region.as_str(), from.country.as_str(), from.jurisdiction.as_str()), ("eu-central-1", "DE", "eu"));
    assert_eq!((to.region.as_str(), to.country.as_str(), to.jurisdiction.as_str()), ("us-east-1", "US", "adequate"));
    assert_eq!(to.placed_by, "override");
    assert_eq!(checkout.transfer_class, "to_adequate_country");
    assert!(checkout.requires_mechanism);
    assert!(checkout.adequacy.contains("2023-07-10"), "{}", checkout.adequacy);
    assert!(checkout.explanation.contains("Data Privacy Framework"), "{}", checkout.explanation);
    assert_eq!(checkout.categories, ["PCI", "PII"]);
    assert_eq!(checkout.entities, ["CREDIT_CARD", "EMAIL_ADDRESS"]);
    assert_eq!(checkout.columns, ["public.customers.card_number", "public.customers.email"]);
    assert_eq!(
        (checkout.first_seen.as_str(), checkout.last_seen.as_str()),
        ("2025-11-20T10:00:00Z", "2025-11-20T10:01:00Z")
    );
    assert_eq!(checkout.count, 4);
    assert_eq!(checkout.evidence.len(), 1);
    assert_eq!(checkout.evidence[0].fingerprint, FINGERPRINT);
    assert_eq!(checkout.evidence[0].fingerprint_id, "000000000000feed");
    assert_eq!(checkout.evidence[0].access_id, 1);

    // Datastores: the US one holds both columns, the EU one e-mail and phone numbers.
    assert_eq!(report.datastores.len(), 4);
    let unplaced = report.datastores.iter().find(|datastore| datastore.id == "10.70.0.9:5432").unwrap();
    assert_eq!(unplaced.location, None, "never guessed");
    assert_eq!(unplaced.categories, ["PII"]);
    let us = report.datastores.iter().find(|datastore| datastore.id == "10.50.0.9:5432").unwrap();
    assert_eq!(us.location.as_ref().unwrap().region, "us-east-1");
    assert_eq!(us.protocol, "postgresql");
    assert_eq!(us.databases, ["shop"]);
    assert_eq!(us.categories, ["PCI", "PII"]);
    let columns: Vec<(&str, &str, &str, &str)> = us
        .personal_data_columns
        .iter()
        .map(|column| (column.table.as_str(), column.column.as_str(), column.entity.as_str(), column.category.as_str()))
        .collect();
    assert_eq!(
        columns,
        [
            ("public.customers", "card_number", "CREDIT_CARD", "PCI"),
            ("public.customers", "email", "EMAIL_ADDRESS", "PII")
        ]
    );
    assert!(us.personal_data_columns.iter().all(|column| column.confidence > 0.5));
    // The declared type as the sensor read it on the wire; empty while no result described it.
    let types: Vec<&str> = us.personal_data_columns.iter().map(|column| column.column_type.as_str()).collect();
    assert_eq!(types, ["", "text"]);
    assert_eq!(us.personal_data_columns[1].read_by, [FORMULA_WORKLOAD, "checkout"]);
    let eu = report.datastores.iter().find(|datastore| datastore.id == "10.60.0.9:5432").unwrap();
    assert_eq!(eu.location.as_ref().unwrap().country, "DE");
    let email = eu.personal_data_columns.iter().find(|column| column.column == "email").unwrap();
    assert_eq!((email.read_by.len(), email.written_by.as_slice()), (0, ["billing".to_string()].as_slice()));
    assert!(eu.personal_data_columns.iter().any(|column| column.table == SCRIPT_TABLE));

    // Workloads: what each reads and writes, from where.
    let workload = |name: &str| report.workloads.iter().find(|workload| workload.name == name).unwrap();
    let checkout_workload = workload("checkout");
    assert_eq!(
        checkout_workload.locations.iter().map(|location| location.region.as_str()).collect::<Vec<_>>(),
        ["eu-central-1"]
    );
    assert_eq!(checkout_workload.reads.len(), 2);
    assert!(checkout_workload.reads.iter().all(|read| read.datastore_region == "us-east-1" && read.statements == 4));
    assert!(checkout_workload.writes.is_empty());
    assert_eq!((checkout_workload.transfers, checkout_workload.highest_severity.as_str()), (1, "MEDIUM"));
    let billing = workload("billing");
    assert_eq!(billing.writes.len(), 1);
    assert_eq!(
        (billing.writes[0].column.as_str(), billing.writes[0].datastore_region.as_str()),
        ("email", "eu-central-1")
    );
    assert_eq!(billing.transfers, 0);

    // Changes: every drift kind, newest first.
    let kinds: std::collections::BTreeSet<&str> = report.changes.iter().map(|change| change.kind.as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["FIRST_PERSONAL_DATA_READ", "NEW_FLOW", "NEW_REGION", "NEW_SENSITIVE_COLUMN"]
    );
    assert!(report.changes.windows(2).all(|pair| pair[0].first_seen >= pair[1].first_seen));

    // Summary: the answers.
    let summary = &report.summary;
    assert_eq!((summary.transfers_by_severity.high, summary.transfers_by_severity.medium), (1, 2));
    assert_eq!(summary.transfers_requiring_mechanism, 3);
    let total = |counts: &report::SeverityCounts| counts.high + counts.medium + counts.low + counts.info;
    assert_eq!(total(&summary.findings_by_severity) as usize, report.transfers.len() + report.changes.len());
    assert_eq!((summary.datastores, summary.datastores_with_personal_data), (4, 4));
    assert_eq!(summary.personal_data_columns, 7);
    assert_eq!((summary.workloads, summary.workloads_with_personal_data), (6, 6));
    let top: Vec<&str> = summary.top_transfers.iter().map(|top| top.workload.as_str()).collect();
    // Severity first, then the one observed more often.
    assert_eq!(top, ["analytics", "checkout", FORMULA_WORKLOAD]);
    let exposed: Vec<&str> = summary.exposed_workloads.iter().map(|exposed| exposed.workload.as_str()).collect();
    assert_eq!(exposed[..3], ["analytics", "checkout", FORMULA_WORKLOAD]);
    assert_eq!(summary.exposed_workloads[1].datastore_regions, ["us-east-1"]);
    assert_eq!(summary.data_flows.len(), 2);
    assert_eq!(
        (summary.data_flows[0].to_region.as_str(), summary.data_flows[0].highest_severity.as_str()),
        ("ap-south-1", "HIGH")
    );
    let flow = &summary.data_flows[1];
    assert_eq!(
        (flow.from_region.as_str(), flow.to_region.as_str(), flow.transfers, flow.columns),
        ("eu-central-1", "us-east-1", 2, 2)
    );
    assert_eq!((flow.from_country.as_str(), flow.to_country.as_str()), ("Germany", "United States"));
    let regions: Vec<(&str, u64)> =
        summary.storage_by_region.iter().map(|storage| (storage.region.as_str(), storage.columns)).collect();
    // Unplaced datastores come last.
    assert_eq!(regions, [("ap-south-1", 2), ("eu-central-1", 2), ("us-east-1", 2), ("", 1)]);

    // Coverage.
    assert_eq!(report.nodes.len(), 1);
    assert_eq!(report.nodes[0].name, "node-s1");
    assert_eq!(report.nodes[0].location.as_ref().unwrap().region, "eu-central-1");

    // Identifiers, fingerprints and counts only.
    let json = String::from_utf8(report.to_json().unwrap()).unwrap();
    assert!(!json.contains('@') && !json.contains("4111"), "{json}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderers_escape_html_neutralise_formulas_and_keep_json_field_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    fill(&server).await;
    let report = build(&server);

    let html = report::html::render(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.to_ascii_lowercase().contains("<script"), "markup from the store reached the page");
    assert!(html.contains("public.&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("=HYPERLINK(&quot;http://x&quot;)"));
    for id in ["header", "summary", "transfers", "datastores", "workloads", "changes", "coverage"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id} missing");
    }
    assert!(html.contains("@media print") && html.contains("break-inside: avoid"));
    // A transfer to a third country needs a mechanism; one to a partly adequate country unless covered.
    assert!(html.contains("yes: standard contractual clauses"));
    assert!(html.contains("yes, unless the recipient is covered by the adequacy decision"));
    // Self-contained: nothing to fetch.
    assert!(!html.contains(" src=") && !html.contains(" href="));

    // CSV: parses back, one row per transfer, formula cells neutralised.
    let bytes = report::csv::render(&report, Section::Transfers).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(headers.iter().collect::<Vec<_>>(), report::csv::header(Section::Transfers));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.transfers.len());
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let workloads: Vec<&str> = rows.iter().map(|row| &row[column("workload")]).collect();
    assert!(workloads.contains(&"checkout"));
    assert!(workloads.contains(&"'=HYPERLINK(\"http://x\")"), "{workloads:?}");
    let checkout = rows.iter().find(|row| &row[column("workload")] == "checkout").unwrap();
    assert_eq!(&checkout[column("from_region")], "eu-central-1");
    assert_eq!(&checkout[column("to_country")], "US");
    assert_eq!(&checkout[column("categories")], "PCI; PII");
    assert_eq!(&checkout[column("evidence_fingerprints")], FINGERPRINT);
    assert_eq!(&checkout[column("requires_mechanism")], "true");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "formula cell {cell:?}");
        }
    }
    for (section, expected_rows) in [
        (Section::Columns, 7),
        (Section::Datastores, report.datastores.len()),
        (Section::Workloads, 9),
        (Section::Changes, report.changes.len()),
    ] {
        let bytes = report::csv::render(&report, section).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), report::csv::header(section));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), expected_rows, "{section:?}");
        assert!(rows.iter().all(|row| row.iter().all(|cell| !cell.starts_with(['=', '+', '-', '@']))));
    }

    // Columns carry their declared type; datastores have a row each, placed or not.
    let bytes = report::csv::render(&report, Section::Columns).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let email = rows
        .iter()
        .find(|row| &row[column("datastore")] == "10.50.0.9:5432" && &row[column("column")] == "email")
        .unwrap();
    assert_eq!((&email[column("column_type")], &email[column("entity")]), ("text", "EMAIL_ADDRESS"));
    let bytes = report::csv::render(&report, Section::Datastores).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let us = rows.iter().find(|row| &row[column("datastore")] == "10.50.0.9:5432").unwrap();
    assert_eq!(
        (&us[column("region")], &us[column("country")], &us[column("jurisdiction")], &us[column("placed_by")]),
        ("us-east-1", "US", "adequate", "override")
    );
    assert_eq!((&us[column("protocol")], &us[column("databases")]), ("postgresql", "shop"));
    assert_eq!((&us[column("personal_data_columns")], &us[column("categories")]), ("2", "PCI; PII"));
    assert_eq!(&us[column("entities")], "CREDIT_CARD; EMAIL_ADDRESS");
    let unplaced = rows.iter().find(|row| &row[column("datastore")] == "10.70.0.9:5432").unwrap();
    assert_eq!((&unplaced[column("region")], &unplaced[column("placed_by")]), ("", ""));

    // HTML: the type next to the column's name.
    assert!(html.contains("<code>email</code> <span class=\"muted\">text</span>"), "column type missing");

    // JSON: the documented field names.
    let json: serde_json::Value = serde_json::from_slice(&report.to_json().unwrap()).unwrap();
    for key in ["header", "summary", "transfers", "datastores", "workloads", "changes", "nodes"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["transfers"][0]["evidence"][0]["fingerprint"], FINGERPRINT);
    assert_eq!(json["summary"]["transfers_by_severity"]["high"], 1);
    assert_eq!(json["datastores"][0]["location"]["jurisdiction"].as_str().map(str::len).map(|len| len > 0), Some(true));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_store_gives_a_report_saying_nothing_was_observed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let report = build(&server);
    assert!(report.header.nothing_observed);
    assert_eq!(report.header.evidence_from, None);
    assert!(report.transfers.is_empty() && report.datastores.is_empty() && report.changes.is_empty());
    let html = report::html::render(&report);
    assert!(html.contains("Nothing has been observed yet"));
    let bytes = report::csv::render(&report, Section::Transfers).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 1, "header row only");
    server.shutdown().await.unwrap();
}

async fn http_get(server: &aggregator::RunningServer, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.http_address().unwrap()).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_serves_the_report_in_three_formats_and_the_command_reads_a_running_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    fill(&server).await;

    let (head, body) = http_get(&server, "/report").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/html; charset=utf-8"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'none'"), "{head}");
    assert!(body.contains("Data residency report") && body.contains("eu-central-1 → us-east-1"));
    let (head, body) = http_get(&server, "/report.json").await;
    assert!(head.contains("content-type: application/json"), "{head}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["transfers"].as_array().unwrap().len(), 3);
    let (head, body) = http_get(&server, "/report.csv?section=columns").await;
    assert!(head.contains("content-type: text/csv; charset=utf-8"), "{head}");
    assert!(head.contains("filename=\"dataflow-report-columns.csv\""), "{head}");
    assert!(body.starts_with("datastore,datastore_name,region,"), "{body}");
    assert_eq!(body.lines().count(), 8);
    let (head, _) = http_get(&server, "/report.csv").await;
    assert!(head.contains("dataflow-report-transfers.csv"), "{head}");
    let (head, body) = http_get(&server, "/report.csv?section=everything").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    assert!(body.contains("transfers, columns, datastores, workloads, changes"), "{body}");

    // The command reads the store file while the aggregator runs.
    let out = dir.path().join("report.json");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(["report", "--format", "json", "--out"])
        .arg(&out)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--residency")
        .arg(dir.path().join("residency.toml"))
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["transfers"].as_array().unwrap().len(), 3);
    assert_eq!(json["datastores"][0]["location"]["region"], "us-east-1");
    let csv_out = dir.path().join("workloads.csv");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(["report", "--format", "csv", "--section", "workloads", "--out"])
        .arg(&csv_out)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(std::fs::read_to_string(&csv_out).unwrap().starts_with("workload,workload_regions,access,"));
    server.shutdown().await.unwrap();

    // No store: a clear error, nothing created.
    let missing = dir.path().join("elsewhere");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aggregator"))
        .args(["report", "--out"])
        .arg(dir.path().join("never.html"))
        .arg("--data-dir")
        .arg(&missing)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no store at") && stderr.contains("elsewhere"), "{stderr}");
    assert!(!missing.exists() && !dir.path().join("never.html").exists());
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

/// Runs headless Chromium with `args` on `url`; returns (stdout, stderr).
async fn chromium(profile: &Path, args: &[String], url: &str) -> (Vec<u8>, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(CHROMIUM)
            .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
            .args(["--no-first-run", "--disable-extensions", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finishes in time")
    .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "chromium failed: {stderr}");
    (output.stdout, stderr)
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_screenshots_and_prints_the_html_report_without_console_errors() {
    if !Path::new(CHROMIUM).exists() {
        assert!(is_root(), "{CHROMIUM} is missing; as root, `cargo xtask test` installs it (apt-get install chromium)");
        eprintln!(
            "skipped: {CHROMIUM} is not installed and installing it needs root; `sudo cargo xtask test` installs it"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    fill(&server).await;
    let url = format!("http://{}/report", server.http_address().unwrap());
    let profile = dir.path().join("chromium-profile");

    let console = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE") || line.contains("Refused to") || line.contains("Failed to load"))
            .map(str::to_string)
            .collect()
    };
    // The check sees console messages: a page that logs one is caught.
    let (_, probe) =
        chromium(&profile, &["--dump-dom".to_string()], "data:text/html,<script>console.error('probe')</script>").await;
    assert!(console(&probe).iter().any(|line| line.contains("probe")), "console messages not seen: {probe}");

    let (dom, stderr) = chromium(&profile, &["--dump-dom".to_string()], &url).await;
    let dom = String::from_utf8(dom).unwrap();
    assert!(console(&stderr).is_empty(), "console messages: {:#?}", console(&stderr));
    for id in ["header", "summary", "transfers", "datastores", "workloads", "changes", "coverage"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "section {id} missing from the DOM");
    }
    // The hostile table name is text in the DOM, never an element.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains("<script"));

    let artifacts = artifacts();
    std::fs::write(artifacts.join("report.html"), &dom).unwrap();
    let screenshot = artifacts.join("report.png");
    let pdf = artifacts.join("report.pdf");
    let _ = std::fs::remove_file(&screenshot);
    let _ = std::fs::remove_file(&pdf);
    chromium(
        &profile,
        &[format!("--screenshot={}", screenshot.display()), "--window-size=1280,2000".to_string()],
        &url,
    )
    .await;
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
    chromium(&profile, &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".to_string()], &url)
        .await;
    let printed = std::fs::read(&pdf).unwrap();
    assert!(printed.starts_with(b"%PDF"));
    // Every section starts a page: the header and summary, then six more.
    let pages = printed.windows(b"/Type /Page\n".len()).filter(|window| window == b"/Type /Page\n").count()
        + printed.windows(b"/Type /Page/".len()).filter(|window| window == b"/Type /Page/").count()
        + printed.windows(b"/Type /Page ".len()).filter(|window| window == b"/Type /Page ").count()
        + printed.windows(b"/Type /Page>".len()).filter(|window| window == b"/Type /Page>").count();
    println!("report page: {}", artifacts.join("report.html").display());
    println!("report screenshot: {}", screenshot.display());
    println!("report printed to PDF ({pages} pages): {}", pdf.display());
    assert!(pages >= 6, "{pages} pages");
    server.shutdown().await.unwrap();
}
