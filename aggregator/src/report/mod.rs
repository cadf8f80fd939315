//! The data-residency report for compliance officers: where personal data is
//! stored and processed, every cross-border transfer with its evidence, what
//! changed, and a summary of the risks, built from the store.
//!
//! [`build`] reads the store (findings first, then the inventory: the
//! inventory is written before the findings in every commit, so it covers
//! every column a finding names) into a [`Report`], which the renderers turn
//! into a self-contained HTML page ([`html`]), JSON ([`Report::to_json`],
//! field names documented in `docs/report.md`) or CSV ([`csv`]).
//!
//! Evidence is statement fingerprints and record ids only; query literals
//! and values never reach the aggregator, so they never reach a report.

pub mod csv;
pub mod html;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proto::v1::{
    AccessKind, DatabaseProtocol, Finding, FindingFilter, FindingKind, GetInventoryRequest, Place, Severity,
    TransferClass,
};
use residency::Locator;
use serde::Serialize;

use crate::client::time::format_rfc3339;
use crate::detect::places::{self, Places};
use crate::store::{Store, StoreError};

/// Categories of personal data whose exposure weighs most (GDPR Art. 9,
/// health, card data, credentials), as in the severities of findings.
pub const HIGH_RISK_CATEGORIES: &[&str] = &["SPECIAL", "PHI", "PCI", "CREDENTIAL"];

/// How many transfers and workloads the summary lists.
const SUMMARY_TOP: usize = 10;

/// Errors building a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store could not be read.
    #[error("cannot read the store: {0}")]
    Store(#[from] StoreError),
    /// The report could not be encoded (JSON or CSV).
    #[error("cannot encode the report: {0}")]
    Encode(String),
}

/// The whole report. Field names are stable (see `docs/report.md`).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When, by what and from what the report was made.
    pub header: Header,
    /// The answers first: risks, exposed services, where sensitive data goes.
    pub summary: Summary,
    /// Every cross-border transfer (TRANSFER findings), riskiest first.
    pub transfers: Vec<Transfer>,
    /// Every datastore, with its place and the personal data it holds.
    pub datastores: Vec<Datastore>,
    /// Every workload that used a datastore, with the personal data it reads and writes.
    pub workloads: Vec<Workload>,
    /// What changed (drift findings), newest first.
    pub changes: Vec<Change>,
    /// The nodes whose sensors reported, and what they lost.
    pub nodes: Vec<NodeCoverage>,
}

/// When, by what and from what the report was made.
#[derive(Clone, Debug, Serialize)]
pub struct Header {
    /// Generation time, RFC 3339 (UTC).
    pub generated_at: String,
    /// Version of the aggregator that made the report.
    pub aggregator_version: String,
    /// Versions of the classifier rules the stored column classifications were made with.
    pub rules_versions: Vec<String>,
    /// Version of the residency table used to place datastores and nodes.
    pub residency_version: String,
    /// Date the built-in residency table was last checked.
    pub residency_as_of: String,
    /// Oldest and newest observation the report rests on (RFC 3339), absent when nothing was observed.
    pub evidence_from: Option<String>,
    /// See `evidence_from`.
    pub evidence_until: Option<String>,
    /// Nothing was observed yet: no sensor reported, no datastore or finding is stored.
    pub nothing_observed: bool,
}

/// Counts of findings per severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// HIGH findings.
    pub high: u64,
    /// MEDIUM findings.
    pub medium: u64,
    /// LOW findings.
    pub low: u64,
    /// INFO findings.
    pub info: u64,
}

impl SeverityCounts {
    fn add(&mut self, severity: i32) {
        match Severity::try_from(severity).unwrap_or(Severity::Unknown) {
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info | Severity::Unknown => self.info += 1,
        }
    }
}

/// The answers first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Every finding, per severity.
    pub findings_by_severity: SeverityCounts,
    /// Transfers, per severity.
    pub transfers_by_severity: SeverityCounts,
    /// Transfers that need a transfer mechanism (SCCs, BCRs, …) unless the recipient is covered.
    pub transfers_requiring_mechanism: u64,
    /// Datastores seen, and those holding personal data.
    pub datastores: u64,
    /// See `datastores`.
    pub datastores_with_personal_data: u64,
    /// Columns classified as personal data.
    pub personal_data_columns: u64,
    /// Workloads seen using a datastore, and those reading or writing personal data.
    pub workloads: u64,
    /// See `workloads`.
    pub workloads_with_personal_data: u64,
    /// The riskiest transfers: severity, then observations.
    pub top_transfers: Vec<TopTransfer>,
    /// Workloads reading or writing personal data, riskiest first.
    pub exposed_workloads: Vec<ExposedWorkload>,
    /// Where sensitive data moves: transfers grouped by direction.
    pub data_flows: Vec<DataFlow>,
    /// Where personal data is stored: datastores grouped by region (unplaced ones last).
    pub storage_by_region: Vec<RegionStorage>,
}

