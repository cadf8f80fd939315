//! The report as CSV for spreadsheets: one section per file, UTF-8 with a
//! header row, quoted as RFC 4180 says. Cells that a spreadsheet would run
//! as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) are prefixed with a single quote: names and fingerprints come
//! from the network.

use super::{Location, Report, ReportError};

/// Which part of the report a CSV file holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Section {
    /// One row per cross-border transfer (TRANSFER finding).
    #[default]
    Transfers,
    /// One row per column holding personal data, per datastore.
    Columns,
    /// One row per datastore, whether or not it holds personal data: where it is and what it holds.
    Datastores,
    /// One row per workload, column and kind of access (read or write) of personal data.
    Workloads,
    /// One row per drift finding.
    Changes,
}

impl Section {
    /// Every section, by its name.
    pub const ALL: [(&'static str, Section); 5] = [
        ("transfers", Section::Transfers),
        ("columns", Section::Columns),
        ("datastores", Section::Datastores),
        ("workloads", Section::Workloads),
        ("changes", Section::Changes),
    ];

    /// The section named `name` (as in `--section` and `?section=`).
    pub fn from_name(name: &str) -> Option<Section> {
        Self::ALL.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, section)| *section)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, section)| *section == self).map_or("transfers", |(name, _)| name)
    }
}

/// Makes a cell safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return would start a formula, so it gets a `'` first.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The header row of each section, in column order.
pub fn header(section: Section) -> &'static [&'static str] {
    match section {
        Section::Transfers => &[
            "id",
            "severity",
            "workload",
            "datastore",
            "direction",
            "data_movement",
            "from_region",
            "from_country",
            "from_jurisdiction",
            "to_region",
            "to_country",
            "to_jurisdiction",
            "transfer_class",
            "requires_mechanism",
            "adequacy",
            "categories",
            "entities",
            "columns",
            "first_seen",
            "last_seen",
            "count",
            "evidence_fingerprints",
            "evidence_access_ids",
            "title",
            "explanation",
        ],
        Section::Columns => &[
            "datastore",
            "datastore_name",
            "region",
            "country",
            "jurisdiction",
            "database",
            "table",
            "column",
            "column_type",
            "entity",
            "category",
            "confidence",
            "read_by",
            "written_by",
            "first_seen",
            "last_seen",
        ],
        Section::Datastores => &[
            "datastore",
            "datastore_name",
            "protocol",
            "region",
            "country",
            "country_name",
            "jurisdiction",
            "placed_by",
            "databases",
            "tables",
            "columns",
            "personal_data_columns",
            "categories",
            "entities",
            "encrypted_sessions",
            "first_seen",
            "last_seen",
        ],
        Section::Workloads => &[
            "workload",
            "workload_regions",
            "access",
            "datastore",
            "datastore_region",
            "database",
            "table",
            "column",
            "entity",
            "category",
            "statements",
            "first_seen",
            "last_seen",
        ],
        Section::Changes => &[
            "id",
            "kind",
            "severity",
            "source",
            "destination",
            "columns",
            "categories",
            "first_seen",
            "last_seen",
            "count",
            "title",
            "explanation",
        ],
    }
}

fn part(location: &Option<Location>, field: impl Fn(&Location) -> &str) -> String {
    location.as_ref().map_or(String::new(), |location| field(location).to_string())
}

/// Lists in one cell are separated by "; ".
fn list(values: &[String]) -> String {
    values.join("; ")
}

