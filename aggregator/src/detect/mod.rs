//! Detection: classifies inventory columns, places both ends of data
//! accesses and flows, and turns what it sees into findings.
//!
//! The [`Detector`] runs in the store writer, inside the transaction that
//! stores a group of batches, after the inventory of the group is written:
//! column classifications, learned server regions and findings are committed
//! with the batches that caused them, and a rolled-back transaction leaves
//! no finding behind. Created findings are published after the commit.
//!
//! Per group:
//! 1. value signals of the group's column accesses are summed per column,
//!    merged with what is stored, and each touched column is classified
//!    (again when new signals arrived or the rules changed);
//! 2. each data access is placed ([`places`]) and checked: a new client →
//!    datastore pair, a workload's first read of personal data, sensitive
//!    columns moving between regions (TRANSFER);
//! 3. each flow's service edge is checked for novelty;
//! 4. candidates with the same identity are merged, then merged with the
//!    stored finding of that identity or stored as a new one.

pub mod host_names;
pub mod places;
pub mod severity;
pub mod signals;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use classifier::{Category, ColumnRef, ColumnType, Engine, TableEvidence, ValueSignals};
use proto::v1::{AccessKind, DataAccess, Direction, Evidence, Finding, FindingKind, Place, Process, TransferClass};
use residency::{Locator, TransferKind};
use rusqlite::{OptionalExtension, Transaction};

use crate::store::findings;
use crate::store::graph::{EdgeSighting, FastHash};
use crate::store::inventory::{database_of, datastore_id};
use crate::store::{FlowSightings, StoredAccessBatch, StoredBatch, sql_int};
use crate::telemetry::Metrics;
use places::Places;

/// Distinct statements (fingerprints) kept as evidence of one finding.
const MAX_EVIDENCE: usize = 8;
/// Identities of stored drift findings remembered to update them cheaply.
const MAX_KNOWN: usize = 200_000;

/// Errors loading the classifier rules or the residency configuration.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The classifier rules file is unreadable or invalid.
    #[error("invalid --rules file: {0}")]
    Rules(#[source] classifier::Error),
    /// The residency file is unreadable or invalid.
    #[error("invalid --residency file: {0}")]
    Residency(#[source] residency::Error),
}

/// What detection knows beforehand: the classifier rules (defaults plus the
/// user's file) and the residency table (built-in plus the user's file).
pub struct Knowledge {
    /// The column classifier.
    pub engine: Engine,
    /// Regions, countries, jurisdictions, address and host overrides.
    pub locator: Locator,
}

impl Knowledge {
    /// Loads the defaults and the given user files, validating them.
    pub fn load(rules: Option<&Path>, residency: Option<&Path>) -> Result<Self, KnowledgeError> {
        let mut builder = Engine::builder();
        if let Some(path) = rules {
            builder = builder.rules_file(path).map_err(KnowledgeError::Rules)?;
        }
        let engine = builder.build().map_err(KnowledgeError::Rules)?;
        let mut locator = Locator::builtin().map_err(KnowledgeError::Residency)?;
        if let Some(path) = residency {
            locator = locator.with_overrides_file(path).map_err(KnowledgeError::Residency)?;
        }
        Ok(Self { engine, locator })
    }
}

/// (datastore, database, table, column)
type ColumnId = (String, String, String, String);

/// A table of a datastore: datastore, database and table, as in [`ColumnId`].
type TableId = (String, String, String);

/// The family of a column's declared type as a sensor read it on the wire;
/// `None` when unknown, or a value this aggregator does not know.
fn column_type_of(column: &proto::v1::ColumnAccess) -> Option<ColumnType> {
    ColumnType::from_name(&proto::v1::ColumnType::family_name_of(column.column_type)?)
}

fn table_of(id: &ColumnId) -> TableId {
    (id.0.clone(), id.1.clone(), id.2.clone())
}

/// A column's classification as stored.
#[derive(Clone, Debug, Default, PartialEq)]
struct ColumnState {
    signals: Option<ValueSignals>,
    /// The family of the column's declared type, as a sensor last read it.
    column_type: Option<ColumnType>,
    entity: Option<String>,
    category: Option<String>,
    confidence: f64,
    reasons: Vec<String>,
    /// `None`: never classified.
    rules_version: Option<String>,
}

impl ColumnState {
    fn same_result(&self, other: &ColumnState) -> bool {
        self.entity == other.entity
            && self.category == other.category
            && (self.confidence - other.confidence).abs() < 1e-9
            && self.reasons == other.reasons
    }
}

/// The group of batches being committed, as detection reads it.
pub(crate) struct GroupView<'a> {
    /// Flow batches stored.
    pub flows: &'a [StoredBatch],
    /// What each batch of `flows` shows detection, in the same order.
    pub flow_sightings: &'a [FlowSightings],
    /// Data access batches stored.
    pub accesses: &'a [StoredAccessBatch],
    /// Region of each node that sent a batch (empty when it has none).
    pub node_regions: &'a HashMap<String, String>,
    /// Commit time.
    pub now: u64,
}

/// Findings being gathered for one group, in order of first observation.
#[derive(Default)]
struct Candidates {
    order: Vec<Finding>,
    by_key: HashMap<String, usize>,
    /// Stored findings seen again with nothing new but the time and count:
    /// id → (last seen, count).
    touches: HashMap<u64, (u64, u64), FastHash>,
    /// [`EdgeSighting::hash`] of the service edges among the candidates, by
    /// finding identity.
    edge_hashes: HashMap<String, u64>,
}