/// One line of the summary's riskiest transfers.
#[derive(Clone, Debug, Serialize)]
pub struct TopTransfer {
    /// Finding id.
    pub id: u64,
    /// HIGH, MEDIUM, LOW or INFO.
    pub severity: String,
    /// The finding's one-line title.
    pub title: String,
    /// The workload and the datastore.
    pub workload: String,
    /// See `workload`.
    pub datastore: String,
    /// Regions the data moves between, "from → to".
    pub direction: String,
    /// Categories of the data (PII, SPECIAL, PHI, PCI, CREDENTIAL).
    pub categories: Vec<String>,
    /// Observations counted.
    pub count: u64,
}

/// A workload that reads or writes personal data.
#[derive(Clone, Debug, Serialize)]
pub struct ExposedWorkload {
    /// Workload name.
    pub workload: String,
    /// Highest severity of the findings about it (empty when none).
    pub highest_severity: String,
    /// Cross-border transfers it takes part in.
    pub transfers: u64,
    /// Categories of the personal data it reads or writes.
    pub categories: Vec<String>,
    /// Regions of the datastores holding that data (those that are placed).
    pub datastore_regions: Vec<String>,
    /// Statements reading or writing personal data, counted.
    pub statements: u64,
}

/// Transfers between two regions.
#[derive(Clone, Debug, Serialize)]
pub struct DataFlow {
    /// Region the data leaves, and the region it reaches.
    pub from_region: String,
    /// See `from_region`.
    pub to_region: String,
    /// Country names of both ends (empty when unknown).
    pub from_country: String,
    /// See `from_country`.
    pub to_country: String,
    /// Categories of the data moving.
    pub categories: Vec<String>,
    /// Distinct columns moving.
    pub columns: u64,
    /// Transfers (findings) in this direction, and their highest severity.
    pub transfers: u64,
    /// See `transfers`.
    pub highest_severity: String,
    /// Observations counted.
    pub count: u64,
}

/// Personal data stored in one region.
#[derive(Clone, Debug, Serialize)]
pub struct RegionStorage {
    /// Region (empty when the datastores are not placed).
    pub region: String,
    /// Country name and jurisdiction of the region (empty when unknown).
    pub country_name: String,
    /// See `country_name`.
    pub jurisdiction: String,
    /// Datastores holding personal data there.
    pub datastores: u64,
    /// Personal-data columns there.
    pub columns: u64,
    /// Their categories.
    pub categories: Vec<String>,
}

/// Where something is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Region (cloud region or as configured).
    pub region: String,
    /// ISO 3166-1 alpha-2 code and English name; empty when the region is not in the residency table.
    pub country: String,
    /// See `country`.
    pub country_name: String,
    /// "eu", "eea", "adequate", "third_country"; empty when unknown.
    pub jurisdiction: String,
    /// "override" (residency file, by address or host name) or "node" (the region of the node that saw the process).
    pub placed_by: String,
    /// For "override": the residency entry that placed it ("network 10.50.0.0/16",
    /// "host name db.example.com (resolved 10.50.0.9)").
    #[serde(skip_serializing_if = "String::is_empty")]
    pub override_entry: String,
}

impl Location {
    fn from_place(place: &Place) -> Option<Self> {
        (!place.region.is_empty()).then(|| Self {
            region: place.region.clone(),
            country: place.country.clone(),
            country_name: place.country_name.clone(),
            jurisdiction: place.jurisdiction.clone(),
            placed_by: place.placed_by.clone(),
            override_entry: place.override_entry.clone(),
        })
    }
}

/// One stored statement a finding rests on.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceItem {
    /// The statement with every literal replaced by `?`.
    pub fingerprint: String,
    /// Its hash, hexadecimal.
    pub fingerprint_id: String,
    /// The data access (or flow) id that showed it first; 0 when none.
    pub access_id: u64,
    /// See `access_id`.
    pub flow_id: u64,
}

