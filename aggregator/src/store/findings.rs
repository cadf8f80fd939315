//! Stored findings: one row per finding, keyed by its identity (`key`),
//! holding the encoded `dataflow.v1.Finding` as last updated.
//!
//! Finding ids are dense and given in creation order, so a follower can join
//! the live feed of created findings exactly where its read of the stored
//! ones ended (as for flows). Repeated observations update a finding's row
//! (last seen, count, columns, evidence); only creations are published live.

use std::ops::ControlFlow;

use proto::v1::{Finding, FindingFilter};
use rusqlite::{OptionalExtension, Transaction};

use super::{HistoryQuery, Store, StoreError, from_sql_int, sql_int};
use crate::fanout::IdRange;

/// Findings with consecutive ids: those created by one commit (live feed),
/// or one stored finding (history read).
#[derive(Clone, Debug, PartialEq)]
pub struct FindingBatch {
    /// Id of the first finding; the others follow without gaps.
    pub first_id: u64,
    /// The findings.
    pub findings: Vec<Finding>,
}

impl IdRange for FindingBatch {
    fn first_id(&self) -> u64 {
        self.first_id
    }

    fn len(&self) -> usize {
        self.findings.len()
    }
}

/// Whether `finding` matches `filter`: every non-empty field of it, each by
/// any of its values. Regions match either end and the new region.
pub fn matches(filter: &FindingFilter, finding: &Finding) -> bool {
    let kind_ok = filter.kind.is_empty() || filter.kind.contains(&finding.kind);
    let severity_ok = filter.severity.is_empty() || filter.severity.contains(&finding.severity);
    let category_ok = filter.category.is_empty()
        || filter
            .category
            .iter()
            .any(|wanted| finding.categories.iter().any(|category| category.eq_ignore_ascii_case(wanted)));
    let region_ok = filter.region.is_empty()
        || filter.region.iter().any(|wanted| {
            [finding.source_place.as_ref(), finding.destination_place.as_ref()]
                .into_iter()
                .flatten()
                .any(|place| &place.region == wanted)
                || (finding.kind == proto::v1::FindingKind::NewRegion as i32 && &finding.source == wanted)
        });
    kind_ok && severity_ok && category_ok && region_ok
}

/// The stored finding with identity `key`. A row that cannot be decoded
/// fails the transaction (as a conversion error of the blob column).
pub(crate) fn load(transaction: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<Finding>> {
    transaction
        .prepare_cached("SELECT finding, last_seen, count FROM findings WHERE key = ?1")?
        .query_row([key], |row| {
            let blob = row.get_ref(0)?.as_blob()?;
            let mut finding = <Finding as prost::Message>::decode(blob).map_err(|error| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(error))
            })?;
            finding.last_seen_unix_nano = from_sql_int(row.get(1)?);
            finding.count = from_sql_int(row.get(2)?);
            Ok(finding)
        })
        .optional()
}

/// Records that the finding `id` was seen again, `count` times, last at
/// `last_seen`, without rewriting it.
pub(crate) fn touch(transaction: &Transaction<'_>, id: u64, last_seen: u64, count: u64) -> rusqlite::Result<()> {
    transaction
        .prepare_cached("UPDATE findings SET last_seen = max(last_seen, ?2), count = count + ?3 WHERE id = ?1")?
        .execute(rusqlite::params![sql_int(id), sql_int(last_seen), sql_int(count)])?;
    Ok(())
}

/// Stores a new finding (its id already set) or replaces the stored one with
/// the same id.
pub(crate) fn save(transaction: &Transaction<'_>, finding: &Finding) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT INTO findings (id, key, kind, severity, first_seen, last_seen, count, finding)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, first_seen = excluded.first_seen,
                 last_seen = excluded.last_seen, count = excluded.count, finding = excluded.finding",
        )?
        .execute(rusqlite::params![
            sql_int(finding.id),
            finding.key,
            finding.kind,
            finding.severity,
            sql_int(finding.first_seen_unix_nano),
            sql_int(finding.last_seen_unix_nano),
            sql_int(finding.count),
            prost::Message::encode_to_vec(finding),
        ])?;
    Ok(())
}

/// The id the next created finding gets.
pub(crate) fn next_id(transaction: &Transaction<'_>) -> rusqlite::Result<u64> {
    let value: i64 =
        transaction.query_row("SELECT value FROM meta WHERE key = 'next_finding_id'", [], |row| row.get(0))?;
    Ok(from_sql_int(value).max(1))
}

/// Records the id the next created finding gets.
pub(crate) fn set_next_id(transaction: &Transaction<'_>, next_id: u64) -> rusqlite::Result<()> {
    transaction
        .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_finding_id'")?
        .execute([sql_int(next_id)])?;
    Ok(())
}

impl Store {
    /// Visits stored findings whose first-seen time is in the query's range,
    /// one at a time in id order (newest first when asked), until `visit`
    /// breaks. Returns the largest finding id when the read started (the
    /// visited findings are at or below it), so a follower joins the live
    /// feed without gap or duplicate. Without a query, only that id is read.
    pub fn scan_findings(
        &self,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(FindingBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.with_reader(|connection| {
            let transaction = connection.transaction()?;
            let next_id: i64 =
                transaction.query_row("SELECT value FROM meta WHERE key = 'next_finding_id'", [], |row| row.get(0))?;
            let max_id = from_sql_int(next_id).saturating_sub(1);
            let Some(query) = query else {
                return Ok(max_id);
            };
            let until = if query.until_unix_nano == 0 { i64::MAX } else { sql_int(query.until_unix_nano) };
            let order = if query.newest_first { "DESC" } else { "ASC" };
            let mut statement = transaction.prepare(&format!(
                "SELECT id, finding, last_seen, count FROM findings WHERE id <= ?1 AND first_seen >= ?2 AND first_seen <= ?3
                 ORDER BY id {order}"
            ))?;
            let mut rows =
                statement.query(rusqlite::params![sql_int(max_id), sql_int(query.since_unix_nano), until])?;
            while let Some(row) = rows.next()? {
                let id = from_sql_int(row.get(0)?);
                let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                let mut finding = <Finding as prost::Message>::decode(blob).map_err(|source| StoreError::Corrupt {
                    kind: "findings",
                    first_id: id,
                    source,
                })?;
                finding.last_seen_unix_nano = from_sql_int(row.get(2)?);
                finding.count = from_sql_int(row.get(3)?);
                if visit(FindingBatch { first_id: id, findings: vec![finding] }).is_break() {
                    break;
                }
            }
            Ok(max_id)
        })
    }

    /// Every stored finding matching `filter`, oldest first, as last updated.
    pub fn findings(&self, filter: &FindingFilter) -> Result<Vec<Finding>, StoreError> {
        let mut found = Vec::new();
        self.scan_findings(Some(&HistoryQuery::default()), &mut |batch| {
            found.extend(batch.findings.into_iter().filter(|finding| matches(filter, finding)));
            ControlFlow::Continue(())
        })?;
        Ok(found)
    }
}