impl Candidates {
    fn touch(&mut self, id: u64, time: u64, count: u64) {
        let entry = self.touches.entry(id).or_insert((time, 0));
        entry.0 = entry.0.max(time);
        entry.1 = entry.1.saturating_add(count);
    }

    fn add(&mut self, finding: Finding) {
        match self.by_key.get(&finding.key) {
            Some(&index) => merge(&mut self.order[index], finding),
            None => {
                self.by_key.insert(finding.key.clone(), self.order.len());
                self.order.push(finding);
            }
        }
    }
}

/// Merges a later observation into a finding: times widen, counts add,
/// columns, categories and entities are united, evidence is kept up to
/// [`MAX_EVIDENCE`] distinct statements, and the severity never drops.
pub fn merge(finding: &mut Finding, later: Finding) {
    if finding.first_seen_unix_nano == 0
        || (later.first_seen_unix_nano != 0 && later.first_seen_unix_nano < finding.first_seen_unix_nano)
    {
        finding.first_seen_unix_nano = later.first_seen_unix_nano;
    }
    finding.last_seen_unix_nano = finding.last_seen_unix_nano.max(later.last_seen_unix_nano);
    finding.count = finding.count.saturating_add(later.count);
    finding.severity = finding.severity.max(later.severity);
    for (mine, theirs) in [
        (&mut finding.columns, later.columns),
        (&mut finding.categories, later.categories),
        (&mut finding.entities, later.entities),
    ] {
        for value in theirs {
            if !mine.contains(&value) {
                mine.push(value);
            }
        }
        mine.sort();
    }
    unite_uses(&mut finding.explanation, &later.explanation);
    for evidence in later.evidence {
        if finding.evidence.len() >= MAX_EVIDENCE {
            break;
        }
        let known = finding.evidence.iter().any(|kept| {
            kept.fingerprint_id == evidence.fingerprint_id && (evidence.fingerprint_id != 0 || kept.flow_id != 0)
        });
        if !known {
            finding.evidence.push(evidence);
        }
    }
}

/// How a transfer's explanation says the workload used the data.
const READS: &str = " reads personal data ";
const WRITES: &str = " writes personal data ";
const READS_AND_WRITES: &str = " reads and writes personal data ";

/// A transfer seen reading and, later, writing (or the other way round)
/// reads and writes: its explanation says so rather than what the first
/// statement did.
fn unite_uses(explanation: &mut String, later: &str) {
    let texts = [explanation.as_str(), later];
    let reads = texts.iter().any(|text| text.contains(READS) || text.contains(READS_AND_WRITES));
    // " writes personal data " is part of READS_AND_WRITES too.
    let writes = texts.iter().any(|text| text.contains(WRITES));
    if reads && writes && !explanation.contains(READS_AND_WRITES) {
        let used = if explanation.contains(READS) { READS } else { WRITES };
        *explanation = explanation.replacen(used, READS_AND_WRITES, 1);
    }
}

/// Classifies columns, places ends and produces findings; owned by the store
/// writer thread.
pub struct Detector {
    engine: Engine,
    places: Places,
    columns: HashMap<ColumnId, ColumnState>,
    /// What each table's known columns say about its rows (a `vat_number` makes a company's row),
    /// as its columns were last classified with.
    tables: HashMap<TableId, TableEvidence>,
    /// Server regions must be read from the store before the next group
    /// (at start and after a rolled-back transaction).
    endpoints_stale: bool,
    /// Ids of stored findings by identity, for the kinds whose repeats only
    /// move the last-seen time and the count (bounded: emptied when full).
    known: HashMap<String, u64, FastHash>,
    /// The same for service edges, by [`EdgeSighting::hash`]: identity and
    /// id. A batch repeats many edges, and looking one up this way needs no
    /// name to be built (an edge whose identity differs from the one kept
    /// under its hash is looked up in the store instead).
    known_edges: HashMap<u64, (String, u64), FastHash>,
    metrics: Arc<Metrics>,
}

/// Identity of the `NEW_FLOW` finding of a service edge.
fn flow_finding_key(source: &str, destination: &str, port: u32) -> String {
    format!("flow|{source}|{destination}:{port}")
}

/// Whether `key` is `flow_finding_key(source, destination, port)`, without
/// building it.
fn is_flow_finding_key(key: &str, source: &str, destination: &str, port: u32) -> bool {
    key.strip_prefix("flow|")
        .and_then(|rest| rest.strip_prefix(source))
        .and_then(|rest| rest.strip_prefix('|'))
        .and_then(|rest| rest.strip_prefix(destination))
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|digits| {
            digits.bytes().all(|byte| byte.is_ascii_digit())
                && (digits.len() == 1 || !digits.starts_with('0'))
                && digits.parse::<u32>() == Ok(port)
        })
}

/// The name of a client: its workload, else its command, else its address
/// (as in the inventory).
fn client_name<'a>(access: &'a DataAccess, process: Option<&'a Process>) -> &'a str {
    process
        .and_then(|process| {
            [process.workload.as_str(), process.command.as_str()].into_iter().find(|name| !name.is_empty())
        })
        .or_else(|| access.client_endpoint.as_ref().map(|endpoint| endpoint.ip.as_str()))
        .unwrap_or("")
}