/// A cross-border transfer: a TRANSFER finding.
#[derive(Clone, Debug, Serialize)]
pub struct Transfer {
    /// Finding id.
    pub id: u64,
    /// HIGH, MEDIUM, LOW or INFO.
    pub severity: String,
    /// One line, then the explanation in plain words.
    pub title: String,
    /// See `title`.
    pub explanation: String,
    /// The workload (client) and the datastore.
    pub workload: String,
    /// See `workload`.
    pub datastore: String,
    /// Where the workload and the datastore are.
    pub workload_location: Option<Location>,
    /// See `workload_location`.
    pub datastore_location: Option<Location>,
    /// Where the data leaves from and goes to (the way the personal data is considered to move).
    pub from: Option<Location>,
    /// See `from`.
    pub to: Option<Location>,
    /// "from-region → to-region".
    pub direction: String,
    /// "workload_to_datastore" or "datastore_to_workload".
    pub data_movement: String,
    /// "within_eea", "to_adequate_country", "to_third_country", "from_outside_eea" or "unknown".
    pub transfer_class: String,
    /// Whether a transfer mechanism is needed (unless the recipient is covered by the decision).
    pub requires_mechanism: bool,
    /// The adequacy decision that applies (scope and date), or why none does.
    pub adequacy: String,
    /// Categories, entities and columns ("table.column") of the data.
    pub categories: Vec<String>,
    /// See `categories`.
    pub entities: Vec<String>,
    /// See `categories`.
    pub columns: Vec<String>,
    /// First and last observation (RFC 3339) and how many were counted.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
    /// See `first_seen`.
    pub count: u64,
    /// The statements that showed it, by fingerprint.
    pub evidence: Vec<EvidenceItem>,
}

/// A column holding personal data.
#[derive(Clone, Debug, Serialize)]
pub struct PersonalColumn {
    /// Database, table and column names as the datastore reports them.
    pub database: String,
    /// See `database`.
    pub table: String,
    /// See `database`.
    pub column: String,
    /// The family of its declared type as the server described it on the wire (`text`,
    /// `integer`, `date`, …); empty when no result has described it yet.
    pub column_type: String,
    /// Entity (EMAIL_ADDRESS, CREDIT_CARD, …), category and the classifier's confidence (0 to 1).
    pub entity: String,
    /// See `entity`.
    pub category: String,
    /// See `entity`.
    pub confidence: f64,
    /// Workloads that read it and that write it.
    pub read_by: Vec<String>,
    /// See `read_by`.
    pub written_by: Vec<String>,
    /// First and last access seen.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
}

/// A datastore.
#[derive(Clone, Debug, Serialize)]
pub struct Datastore {
    /// Server endpoint, `ip:port`.
    pub id: String,
    /// The server's workload when a sensor saw it (empty otherwise).
    pub name: String,
    /// "postgresql", "mysql" or "unknown".
    pub protocol: String,
    /// Where it is; absent when no override or sensor places it.
    pub location: Option<Location>,
    /// Databases seen on it.
    pub databases: Vec<String>,
    /// Tables and columns seen on it.
    pub tables: u64,
    /// See `tables`.
    pub columns: u64,
    /// Categories of the personal data it holds.
    pub categories: Vec<String>,
    /// Its columns holding personal data.
    pub personal_data_columns: Vec<PersonalColumn>,
    /// Services whose sessions with it were encrypted: what they read or
    /// wrote there cannot be seen, so it is in no other section.
    pub encrypted_sessions: Vec<EncryptedSessions>,
    /// First and last access seen.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
}

/// A service's encrypted sessions with one datastore.
#[derive(Clone, Debug, Serialize)]
pub struct EncryptedSessions {
    /// The service (workload, else command, else address).
    pub workload: String,
    /// Sessions seen.
    pub sessions: u64,
    /// First and last session seen.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
}

/// Personal data a workload reads or writes in one column.
#[derive(Clone, Debug, Serialize)]
pub struct WorkloadAccess {
    /// The datastore (id) and its region (empty when unknown).
    pub datastore: String,
    /// See `datastore`.
    pub datastore_region: String,
    /// Database, table and column.
    pub database: String,
    /// See `database`.
    pub table: String,
    /// See `database`.
    pub column: String,
    /// Entity and category of the column.
    pub entity: String,
    /// See `entity`.
    pub category: String,
    /// Statements counted, first and last seen.
    pub statements: u64,
    /// See `statements`.
    pub first_seen: String,
    /// See `statements`.
    pub last_seen: String,
}

/// A workload that used a datastore.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    /// Workload name (else command, else address).
    pub name: String,
    /// Where it was seen running (one per region).
    pub locations: Vec<Location>,
    /// Datastores it used (ids).
    pub datastores: Vec<String>,
    /// Categories of the personal data it reads or writes.
    pub categories: Vec<String>,
    /// Personal data it reads, and writes.
    pub reads: Vec<WorkloadAccess>,
    /// See `reads`.
    pub writes: Vec<WorkloadAccess>,
    /// Cross-border transfers it takes part in.
    pub transfers: u64,
    /// Highest severity of the findings about it (empty when none).
    pub highest_severity: String,
}