/// The rows of `section`, header first.
pub fn rows(report: &Report, section: Section) -> Vec<Vec<String>> {
    let mut rows = vec![header(section).iter().map(|name| name.to_string()).collect()];
    match section {
        Section::Transfers => {
            for transfer in &report.transfers {
                rows.push(vec![
                    transfer.id.to_string(),
                    transfer.severity.clone(),
                    transfer.workload.clone(),
                    transfer.datastore.clone(),
                    transfer.direction.clone(),
                    transfer.data_movement.clone(),
                    part(&transfer.from, |location| &location.region),
                    part(&transfer.from, |location| &location.country),
                    part(&transfer.from, |location| &location.jurisdiction),
                    part(&transfer.to, |location| &location.region),
                    part(&transfer.to, |location| &location.country),
                    part(&transfer.to, |location| &location.jurisdiction),
                    transfer.transfer_class.clone(),
                    transfer.requires_mechanism.to_string(),
                    transfer.adequacy.clone(),
                    list(&transfer.categories),
                    list(&transfer.entities),
                    list(&transfer.columns),
                    transfer.first_seen.clone(),
                    transfer.last_seen.clone(),
                    transfer.count.to_string(),
                    transfer
                        .evidence
                        .iter()
                        .map(|evidence| evidence.fingerprint.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    transfer
                        .evidence
                        .iter()
                        .map(|evidence| evidence.access_id.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                    transfer.title.clone(),
                    transfer.explanation.clone(),
                ]);
            }
        }
        Section::Columns => {
            for datastore in &report.datastores {
                for column in &datastore.personal_data_columns {
                    rows.push(vec![
                        datastore.id.clone(),
                        datastore.name.clone(),
                        part(&datastore.location, |location| &location.region),
                        part(&datastore.location, |location| &location.country),
                        part(&datastore.location, |location| &location.jurisdiction),
                        column.database.clone(),
                        column.table.clone(),
                        column.column.clone(),
                        column.column_type.clone(),
                        column.entity.clone(),
                        column.category.clone(),
                        format!("{:.2}", column.confidence),
                        list(&column.read_by),
                        list(&column.written_by),
                        column.first_seen.clone(),
                        column.last_seen.clone(),
                    ]);
                }
            }
        }
        Section::Datastores => {
            for datastore in &report.datastores {
                let entities: std::collections::BTreeSet<&str> =
                    datastore.personal_data_columns.iter().map(|column| column.entity.as_str()).collect();
                rows.push(vec![
                    datastore.id.clone(),
                    datastore.name.clone(),
                    datastore.protocol.clone(),
                    part(&datastore.location, |location| &location.region),
                    part(&datastore.location, |location| &location.country),
                    part(&datastore.location, |location| &location.country_name),
                    part(&datastore.location, |location| &location.jurisdiction),
                    part(&datastore.location, |location| &location.placed_by),
                    list(&datastore.databases),
                    datastore.tables.to_string(),
                    datastore.columns.to_string(),
                    datastore.personal_data_columns.len().to_string(),
                    list(&datastore.categories),
                    entities.into_iter().collect::<Vec<_>>().join("; "),
                    datastore.encrypted_sessions.iter().map(|client| client.sessions).sum::<u64>().to_string(),
                    datastore.first_seen.clone(),
                    datastore.last_seen.clone(),
                ]);
            }
        }
        Section::Workloads => {
            for workload in &report.workloads {
                let regions: Vec<String> = workload.locations.iter().map(|location| location.region.clone()).collect();
                for (access, accesses) in [("read", &workload.reads), ("write", &workload.writes)] {
                    for entry in accesses {
                        rows.push(vec![
                            workload.name.clone(),
                            list(&regions),
                            access.to_string(),
                            entry.datastore.clone(),
                            entry.datastore_region.clone(),
                            entry.database.clone(),
                            entry.table.clone(),
                            entry.column.clone(),
                            entry.entity.clone(),
                            entry.category.clone(),
                            entry.statements.to_string(),
                            entry.first_seen.clone(),
                            entry.last_seen.clone(),
                        ]);
                    }
                }
            }
        }
        Section::Changes => {
            for change in &report.changes {
                rows.push(vec![
                    change.id.to_string(),
                    change.kind.clone(),
                    change.severity.clone(),
                    change.source.clone(),
                    change.destination.clone(),
                    list(&change.columns),
                    list(&change.categories),
                    change.first_seen.clone(),
                    change.last_seen.clone(),
                    change.count.to_string(),
                    change.title.clone(),
                    change.explanation.clone(),
                ]);
            }
        }
    }
    rows
}

/// `section` of the report as CSV bytes (UTF-8, header row, CRLF line ends
/// as RFC 4180 says, formula cells neutralised).
pub fn render(report: &Report, section: Section) -> Result<Vec<u8>, ReportError> {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows(report, section) {
        writer
            .write_record(row.iter().map(|cell| neutralize(cell).into_owned()))
            .map_err(|error| ReportError::Encode(error.to_string()))?;
    }
    writer.into_inner().map_err(|error| ReportError::Encode(error.to_string()))
}