/// "Frankfurt region eu-central-1, Germany (eu)"-style words for a place;
/// a place decided by a host name says so, with the address it resolved to
/// then: DNS answers change, and the finding must say what it rests on.
fn describe(place: &Place) -> String {
    let mut words = if place.country_name.is_empty() {
        format!("region {} (country unknown)", place.region)
    } else {
        format!("region {} ({}, {})", place.region, place.country_name, jurisdiction_words(&place.jurisdiction))
    };
    if place.override_entry.starts_with(places::BY_HOST_NAME) {
        words.push_str(", placed by ");
        words.push_str(&place.override_entry);
    }
    words
}

fn jurisdiction_words(jurisdiction: &str) -> &str {
    match jurisdiction {
        "eu" => "EU",
        "eea" => "EEA",
        "adequate" => "adequacy decision",
        "third_country" => "third country",
        other => other,
    }
}

fn column_label(table: &str, column: &str) -> String {
    format!("{table}.{column}")
}

impl Detector {
    /// A detector using `knowledge`, counting into `metrics`.
    pub fn new(knowledge: Knowledge, metrics: Arc<Metrics>) -> Self {
        Self {
            engine: knowledge.engine,
            places: Places::new(knowledge.locator, HashMap::new()),
            columns: HashMap::new(),
            tables: HashMap::new(),
            endpoints_stale: true,
            known: HashMap::with_hasher(FastHash),
            known_edges: HashMap::with_hasher(FastHash),
            metrics,
        }
    }

    /// Forgets cached state after a rolled-back transaction; it is read from
    /// the store again.
    pub fn rolled_back(&mut self) {
        self.columns.clear();
        self.known.clear();
        self.known_edges.clear();
        self.endpoints_stale = true;
    }

    /// Classifies, places and detects for one group inside `transaction`;
    /// returns the findings created (with their ids), for publishing once
    /// the transaction commits.
    pub(crate) fn process(
        &mut self,
        transaction: &Transaction<'_>,
        group: &GroupView<'_>,
    ) -> rusqlite::Result<Vec<Finding>> {
        if self.endpoints_stale {
            let mut statement = transaction.prepare("SELECT ip, region FROM endpoint_regions")?;
            let endpoints = statement
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<HashMap<_, _>>>()?;
            self.places.reset_endpoints(endpoints);
            self.endpoints_stale = false;
        }
        let mut candidates = Candidates::default();
        self.learn_endpoints(transaction, group)?;
        self.classify_columns(transaction, group, &mut candidates)?;
        for (node, region) in group.node_regions {
            if !region.is_empty() && !self.seen_again(&mut candidates, &format!("region|{region}"), group.now, 1) {
                let place = self.places.region(region, places::BY_NODE);
                candidates.add(self.new_region(&place, node, group.now));
            }
        }
        for batch in group.accesses {
            let region = group.node_regions.get(&batch.node_name).map_or("", String::as_str);
            for index in 0..batch.len() {
                self.detect_access(batch, index, region, &mut candidates);
            }
        }
        debug_assert_eq!(group.flows.len(), group.flow_sightings.len());
        for (batch, sightings) in group.flows.iter().zip(group.flow_sightings) {
            let region = group.node_regions.get(&batch.node_name).map_or("", String::as_str);
            self.detect_flows(batch, sightings, region, &mut candidates);
        }
        self.store(transaction, candidates)
    }

    fn learn_endpoints(&mut self, transaction: &Transaction<'_>, group: &GroupView<'_>) -> rusqlite::Result<()> {
        let mut learned: Vec<(String, String, String)> = Vec::new();
        for (batch, sightings) in group.flows.iter().zip(group.flow_sightings) {
            let region = group.node_regions.get(&batch.node_name).map_or("", String::as_str);
            for server in &sightings.servers {
                if self.places.learn_endpoint(server, region) {
                    learned.push((server.clone(), batch.node_name.clone(), region.to_string()));
                }
            }
        }
        for batch in group.accesses {
            let region = group.node_regions.get(&batch.node_name).map_or("", String::as_str);
            for (index, access) in batch.block.accesses.iter().enumerate() {
                // No client process: the sensor saw the server side.
                if batch.block.process(index).is_none()
                    && let Some(server) = &access.server
                    && self.places.learn_endpoint(&server.ip, region)
                {
                    learned.push((server.ip.clone(), batch.node_name.clone(), region.to_string()));
                }
            }
        }
        let mut statement = transaction.prepare_cached(
            "INSERT INTO endpoint_regions (ip, node_name, region, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (ip) DO UPDATE SET node_name = excluded.node_name, region = excluded.region,
                 last_seen = excluded.last_seen",
        )?;
        for (ip, node, region) in learned {
            statement.execute(rusqlite::params![ip, node, region, sql_int(group.now)])?;
        }
        Ok(())
    }