/// A drift finding: something seen for the first time.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// Finding id.
    pub id: u64,
    /// NEW_FLOW, FIRST_PERSONAL_DATA_READ, NEW_SENSITIVE_COLUMN or NEW_REGION.
    pub kind: String,
    /// HIGH, MEDIUM, LOW or INFO.
    pub severity: String,
    /// One line, then the explanation in plain words.
    pub title: String,
    /// See `title`.
    pub explanation: String,
    /// The workload (or region) and the datastore or server.
    pub source: String,
    /// See `source`.
    pub destination: String,
    /// Columns and categories involved.
    pub columns: Vec<String>,
    /// See `columns`.
    pub categories: Vec<String>,
    /// First and last observation, and how many were counted.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
    /// See `first_seen`.
    pub count: u64,
}

/// A node whose sensor reported.
#[derive(Clone, Debug, Serialize)]
pub struct NodeCoverage {
    /// Node name.
    pub name: String,
    /// Where it is, from its region label; absent when it has none.
    pub location: Option<Location>,
    /// Sensor version last seen.
    pub sensor_version: String,
    /// First and last report.
    pub first_seen: String,
    /// See `first_seen`.
    pub last_seen: String,
    /// Events the sensor lost (kernel ring buffer, its buffers, payloads), all sessions:
    /// observations that are missing from the report.
    pub events_lost: u64,
}

/// Formats a time for reports: RFC 3339, seconds, UTC; empty for zero.
pub fn time_text(unix_nano: u64) -> String {
    if unix_nano == 0 { String::new() } else { format_rfc3339(unix_nano, 0) }
}

/// "HIGH", "MEDIUM", "LOW", "INFO" (empty for unknown).
pub fn severity_name(severity: i32) -> &'static str {
    match Severity::try_from(severity).unwrap_or(Severity::Unknown) {
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
        Severity::Unknown => "",
    }
}

/// "TRANSFER", "NEW_FLOW", … ("UNKNOWN" for unknown).
pub fn kind_name(kind: i32) -> &'static str {
    match FindingKind::try_from(kind).unwrap_or(FindingKind::Unknown) {
        FindingKind::Transfer => "TRANSFER",
        FindingKind::NewFlow => "NEW_FLOW",
        FindingKind::FirstPersonalDataRead => "FIRST_PERSONAL_DATA_READ",
        FindingKind::NewSensitiveColumn => "NEW_SENSITIVE_COLUMN",
        FindingKind::NewRegion => "NEW_REGION",
        FindingKind::Unknown => "UNKNOWN",
    }
}

fn transfer_class_name(class: i32) -> &'static str {
    match TransferClass::try_from(class).unwrap_or(TransferClass::Unknown) {
        TransferClass::WithinEea => "within_eea",
        TransferClass::ToAdequateCountry => "to_adequate_country",
        TransferClass::ToThirdCountry => "to_third_country",
        TransferClass::FromOutsideEea => "from_outside_eea",
        TransferClass::Unknown => "unknown",
    }
}

fn protocol_name(protocol: i32) -> &'static str {
    match DatabaseProtocol::try_from(protocol) {
        Ok(DatabaseProtocol::Postgresql) => "postgresql",
        Ok(DatabaseProtocol::Mysql) => "mysql",
        _ => "unknown",
    }
}

/// The datastore id a finding's destination names: "name (ip:port)" or "ip:port".
fn datastore_of_destination(destination: &str) -> &str {
    destination.strip_suffix(')').and_then(|inner| inner.rsplit_once(" (")).map_or(destination, |(_, id)| id)
}

/// What the findings tell about a workload.
#[derive(Default)]
struct WorkloadFacts {
    /// Places of the workload, by region.
    locations: BTreeMap<String, Location>,
    /// Highest severity of the findings about it.
    severity: i32,
    /// Transfers it takes part in.
    transfers: u64,
}

fn sorted(set: BTreeSet<String>) -> Vec<String> {
    set.into_iter().collect()
}

/// Builds the report from the store at `now_unix_nano`, placing datastores
/// and nodes with `locator` (the residency table in force).
pub fn build(store: &Store, locator: &Locator, now_unix_nano: u64) -> Result<Report, ReportError> {
    // Findings first: the inventory read after them covers every column they name.
    let mut findings = store.findings(&FindingFilter::default())?;
    let inventory = store.inventory(&GetInventoryRequest::default())?;
    let sensors = store.sensors()?;
    let places = Places::new(locator.clone(), store.endpoint_regions()?);
    let recorded = store.recorded_time_range()?;

    // Places the detector decided, for ends the residency table and the
    // learned server regions cannot place now (loopback datastores).
    let mut found_datastore_places: HashMap<String, Place> = HashMap::new();
    let mut facts: HashMap<String, WorkloadFacts> = HashMap::new();
    for finding in &findings {
        if finding.kind() == FindingKind::NewRegion {
            continue;
        }
        if let Some(place) = finding.destination_place.as_ref().filter(|place| !place.region.is_empty()) {
            found_datastore_places.insert(datastore_of_destination(&finding.destination).to_string(), place.clone());
        }
        if finding.kind() == FindingKind::NewSensitiveColumn || finding.source.is_empty() {
            continue;
        }
        let known = facts.entry(finding.source.clone()).or_default();
        if let Some(location) = finding.source_place.as_ref().and_then(Location::from_place) {
            known.locations.insert(location.region.clone(), location);
        }
        known.severity = known.severity.max(finding.severity);
        if finding.kind() == FindingKind::Transfer {
            known.transfers += 1;
        }
    }

    let mut summary = Summary::default();
    let mut rules_versions = BTreeSet::new();
    let mut datastores = Vec::new();
    let mut workloads: BTreeMap<String, Workload> = BTreeMap::new();
    let workload = |workloads: &mut BTreeMap<String, Workload>, name: &str, datastore: &str| {
        let entry = workloads.entry(name.to_string()).or_insert_with(|| {
            let known = facts.get(name);
            Workload {
                name: name.to_string(),
                locations: known.map(|known| known.locations.values().cloned().collect()).unwrap_or_default(),
                datastores: Vec::new(),
                categories: Vec::new(),
                reads: Vec::new(),
                writes: Vec::new(),
                transfers: known.map_or(0, |known| known.transfers),
                highest_severity: severity_name(known.map_or(0, |known| known.severity)).to_string(),
            }
        });
        if !entry.datastores.iter().any(|known| known == datastore) {
            entry.datastores.push(datastore.to_string());
        }
    };
    for stored in &inventory {
        let ip = stored.server.as_ref().map_or("", |server| server.ip.as_str());
        let location = places
            .server(ip)
            .or_else(|| found_datastore_places.get(&stored.id).cloned())
            .as_ref()
            .and_then(Location::from_place);
        let region = location.as_ref().map_or(String::new(), |location| location.region.clone());
        let mut entry = Datastore {
            id: stored.id.clone(),
            name: stored.workload.clone(),
            protocol: protocol_name(stored.protocol).to_string(),
            location,
            databases: stored.databases.iter().map(|database| database.name.clone()).collect(),
            tables: 0,
            columns: 0,
            categories: Vec::new(),
            personal_data_columns: Vec::new(),
            encrypted_sessions: stored
                .encrypted_sessions
                .iter()
                .map(|client| EncryptedSessions {
                    workload: client.workload.clone(),
                    sessions: client.statements,
                    first_seen: time_text(client.first_seen_unix_nano),
                    last_seen: time_text(client.last_seen_unix_nano),
                })
                .collect(),
            first_seen: time_text(stored.first_seen_unix_nano),
            last_seen: time_text(stored.last_seen_unix_nano),
        };
        for client in &stored.encrypted_sessions {
            workload(&mut workloads, &client.workload, &stored.id);
        }
        let mut categories = BTreeSet::new();
        for database in &stored.databases {
            for table in &database.tables {
                entry.tables += 1;
                for accessor in &table.accessors {
                    workload(&mut workloads, &accessor.workload, &stored.id);
                }
                for column in &table.columns {
                    entry.columns += 1;
                    let classification = column.classification.as_ref();
                    if let Some(classification) = classification {
                        rules_versions.insert(classification.rules_version.clone());
                    }
                    let personal = classification.filter(|classification| !classification.category.is_empty());
                    let mut read_by = BTreeSet::new();
                    let mut written_by = BTreeSet::new();
                    for accessor in &column.accessors {
                        workload(&mut workloads, &accessor.workload, &stored.id);
                        let Some(classification) = personal else {
                            continue;
                        };
                        let Some(user) = workloads.get_mut(&accessor.workload) else {
                            continue;
                        };
                        let access = WorkloadAccess {
                            datastore: stored.id.clone(),
                            datastore_region: region.clone(),
                            database: database.name.clone(),
                            table: table.name.clone(),
                            column: column.name.clone(),
                            entity: classification.entity.clone(),
                            category: classification.category.clone(),
                            statements: accessor.statements,
                            first_seen: time_text(accessor.first_seen_unix_nano),
                            last_seen: time_text(accessor.last_seen_unix_nano),
                        };
                        if !user.categories.contains(&classification.category) {
                            user.categories.push(classification.category.clone());
                            user.categories.sort();
                        }
                        if accessor.kind == AccessKind::Write as i32 {
                            written_by.insert(accessor.workload.clone());
                            user.writes.push(access);
                        } else {
                            read_by.insert(accessor.workload.clone());
                            user.reads.push(access);
                        }
                    }
                    let Some(classification) = personal else {
                        continue;
                    };
                    categories.insert(classification.category.clone());
                    entry.personal_data_columns.push(PersonalColumn {
                        database: database.name.clone(),
                        table: table.name.clone(),
                        column: column.name.clone(),
                        column_type: proto::v1::ColumnType::family_name_of(column.column_type).unwrap_or_default(),
                        entity: classification.entity.clone(),
                        category: classification.category.clone(),
                        confidence: classification.confidence,
                        read_by: sorted(read_by),
                        written_by: sorted(written_by),
                        first_seen: time_text(column.first_seen_unix_nano),
                        last_seen: time_text(column.last_seen_unix_nano),
                    });
                }
            }
        }
        entry.categories = sorted(categories);
        datastores.push(entry);
    }
    // Datastores holding personal data first.
    datastores.sort_by(|a, b| {
        a.personal_data_columns.is_empty().cmp(&b.personal_data_columns.is_empty()).then(a.id.cmp(&b.id))
    });
    let mut workloads: Vec<Workload> = workloads.into_values().collect();
    for entry in &mut workloads {
        entry.datastores.sort();
    }

    // Transfers, riskiest first: severity, then observations, then age.
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.count.cmp(&a.count)).then(a.id.cmp(&b.id)));
    let mut transfers = Vec::new();
    let mut changes = Vec::new();
    for finding in &findings {
        summary.findings_by_severity.add(finding.severity);
        if finding.kind() == FindingKind::Transfer {
            summary.transfers_by_severity.add(finding.severity);
            summary.transfers_requiring_mechanism += u64::from(finding.requires_mechanism);
            transfers.push(transfer(finding));
        } else {
            changes.push(change(finding));
        }
    }
    changes.sort_by(|a, b| b.first_seen.cmp(&a.first_seen).then(b.id.cmp(&a.id)));

    summary.datastores = datastores.len() as u64;
    summary.datastores_with_personal_data =
        datastores.iter().filter(|datastore| !datastore.personal_data_columns.is_empty()).count() as u64;
    summary.personal_data_columns =
        datastores.iter().map(|datastore| datastore.personal_data_columns.len() as u64).sum();
    summary.workloads = workloads.len() as u64;
    summary.workloads_with_personal_data =
        workloads.iter().filter(|workload| !workload.categories.is_empty()).count() as u64;
    summary.top_transfers = transfers
        .iter()
        .take(SUMMARY_TOP)
        .map(|transfer| TopTransfer {
            id: transfer.id,
            severity: transfer.severity.clone(),
            title: transfer.title.clone(),
            workload: transfer.workload.clone(),
            datastore: transfer.datastore.clone(),
            direction: transfer.direction.clone(),
            categories: transfer.categories.clone(),
            count: transfer.count,
        })
        .collect();
    summary.exposed_workloads = exposed_workloads(&workloads);
    summary.data_flows = data_flows(&transfers);
    summary.storage_by_region = storage_by_region(&datastores);

    let nodes = nodes(&sensors, &places);
    // The observations themselves; findings' times only when no record is
    // stored (a node's new region is dated when its batch was stored).
    let finding_times = findings.iter().flat_map(|finding| [finding.first_seen_unix_nano, finding.last_seen_unix_nano]);
    let times: Vec<u64> = match recorded {
        Some((first, last)) => vec![first, last],
        None => finding_times.filter(|time| *time > 0).collect(),
    };
    let header = Header {
        generated_at: time_text(now_unix_nano),
        aggregator_version: env!("CARGO_PKG_VERSION").to_string(),
        rules_versions: sorted(rules_versions),
        residency_version: locator.data_version().to_string(),
        residency_as_of: locator.as_of().to_string(),
        evidence_from: times.iter().min().map(|time| time_text(*time)),
        evidence_until: times.iter().max().map(|time| time_text(*time)),
        nothing_observed: sensors.is_empty() && inventory.is_empty() && findings.is_empty() && recorded.is_none(),
    };
    Ok(Report { header, summary, transfers, datastores, workloads, changes, nodes })
}