    fn load_column(transaction: &Transaction<'_>, id: &ColumnId) -> rusqlite::Result<ColumnState> {
        let row = transaction
            .prepare_cached(
                "SELECT signals, entity, category, confidence, reasons, rules_version, column_type FROM datastore_columns
                 WHERE datastore = ?1 AND database_name = ?2 AND table_name = ?3 AND column_name = ?4",
            )?
            .query_row(rusqlite::params![id.0, id.1, id.2, id.3], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<f64>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                ))
            })
            .optional()?;
        let Some((signals, entity, category, confidence, reasons, rules_version, column_type)) = row else {
            return Ok(ColumnState::default());
        };
        // A stored value this version cannot read is classified afresh.
        Ok(ColumnState {
            signals: signals.and_then(|text| serde_json::from_str(&text).ok()),
            column_type: column_type.as_deref().and_then(ColumnType::from_name),
            entity,
            category,
            confidence: confidence.unwrap_or(0.0),
            reasons: reasons.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default(),
            rules_version,
        })
    }

    fn classify_columns(
        &mut self,
        transaction: &Transaction<'_>,
        group: &GroupView<'_>,
        candidates: &mut Candidates,
    ) -> rusqlite::Result<()> {
        // Columns touched, with the signals the group brought for them.
        let mut touched: BTreeMap<ColumnId, Option<ValueSignals>> = BTreeMap::new();
        let mut first_access: HashMap<ColumnId, (u64, u64)> = HashMap::new();
        let mut types: HashMap<ColumnId, ColumnType> = HashMap::new();
        let mut unknown_validators = 0;
        for batch in group.accesses {
            for (index, access) in batch.block.accesses.iter().enumerate() {
                let Some(server) = access.server.as_ref().filter(|server| !server.ip.is_empty()) else {
                    continue;
                };
                let datastore = datastore_id(server);
                for column in
                    access.columns.iter().filter(|column| !column.table.is_empty() && !column.column.is_empty())
                {
                    let id = (
                        datastore.clone(),
                        database_of(access, &column.table).to_string(),
                        column.table.clone(),
                        column.column.clone(),
                    );
                    first_access.entry(id.clone()).or_insert((batch.first_id + index as u64, access.time_unix_nano));
                    if let Some(column_type) = column_type_of(column) {
                        types.insert(id.clone(), column_type);
                    }
                    let entry = touched.entry(id).or_default();
                    if let Some(received) = &column.signals {
                        let (converted, unknown) = signals::from_proto(received);
                        unknown_validators += unknown;
                        match entry {
                            Some(sum) => sum.merge(&converted),
                            None => *entry = Some(converted),
                        }
                    }
                }
            }
        }
        if unknown_validators > 0 {
            self.metrics.unknown_signal_validators.fetch_add(unknown_validators, Ordering::Relaxed);
        }
        self.classify_touched(transaction, touched, &types, &first_access, group.now, candidates)
    }

    /// Classifies stored columns that were never classified or were
    /// classified with other rules (the `--rules` file changed), so the
    /// inventory and findings follow the rules in force without waiting for
    /// new traffic. Returns the findings created.
    pub(crate) fn reclassify_stale(
        &mut self,
        transaction: &Transaction<'_>,
        now: u64,
    ) -> rusqlite::Result<Vec<Finding>> {
        let version = self.engine.rules_version().to_string();
        let mut statement = transaction.prepare(
            "SELECT datastore, database_name, table_name, column_name FROM datastore_columns
             WHERE rules_version IS NULL OR rules_version <> ?1",
        )?;
        let touched = statement
            .query_map([&version], |row| Ok(((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?), None)))?
            .collect::<rusqlite::Result<BTreeMap<ColumnId, Option<ValueSignals>>>>()?;
        drop(statement);
        let mut candidates = Candidates::default();
        self.classify_touched(transaction, touched, &HashMap::new(), &HashMap::new(), now, &mut candidates)?;
        self.store(transaction, candidates)
    }

    /// Classifies `touched` columns with the signals received for them and
    /// the declared types sensors read for them (`types`); `first_access`
    /// gives the access (id, time) that showed each one.
    fn classify_touched(
        &mut self,
        transaction: &Transaction<'_>,
        mut touched: BTreeMap<ColumnId, Option<ValueSignals>>,
        types: &HashMap<ColumnId, ColumnType>,
        first_access: &HashMap<ColumnId, (u64, u64)>,
        now: u64,
        candidates: &mut Candidates,
    ) -> rusqlite::Result<()> {
        let version = self.engine.rules_version().to_string();
        let changed_tables = self.update_table_evidence(transaction, &mut touched)?;
        for (id, received) in touched {
            let table = table_of(&id);
            let again = changed_tables.contains(&table);
            let received_type = types.get(&id).copied();
            let mut state = match self.columns.get(&id) {
                // Seen before, no new signals or type, same rules and table evidence: nothing to do.
                Some(state)
                    if received.is_none()
                        && received_type.is_none_or(|column_type| state.column_type == Some(column_type))
                        && !again
                        && state.rules_version.as_deref() == Some(version.as_str()) =>
                {
                    continue;
                }
                Some(state) => state.clone(),
                None => Self::load_column(transaction, &id)?,
            };
            let stale = state.rules_version.as_deref() != Some(version.as_str());
            let new_type = received_type.filter(|column_type| state.column_type != Some(*column_type));
            if received.is_none() && new_type.is_none() && !stale && !again {
                self.columns.insert(id, state);
                continue;
            }
            if let Some(column_type) = new_type {
                state.column_type = Some(column_type);
            }
            if let Some(received) = received {
                match &mut state.signals {
                    Some(sum) => sum.merge(&received),
                    None => state.signals = Some(received),
                }
            }
            let (table_schema, table_name) = match id.2.rsplit_once('.') {
                Some((schema, table)) => (Some(schema), table),
                None => (None, id.2.as_str()),
            };
            let column = ColumnRef {
                schema: table_schema.or(Some(id.1.as_str())).filter(|schema| !schema.is_empty()),
                table: table_name,
                column: &id.3,
                siblings: self.tables.get(&table).copied().unwrap_or_default(),
                column_type: state.column_type,
            };
            let classification = self.engine.classify(&column, state.signals.as_ref());
            let result = ColumnState {
                signals: state.signals,
                column_type: state.column_type,
                entity: classification.entity.map(str::to_string),
                category: classification.category.map(|category: Category| category.as_str().to_string()),
                confidence: classification.confidence,
                reasons: classification
                    .reasons
                    .iter()
                    .filter_map(|reason| serde_json::to_string(reason).ok())
                    .collect(),
                rules_version: Some(version.clone()),
            };
            let changed = !result.same_result(&state) || stale;
            let newly_sensitive = result.category.is_some() && state.category.is_none();
            transaction
                .prepare_cached(
                    "UPDATE datastore_columns SET signals = ?5, entity = ?6, category = ?7, confidence = ?8,
                         reasons = ?9, rules_version = ?10, column_type = ?13,
                         classified_at = CASE WHEN ?11 THEN ?12 ELSE classified_at END
                     WHERE datastore = ?1 AND database_name = ?2 AND table_name = ?3 AND column_name = ?4",
                )?
                .execute(rusqlite::params![
                    id.0,
                    id.1,
                    id.2,
                    id.3,
                    result.signals.as_ref().and_then(|signals| serde_json::to_string(signals).ok()),
                    result.entity,
                    result.category,
                    result.confidence,
                    serde_json::to_string(&result.reasons).unwrap_or_else(|_| "[]".to_string()),
                    result.rules_version,
                    changed,
                    sql_int(now),
                    result.column_type.map(ColumnType::name),
                ])?;
            if changed {
                self.metrics.columns_classified.fetch_add(1, Ordering::Relaxed);
            }
            if newly_sensitive {
                let (access_id, time) = first_access.get(&id).copied().unwrap_or((0, now));
                candidates.add(self.new_sensitive_column(&id, &result, access_id, time));
            }
            self.columns.insert(id, result);
        }
        Ok(())
    }

    /// Works out again what the columns of each table with a column not seen before say about its
    /// rows, from every column the store knows of it. A table whose evidence changed (a
    /// `vat_number` appeared: its rows are companies') has all its known columns added to
    /// `touched`, and is returned so that they are classified again.
    fn update_table_evidence(
        &mut self,
        transaction: &Transaction<'_>,
        touched: &mut BTreeMap<ColumnId, Option<ValueSignals>>,
    ) -> rusqlite::Result<BTreeSet<TableId>> {
        let tables: BTreeSet<TableId> =
            touched.keys().filter(|id| !self.columns.contains_key(*id)).map(table_of).collect();
        let mut changed = BTreeSet::new();
        for table in tables {
            let mut names: BTreeSet<String> = transaction
                .prepare_cached(
                    "SELECT column_name FROM datastore_columns
                     WHERE datastore = ?1 AND database_name = ?2 AND table_name = ?3",
                )?
                .query_map(rusqlite::params![table.0, table.1, table.2], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            names.extend(
                touched.keys().filter(|id| id.0 == table.0 && id.1 == table.1 && id.2 == table.2).map(|id| id.3.clone()),
            );
            let evidence = self.engine.table_evidence(names.iter().map(String::as_str));
            let previous = self.tables.insert(table.clone(), evidence).unwrap_or_default();
            if previous != evidence {
                for name in names {
                    touched.entry((table.0.clone(), table.1.clone(), table.2.clone(), name)).or_default();
                }
                changed.insert(table);
            }
        }
        Ok(changed)
    }

    fn new_region(&self, place: &Place, node: &str, time: u64) -> Finding {
        let region = &place.region;
        let where_ = if place.country_name.is_empty() {
            "It is not in the residency table: map it in the --residency file so transfers involving it can be \
             assessed."
                .to_string()
        } else {
            format!("It is in {} ({}).", place.country_name, jurisdiction_words(&place.jurisdiction))
        };
        let how = if place.placed_by == places::BY_OVERRIDE {
            format!("an endpoint placed there by the residency configuration ({node})")
        } else {
            format!("node {node}")
        };
        finding(
            FindingKind::NewRegion,
            format!("region|{region}"),
            format!("New region {region}"),
            format!("Region {region} was seen for the first time, from {how}. {where_}"),
            time,
            |finding| {
                finding.source = region.clone();
                finding.source_place = Some(place.clone());
            },
        )
    }

    fn new_sensitive_column(&self, id: &ColumnId, state: &ColumnState, access_id: u64, time: u64) -> Finding {
        let (datastore, database, table, column) = id;
        let label = column_label(table, column);
        let entity = state.entity.clone().unwrap_or_default();
        let category = state.category.clone().unwrap_or_default();
        finding(
            FindingKind::NewSensitiveColumn,
            format!("column|{datastore}|{database}|{table}|{column}"),
            format!("Column {label} holds {category} data ({entity})"),
            format!(
                "Column {label} of datastore {datastore} (database \"{database}\") was classified as {entity} \
                 ({category}) with confidence {:.2}, from its name and the value signals sensors computed on \
                 their nodes.",
                state.confidence
            ),
            time,
            |finding| {
                finding.destination = datastore.clone();
                finding.columns = vec![label.clone()];
                finding.categories = vec![category.clone()];
                finding.entities = vec![entity.clone()];
                finding.evidence = vec![Evidence { access_id, ..Evidence::default() }];
            },
        )
    }

    fn client_place(&self, access: &DataAccess, process: Option<&Process>, node_region: &str) -> Option<Place> {
        access
            .client_endpoint
            .as_ref()
            .and_then(|endpoint| self.places.override_for(&endpoint.ip))
            .or_else(|| process.and_then(|_| self.places.node(node_region)))
    }

    fn server_place(&self, access: &DataAccess, process: Option<&Process>, node_region: &str) -> Option<Place> {
        let server = access.server.as_ref()?;
        if let Some(place) = self.places.override_for(&server.ip) {
            return Some(place);
        }
        let seen_here = process.is_none() || places::is_loopback(&server.ip);
        if seen_here && let Some(place) = self.places.node(node_region) {
            return Some(place);
        }
        self.places.server(&server.ip)
    }

    fn detect_access(&self, batch: &StoredAccessBatch, index: usize, node_region: &str, candidates: &mut Candidates) {
        let Some(access) = batch.block.accesses.get(index) else {
            return;
        };
        let Some(server) = access.server.as_ref().filter(|server| !server.ip.is_empty()) else {
            return;
        };
        let process = batch.block.process(index);
        let access_id = batch.first_id + index as u64;
        let client = client_name(access, process);
        let datastore = datastore_id(server);
        let datastore_name = if access.server_workload.is_empty() {
            datastore.clone()
        } else {
            format!("{} ({datastore})", access.server_workload)
        };
        let client_place = self.client_place(access, process, node_region);
        let server_place = self.server_place(access, process, node_region);
        for place in [&client_place, &server_place].into_iter().flatten() {
            if place.placed_by == places::BY_OVERRIDE
                && !self.seen_again(candidates, &format!("region|{}", place.region), access.time_unix_nano, 1)
            {
                candidates.add(self.new_region(place, &batch.node_name, access.time_unix_nano));
            }
        }
        let evidence = Evidence {
            fingerprint: access.fingerprint.clone(),
            fingerprint_id: access.fingerprint_id,
            access_id,
            flow_id: 0,
        };
        let time = access.time_unix_nano;
        let count = access.count.max(1);

        let pair = format!("access|{client}|{datastore}");
        if !self.seen_again(candidates, &pair, time, count) {
            let how = if access.encrypted {
                "over an encrypted (TLS) session, so what it ran cannot be read".to_string()
            } else {
                format!("database \"{}\"", access.database)
            };
            candidates.add(finding(
                FindingKind::NewFlow,
                pair,
                format!("New datastore client: {client} → {datastore_name}"),
                format!("Workload {client} used datastore {datastore_name} for the first time ({how})."),
                time,
                |finding| {
                    finding.source = client.to_string();
                    finding.destination = datastore_name.clone();
                    finding.source_place = client_place.clone();
                    finding.destination_place = server_place.clone();
                    finding.count = count;
                    finding.evidence = vec![evidence.clone()];
                },
            ));
        }

        // Sensitive columns of this access, as classified now.
        let mut columns = Vec::new();
        let mut categories = Vec::new();
        let mut entities = Vec::new();
        let (mut reads, mut writes) = (false, false);
        for column in &access.columns {
            let id = (
                datastore.clone(),
                database_of(access, &column.table).to_string(),
                column.table.clone(),
                column.column.clone(),
            );
            let Some(state) = self.columns.get(&id) else {
                continue;
            };
            let (Some(category), Some(entity)) = (&state.category, &state.entity) else {
                continue;
            };
            let label = column_label(&column.table, &column.column);
            if !columns.contains(&label) {
                columns.push(label);
            }
            if !categories.contains(category) {
                categories.push(category.clone());
            }
            if !entities.contains(entity) {
                entities.push(entity.clone());
            }
            match column.kind() {
                AccessKind::Write => writes = true,
                _ => reads = true,
            }
        }
        if columns.is_empty() {
            return;
        }
        columns.sort();
        categories.sort();
        entities.sort();
        let fill = |finding: &mut Finding| {
            finding.source = client.to_string();
            finding.destination = datastore_name.clone();
            finding.source_place = client_place.clone();
            finding.destination_place = server_place.clone();
            finding.columns = columns.clone();
            finding.categories = categories.clone();
            finding.entities = entities.clone();
            finding.count = count;
            finding.evidence = vec![evidence.clone()];
        };
        if reads {
            candidates.add(finding(
                FindingKind::FirstPersonalDataRead,
                format!("personal-data-read|{client}"),
                format!("{client} reads personal data for the first time"),
                format!("Workload {client} read personal data for the first time, from datastore {datastore_name}."),
                time,
                fill,
            ));
        }
        if let (Some(client_place), Some(server_place)) = (&client_place, &server_place)
            && client_place.region != server_place.region
        {
            candidates.add(self.transfer(
                (client, client_place),
                (&datastore_name, server_place),
                reads,
                writes,
                &categories,
                fill,
                time,
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &self,
        (client, client_place): (&str, &Place),
        (datastore, server_place): (&str, &Place),
        reads: bool,
        writes: bool,
        categories: &[String],
        fill: impl FnOnce(&mut Finding),
        time: u64,
    ) -> Finding {
        let locate = |place: &Place| self.places.locator().locate_region(&place.region);
        let eea = |place: &Place| matches!(place.jurisdiction.as_str(), "eu" | "eea");
        // Personal data of an EEA workload kept outside the EEA, or personal
        // data held in the EEA read from outside it, is a transfer out of the
        // EEA; otherwise the data moves the way the statements move it.
        let workload_to_datastore = if eea(client_place) && !eea(server_place) {
            true
        } else if eea(server_place) && !eea(client_place) && reads {
            false
        } else {
            writes
        };
        let ((from_name, from), (to_name, to)) = if workload_to_datastore {
            ((client, client_place), (datastore, server_place))
        } else {
            ((datastore, server_place), (client, client_place))
        };
        let assessment = residency::assess_transfer_between(locate(from).as_ref(), locate(to).as_ref());
        let (class, adequacy) = match &assessment.kind {
            TransferKind::SameRegion | TransferKind::WithinEea => {
                (TransferClass::WithinEea, "not needed: within the EEA".to_string())
            }
            TransferKind::ToAdequateCountry { scope, decision_date } => {
                (TransferClass::ToAdequateCountry, format!("adequacy decision of {decision_date}; scope: {scope}"))
            }
            TransferKind::ToThirdCountry => (TransferClass::ToThirdCountry, "no adequacy decision".to_string()),
            TransferKind::FromOutsideEea => {
                (TransferClass::FromOutsideEea, "not applicable: the data leaves a place outside the EEA".to_string())
            }
            TransferKind::Unknown => {
                (TransferClass::Unknown, "unknown: a place is not in the residency table".to_string())
            }
        };
        let uses = match (reads, writes) {
            (true, true) => READS_AND_WRITES,
            (false, true) => WRITES,
            _ => READS,
        };
        let direction = format!("{} → {}", from.region, to.region);
        let mut built = finding(
            FindingKind::Transfer,
            format!("transfer|{}|{}|{client}|{datastore}", from.region, to.region),
            format!("Personal data moves {direction}: {from_name} → {to_name}"),
            format!(
                "Workload {client} in {}{uses}held by datastore {datastore} in {}. {}",
                describe(client_place),
                describe(server_place),
                assessment.explanation
            ),
            time,
            fill,
        );
        built.transfer_class = class as i32;
        built.requires_mechanism = assessment.requires_mechanism;
        built.adequacy = adequacy;
        built.direction = direction;
        built.data_movement =
            if workload_to_datastore { "workload_to_datastore" } else { "datastore_to_workload" }.to_string();
        built.severity =
            severity::severity(FindingKind::Transfer, categories, class, assessment.requires_mechanism) as i32;
        built
    }

    fn detect_flows(
        &self,
        batch: &StoredBatch,
        sightings: &FlowSightings,
        node_region: &str,
        candidates: &mut Candidates,
    ) {
        // Each distinct edge of the batch once (worked out when the batch was
        // prepared); a known one costs a lookup, and names and places are
        // worked out only for edges not seen before.
        let mut local = None;
        for &EdgeSighting { hash, first_index: index } in &sightings.edges {
            let Some(flow) = batch.block.flows.get(index) else {
                continue;
            };
            let Some((source, destination, port)) = crate::store::edge_names(flow, batch.block.process(index)) else {
                continue;
            };
            if let Some((key, id)) = self.known_edges.get(&hash)
                && is_flow_finding_key(key, &source, &destination, port)
            {
                candidates.touch(*id, flow.time_unix_nano, 1);
                continue;
            }
            let key = flow_finding_key(&source, &destination, port);
            candidates.edge_hashes.insert(key.clone(), hash);
            let local = local.get_or_insert_with(|| self.places.node(node_region)).clone();
            let remote = flow.remote.as_ref().and_then(|remote| {
                if places::is_loopback(&remote.ip) { local.clone() } else { self.places.server(&remote.ip) }
            });
            if let Some(place) = &remote
                && place.placed_by == places::BY_OVERRIDE
                && !self.seen_again(candidates, &format!("region|{}", place.region), flow.time_unix_nano, 1)
            {
                candidates.add(self.new_region(place, &batch.node_name, flow.time_unix_nano));
            }
            let (source_place, destination_place) =
                if flow.direction() == Direction::Inbound { (remote, local) } else { (local, remote) };
            candidates.add(finding(
                FindingKind::NewFlow,
                key,
                format!("New connection: {source} → {destination}:{port}"),
                format!(
                    "{source} connected to {destination} on port {port} for the first time (seen by node {}).",
                    batch.node_name
                ),
                flow.time_unix_nano,
                |finding| {
                    finding.source = source.to_string();
                    finding.destination = format!("{destination}:{port}");
                    finding.source_place = source_place;
                    finding.destination_place = destination_place;
                    finding.evidence = vec![Evidence { flow_id: batch.first_id + index as u64, ..Evidence::default() }];
                },
            ));
        }
    }

    /// When `key` is a known finding, counts this observation against it
    /// and returns true; false means the caller builds a full candidate.
    fn seen_again(&self, candidates: &mut Candidates, key: &str, time: u64, count: u64) -> bool {
        match self.known.get(key) {
            Some(&id) => {
                candidates.touch(id, time, count);
                true
            }
            None => false,
        }
    }

    fn store(&mut self, transaction: &Transaction<'_>, candidates: Candidates) -> rusqlite::Result<Vec<Finding>> {
        let mut next_id = findings::next_id(transaction)?;
        let mut created = Vec::new();
        let Candidates { order, touches, edge_hashes, .. } = candidates;
        for candidate in order {
            let light = matches!(candidate.kind(), FindingKind::NewFlow | FindingKind::NewRegion);
            let (key, id) = match findings::load(transaction, &candidate.key)? {
                Some(mut stored) => {
                    let before = stored.clone();
                    merge(&mut stored, candidate);
                    if stored != before {
                        findings::save(transaction, &stored)?;
                    }
                    (stored.key, stored.id)
                }
                None => {
                    let mut new = candidate;
                    new.id = next_id;
                    next_id += 1;
                    findings::save(transaction, &new)?;
                    self.metrics.finding_created(new.kind());
                    let known = (new.key.clone(), new.id);
                    created.push(new);
                    known
                }
            };
            if let Some(&hash) = edge_hashes.get(&key) {
                if self.known_edges.len() >= MAX_KNOWN {
                    self.known_edges.clear();
                }
                self.known_edges.insert(hash, (key, id));
            } else if light {
                if self.known.len() >= MAX_KNOWN {
                    self.known.clear();
                }
                self.known.insert(key, id);
            }
        }
        for (id, (last_seen, count)) in touches {
            findings::touch(transaction, id, last_seen, count)?;
        }
        findings::set_next_id(transaction, next_id)?;
        Ok(created)
    }
}

/// A finding of `kind` seen once at `time`, with the severity its kind and
/// categories give (transfers set theirs after).
fn finding(
    kind: FindingKind,
    key: String,
    title: String,
    explanation: String,
    time: u64,
    fill: impl FnOnce(&mut Finding),
) -> Finding {
    let mut finding = Finding {
        kind: kind as i32,
        key,
        title,
        explanation,
        first_seen_unix_nano: time,
        last_seen_unix_nano: time,
        count: 1,
        ..Finding::default()
    };
    fill(&mut finding);
    finding.severity = severity::severity(kind, &finding.categories, TransferClass::Unknown, true) as i32;
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::v1::Severity;

    fn observation(time: u64, severity: Severity, columns: &[&str], fingerprint_id: u64) -> Finding {
        Finding {
            key: "k".into(),
            severity: severity as i32,
            first_seen_unix_nano: time,
            last_seen_unix_nano: time,
            count: 1,
            columns: columns.iter().map(|column| column.to_string()).collect(),
            evidence: vec![Evidence { fingerprint_id, ..Evidence::default() }],
            ..Finding::default()
        }
    }

    #[test]
    fn merging_widens_times_unites_columns_bounds_evidence_and_never_lowers_severity() {
        let mut finding = observation(50, Severity::High, &["t.b"], 1);
        merge(&mut finding, observation(20, Severity::Low, &["t.a", "t.b"], 1));
        for fingerprint in 2..20 {
            merge(&mut finding, observation(90, Severity::Low, &[], fingerprint));
        }
        assert_eq!((finding.first_seen_unix_nano, finding.last_seen_unix_nano, finding.count), (20, 90, 20));
        assert_eq!(finding.columns, ["t.a", "t.b"]);
        assert_eq!(finding.severity(), Severity::High);
        let ids: Vec<u64> = finding.evidence.iter().map(|evidence| evidence.fingerprint_id).collect();
        assert_eq!(ids, (1..=MAX_EVIDENCE as u64).collect::<Vec<_>>());
    }

    #[test]
    fn an_edge_is_recognised_by_its_finding_identity_alone() {
        let key = flow_finding_key("shop/web", "10.0.0.2", 5432);
        assert!(is_flow_finding_key(&key, "shop/web", "10.0.0.2", 5432));
        for (source, destination, port) in [
            ("shop/web", "10.0.0.2", 543),
            ("shop/web", "10.0.0.2", 54321),
            ("shop/we", "10.0.0.2", 5432),
            ("shop/web", "10.0.0.20", 5432),
            ("shop/web|10.0.0.2", "", 5432),
        ] {
            assert!(!is_flow_finding_key(&key, source, destination, port), "{source} {destination} {port}");
        }
        assert!(!is_flow_finding_key("flow|a|b:05", "a", "b", 5));
        assert!(!is_flow_finding_key("flow|a|b:+5", "a", "b", 5));
        assert!(!is_flow_finding_key("access|a|b:5", "a", "b", 5));
    }

    #[test]
    fn a_transfer_read_then_written_reads_and_writes() {
        let said = |uses: &str| format!("Workload psql in region eu-central-1 (Germany, EU){uses}held by datastore d.");
        for (first, later, united) in [
            (READS, WRITES, READS_AND_WRITES),
            (WRITES, READS, READS_AND_WRITES),
            (READS, READS_AND_WRITES, READS_AND_WRITES),
            (READS_AND_WRITES, WRITES, READS_AND_WRITES),
            (READS, READS, READS),
            (WRITES, WRITES, WRITES),
        ] {
            let mut finding = Finding { explanation: said(first), ..observation(10, Severity::Low, &[], 1) };
            merge(&mut finding, Finding { explanation: said(later), ..observation(20, Severity::Low, &[], 2) });
            assert_eq!(finding.explanation, said(united), "{first:?} then {later:?}");
        }
    }
}