fn transfer(finding: &Finding) -> Transfer {
    let workload_location = finding.source_place.as_ref().and_then(Location::from_place);
    let datastore_location = finding.destination_place.as_ref().and_then(Location::from_place);
    let (from, to) = if finding.data_movement == "workload_to_datastore" {
        (workload_location.clone(), datastore_location.clone())
    } else {
        (datastore_location.clone(), workload_location.clone())
    };
    Transfer {
        id: finding.id,
        severity: severity_name(finding.severity).to_string(),
        title: finding.title.clone(),
        explanation: finding.explanation.clone(),
        workload: finding.source.clone(),
        datastore: finding.destination.clone(),
        workload_location,
        datastore_location,
        from,
        to,
        direction: finding.direction.clone(),
        data_movement: finding.data_movement.clone(),
        transfer_class: transfer_class_name(finding.transfer_class).to_string(),
        requires_mechanism: finding.requires_mechanism,
        adequacy: finding.adequacy.clone(),
        categories: finding.categories.clone(),
        entities: finding.entities.clone(),
        columns: finding.columns.clone(),
        first_seen: time_text(finding.first_seen_unix_nano),
        last_seen: time_text(finding.last_seen_unix_nano),
        count: finding.count,
        evidence: finding
            .evidence
            .iter()
            .map(|evidence| EvidenceItem {
                fingerprint: evidence.fingerprint.clone(),
                fingerprint_id: format!("{:016x}", evidence.fingerprint_id),
                access_id: evidence.access_id,
                flow_id: evidence.flow_id,
            })
            .collect(),
    }
}

fn change(finding: &Finding) -> Change {
    Change {
        id: finding.id,
        kind: kind_name(finding.kind).to_string(),
        severity: severity_name(finding.severity).to_string(),
        title: finding.title.clone(),
        explanation: finding.explanation.clone(),
        source: finding.source.clone(),
        destination: finding.destination.clone(),
        columns: finding.columns.clone(),
        categories: finding.categories.clone(),
        first_seen: time_text(finding.first_seen_unix_nano),
        last_seen: time_text(finding.last_seen_unix_nano),
        count: finding.count,
    }
}

fn severity_rank(name: &str) -> u8 {
    match name {
        "HIGH" => 4,
        "MEDIUM" => 3,
        "LOW" => 2,
        "INFO" => 1,
        _ => 0,
    }
}

fn exposed_workloads(workloads: &[Workload]) -> Vec<ExposedWorkload> {
    let mut exposed: Vec<ExposedWorkload> = workloads
        .iter()
        .filter(|workload| !workload.categories.is_empty() || workload.transfers > 0)
        .map(|workload| {
            let regions: BTreeSet<String> = workload
                .reads
                .iter()
                .chain(&workload.writes)
                .map(|access| access.datastore_region.clone())
                .filter(|region| !region.is_empty())
                .collect();
            ExposedWorkload {
                workload: workload.name.clone(),
                highest_severity: workload.highest_severity.clone(),
                transfers: workload.transfers,
                categories: workload.categories.clone(),
                datastore_regions: sorted(regions),
                statements: workload.reads.iter().chain(&workload.writes).map(|access| access.statements).sum(),
            }
        })
        .collect();
    let high_risk = |workload: &ExposedWorkload| {
        workload.categories.iter().any(|category| HIGH_RISK_CATEGORIES.contains(&category.as_str()))
    };
    exposed.sort_by(|a, b| {
        severity_rank(&b.highest_severity)
            .cmp(&severity_rank(&a.highest_severity))
            .then(b.transfers.cmp(&a.transfers))
            .then(high_risk(b).cmp(&high_risk(a)))
            .then(b.statements.cmp(&a.statements))
            .then(a.workload.cmp(&b.workload))
    });
    exposed.truncate(SUMMARY_TOP);
    exposed
}

fn data_flows(transfers: &[Transfer]) -> Vec<DataFlow> {
    struct Sums {
        flow: DataFlow,
        categories: BTreeSet<String>,
        columns: BTreeSet<String>,
    }
    let region =
        |location: &Option<Location>| location.as_ref().map_or(String::new(), |location| location.region.clone());
    let country =
        |location: &Option<Location>| location.as_ref().map_or(String::new(), |location| location.country_name.clone());
    let mut by_direction: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for transfer in transfers {
        let key = (region(&transfer.from), region(&transfer.to));
        let sums = by_direction.entry(key.clone()).or_insert_with(|| Sums {
            flow: DataFlow {
                from_region: key.0,
                to_region: key.1,
                from_country: country(&transfer.from),
                to_country: country(&transfer.to),
                categories: Vec::new(),
                columns: 0,
                transfers: 0,
                highest_severity: String::new(),
                count: 0,
            },
            categories: BTreeSet::new(),
            columns: BTreeSet::new(),
        });
        sums.flow.transfers += 1;
        sums.flow.count += transfer.count;
        if severity_rank(&transfer.severity) > severity_rank(&sums.flow.highest_severity) {
            sums.flow.highest_severity = transfer.severity.clone();
        }
        sums.categories.extend(transfer.categories.iter().cloned());
        sums.columns.extend(transfer.columns.iter().map(|column| format!("{}|{column}", transfer.datastore)));
    }
    let mut flows: Vec<DataFlow> = by_direction
        .into_values()
        .map(|sums| DataFlow { categories: sorted(sums.categories), columns: sums.columns.len() as u64, ..sums.flow })
        .collect();
    flows.sort_by(|a, b| {
        severity_rank(&b.highest_severity).cmp(&severity_rank(&a.highest_severity)).then(b.count.cmp(&a.count))
    });
    flows
}

fn storage_by_region(datastores: &[Datastore]) -> Vec<RegionStorage> {
    let mut by_region: BTreeMap<String, (RegionStorage, BTreeSet<String>)> = BTreeMap::new();
    for datastore in datastores.iter().filter(|datastore| !datastore.personal_data_columns.is_empty()) {
        let region = datastore.location.as_ref().map_or(String::new(), |location| location.region.clone());
        let (storage, categories) = by_region.entry(region.clone()).or_insert_with(|| {
            (
                RegionStorage {
                    region,
                    country_name: datastore.location.as_ref().map_or(String::new(), |l| l.country_name.clone()),
                    jurisdiction: datastore.location.as_ref().map_or(String::new(), |l| l.jurisdiction.clone()),
                    datastores: 0,
                    columns: 0,
                    categories: Vec::new(),
                },
                BTreeSet::new(),
            )
        });
        storage.datastores += 1;
        storage.columns += datastore.personal_data_columns.len() as u64;
        categories.extend(datastore.categories.iter().cloned());
    }
    let mut storage: Vec<RegionStorage> = by_region
        .into_values()
        .map(|(storage, categories)| RegionStorage { categories: sorted(categories), ..storage })
        .collect();
    // Datastores no place is known for come last.
    storage.sort_by_key(|storage| storage.region.is_empty());
    storage
}

fn nodes(sensors: &[proto::v1::SensorStatus], places: &Places) -> Vec<NodeCoverage> {
    // Sessions come most recently seen first: the first one of a node is its latest.
    let mut by_name: BTreeMap<String, NodeCoverage> = BTreeMap::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    for sensor in sensors {
        let node = sensor.node.clone().unwrap_or_default();
        let lost = sensor.counters.as_ref().map_or(0, |counters| {
            counters
                .kernel_lost
                .saturating_add(counters.buffer_dropped_flows)
                .saturating_add(counters.buffer_dropped_accesses)
                .saturating_add(counters.payloads_lost)
        });
        let first = first_seen.entry(node.name.clone()).or_insert(sensor.first_seen_unix_nano);
        *first = (*first).min(sensor.first_seen_unix_nano);
        let entry = by_name.entry(node.name.clone()).or_insert_with(|| NodeCoverage {
            name: node.name.clone(),
            location: places.node(&node.region).as_ref().and_then(Location::from_place),
            sensor_version: sensor.sensor_version.clone(),
            first_seen: String::new(),
            last_seen: time_text(sensor.last_seen_unix_nano),
            events_lost: 0,
        });
        entry.events_lost = entry.events_lost.saturating_add(lost);
    }
    by_name
        .into_values()
        .map(|mut node| {
            node.first_seen = time_text(first_seen.get(&node.name).copied().unwrap_or(0));
            node
        })
        .collect()
}

impl Report {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|error| ReportError::Encode(error.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Words for a jurisdiction code, for people.
pub fn jurisdiction_words(jurisdiction: &str) -> &str {
    match jurisdiction {
        "eu" => "EU member state",
        "eea" => "EEA member",
        "adequate" => "adequacy decision",
        "third_country" => "third country",
        "" => "unknown",
        other => other,
    }
}

/// Words for how a place was decided.
pub fn placed_by_words(placed_by: &str) -> &str {
    match placed_by {
        places::BY_OVERRIDE => "residency configuration",
        places::BY_NODE => "node region",
        "" => "unknown",
        other => other,
    }
}
