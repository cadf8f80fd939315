//! The report as one self-contained HTML page: inline CSS, no script, no
//! external resource (a Content-Security-Policy says so), readable on screen
//! and on paper (each section starts a page; rows and cards are not cut).
//! Every string from the store is escaped: names come from the network.

use std::fmt::Write as _;

use super::{Location, Report, jurisdiction_words, placed_by_words};

/// Drift rows shown in the page; the JSON and CSV forms hold all of them.
const MAX_CHANGES: usize = 500;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const STYLE: &str = r#"
:root { --ink: #1d2330; --muted: #5b6474; --line: #d8dde6; --soft: #f4f6f9;
  --high: #b42318; --medium: #b54708; --low: #1f6fb2; --info: #5b6474; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); margin: 0; background: #fff; line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0 0 6px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.intro { color: var(--muted); margin: 6px 0 14px; max-width: 900px; }
section.report-section { margin-top: 36px; }
header.report-header { border-bottom: 1px solid var(--line); padding-bottom: 14px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 0; font-size: 14px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.notice { background: var(--soft); border-left: 4px solid var(--low); padding: 12px 16px; margin: 12px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0 6px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 130px; background: #fff; }
.stat .number { font-size: 26px; font-weight: 700; display: block; }
.stat .label { color: var(--muted); font-size: 13px; }
.stat.high .number { color: var(--high); } .stat.medium .number { color: var(--medium); }
.stat.low .number { color: var(--low); } .stat.info .number { color: var(--info); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
th { background: var(--soft); font-weight: 600; }
td.number, th.number { text-align: right; white-space: nowrap; }
td.when { white-space: nowrap; }
.badge { display: inline-block; font-size: 12px; font-weight: 700; padding: 1px 7px; border-radius: 10px;
  color: #fff; background: var(--info); white-space: nowrap; }
.badge.HIGH { background: var(--high); } .badge.MEDIUM { background: var(--medium); }
.badge.LOW { background: var(--low); } .badge.INFO { background: var(--info); }
.tag { display: inline-block; font-size: 12px; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px;
  margin: 1px 2px 1px 0; background: var(--soft); white-space: nowrap; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.card h3 { margin-top: 0; }
.card p.explanation { margin: 6px 0 10px; }
code, .code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px;
  overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.none { color: var(--muted); font-style: italic; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section.report-section { break-before: page; page-break-before: always; margin-top: 0; }
  tr, .card, .stat, dl.meta { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .badge, .stat, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { margin: 16mm 14mm; }
"#;

fn badge(severity: &str) -> String {
    if severity.is_empty() {
        return "<span class=\"none\">none</span>".to_string();
    }
    format!("<span class=\"badge {0}\">{0}</span>", escape(severity))
}

fn tags(values: &[String]) -> String {
    if values.is_empty() {
        return "<span class=\"none\">none</span>".to_string();
    }
    values.iter().map(|value| format!("<span class=\"tag\">{}</span>", escape(value))).collect()
}

fn or_none(text: &str) -> String {
    if text.is_empty() { "<span class=\"none\">unknown</span>".to_string() } else { escape(text) }
}

/// "us-east-1 — United States (adequacy decision)", or "unknown".
fn place(location: &Option<Location>) -> String {
    match location {
        None => "<span class=\"none\">unknown</span>".to_string(),
        Some(location) => {
            let country = if location.country_name.is_empty() {
                "country unknown".to_string()
            } else {
                format!("{}, {}", location.country_name, jurisdiction_words(&location.jurisdiction))
            };
            format!("{} <span class=\"muted\">({})</span>", escape(&location.region), escape(&country))
        }
    }
}

/// "2025-01-31 12:00:00 UTC" from RFC 3339.
fn when(time: &str) -> String {
    if time.is_empty() {
        return "<span class=\"none\">unknown</span>".to_string();
    }
    escape(&time.replacen('T', " ", 1).replace('Z', " UTC"))
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn stat(out: &mut String, class: &str, number: u64, label: &str) {
    let _ = write!(
        out,
        "<div class=\"stat {class}\"><span class=\"number\">{number}</span><span class=\"label\">{}</span></div>",
        escape(label)
    );
}

fn table_head(out: &mut String, headers: &[&str]) {
    out.push_str("<table><thead><tr>");
    for header in headers {
        let class = if header.starts_with('#') { " class=\"number\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(header.trim_start_matches('#')));
    }
    out.push_str("</tr></thead><tbody>");
}

fn section_start(out: &mut String, id: &str, title: &str, intro: &str) {
    let _ = write!(
        out,
        "<section class=\"report-section\" id=\"{id}\"><h2>{}</h2><p class=\"intro\">{}</p>",
        escape(title),
        escape(intro)
    );
}

/// The report as a complete HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(out, "<title>Data residency report — {}</title>", escape(&report.header.generated_at));
    let _ = write!(out, "<style>{STYLE}</style></head><body><main>");
    header(&mut out, report);
    summary(&mut out, report);
    transfers(&mut out, report);
    datastores(&mut out, report);
    workloads(&mut out, report);
    changes(&mut out, report);
    nodes(&mut out, report);
    let _ = write!(
        out,
        "<footer>Made by the dataflow aggregator {} from what its sensors observed at run time. Evidence is \
         statement fingerprints (statements with every value replaced by ?) and record ids: values and query \
         literals never leave the nodes and are not in this report.</footer>",
        escape(&report.header.aggregator_version)
    );
    out.push_str("</main></body></html>\n");
    out
}

fn header(out: &mut String, report: &Report) {
    let header = &report.header;
    out.push_str("<header class=\"report-header\" id=\"header\"><h1>Data residency report</h1>");
    out.push_str(
        "<p class=\"intro\">Where personal data is stored and processed, which of it crosses borders, and what \
         changed — as observed in production, from the network traffic and database statements of the \
         services.</p><dl class=\"meta\">",
    );
    let evidence = match (&header.evidence_from, &header.evidence_until) {
        (Some(from), Some(until)) => format!("{} to {}", when(from), when(until)),
        _ => "<span class=\"none\">nothing observed yet</span>".to_string(),
    };
    let rules = if header.rules_versions.is_empty() {
        "<span class=\"none\">no column classified yet</span>".to_string()
    } else {
        escape(&header.rules_versions.join(", "))
    };
    for (term, value) in [
        ("Generated", when(&header.generated_at)),
        ("Evidence observed", evidence),
        ("Aggregator version", escape(&header.aggregator_version)),
        ("Classification rules", rules),
        (
            "Residency table",
            format!("{} (checked {})", or_none(&header.residency_version), or_none(&header.residency_as_of)),
        ),
    ] {
        let _ = write!(out, "<dt>{term}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>");
    if header.nothing_observed {
        out.push_str(
            "<p class=\"notice\"><strong>Nothing has been observed yet.</strong> No sensor has reported and no \
             datastore or finding is stored, so every section below is empty. Once sensors run on the nodes and \
             services use their databases, this report fills in.</p>",
        );
    }
    out.push_str("</header>");
}

fn summary(out: &mut String, report: &Report) {
    let summary = &report.summary;
    section_start(
        out,
        "summary",
        "Summary",
        "The answers first: how many findings of each severity there are, which transfers of personal data \
         across borders carry the most risk, which services handle personal data, and where that data is \
         stored and where it moves. HIGH needs attention now; MEDIUM needs a documented legal basis or \
         safeguard; LOW and INFO are for the record.",
    );
    out.push_str("<h3>Findings by severity</h3><div class=\"cards\">");
    let counts = &summary.findings_by_severity;
    for (class, number, label) in [
        ("high", counts.high, "high"),
        ("medium", counts.medium, "medium"),
        ("low", counts.low, "low"),
        ("info", counts.info, "information"),
    ] {
        stat(out, class, number, label);
    }
    out.push_str("</div><div class=\"cards\">");
    let transfers = &summary.transfers_by_severity;
    stat(out, "", transfers.high + transfers.medium + transfers.low + transfers.info, "cross-border transfers");
    stat(out, "", summary.transfers_requiring_mechanism, "need a transfer mechanism");
    stat(
        out,
        "",
        summary.datastores_with_personal_data,
        &format!("of {} datastores hold personal data", summary.datastores),
    );
    stat(out, "", summary.personal_data_columns, "columns hold personal data");
    stat(
        out,
        "",
        summary.workloads_with_personal_data,
        &format!("of {} services handle personal data", summary.workloads),
    );
    out.push_str("</div>");

    out.push_str("<h3>Top risks: transfers across borders</h3>");
    if summary.top_transfers.is_empty() {
        out.push_str("<p class=\"none\">No personal data was seen moving between regions.</p>");
    } else {
        table_head(out, &["Severity", "Service", "Datastore", "Data moves", "Data", "#Observed"]);
        for top in &summary.top_transfers {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"number\">{}</td></tr>",
                badge(&top.severity),
                escape(&top.workload),
                escape(&top.datastore),
                escape(&top.direction),
                tags(&top.categories),
                top.count
            );
        }
        out.push_str("</tbody></table>");
    }

    out.push_str("<h3>Services handling personal data</h3>");
    if summary.exposed_workloads.is_empty() {
        out.push_str("<p class=\"none\">No service was seen reading or writing personal data.</p>");
    } else {
        table_head(out, &["Service", "Highest severity", "#Transfers", "Data", "Data stored in"]);
        for exposed in &summary.exposed_workloads {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"number\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&exposed.workload),
                badge(&exposed.highest_severity),
                exposed.transfers,
                tags(&exposed.categories),
                if exposed.datastore_regions.is_empty() {
                    "<span class=\"none\">unknown</span>".to_string()
                } else {
                    tags(&exposed.datastore_regions)
                }
            );
        }
        out.push_str("</tbody></table>");
    }

    out.push_str("<h3>Where sensitive data moves</h3>");
    if summary.data_flows.is_empty() {
        out.push_str("<p class=\"none\">No movement of personal data between regions was seen.</p>");
    } else {
        table_head(out, &["From", "To", "Data", "#Columns", "#Transfers", "Highest severity"]);
        for flow in &summary.data_flows {
            let end = |region: &str, country: &str| {
                if country.is_empty() {
                    or_none(region)
                } else {
                    format!("{} <span class=\"muted\">({})</span>", escape(region), escape(country))
                }
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td>{}</td></tr>",
                end(&flow.from_region, &flow.from_country),
                end(&flow.to_region, &flow.to_country),
                tags(&flow.categories),
                flow.columns,
                flow.transfers,
                badge(&flow.highest_severity)
            );
        }
        out.push_str("</tbody></table>");
    }

    out.push_str("<h3>Where personal data is stored</h3>");
    if summary.storage_by_region.is_empty() {
        out.push_str("<p class=\"none\">No datastore was seen holding personal data.</p>");
    } else {
        table_head(out, &["Region", "Country", "Jurisdiction", "#Datastores", "#Columns", "Data"]);
        for storage in &summary.storage_by_region {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td>{}</td></tr>",
                or_none(&storage.region),
                or_none(&storage.country_name),
                escape(jurisdiction_words(&storage.jurisdiction)),
                storage.datastores,
                storage.columns,
                tags(&storage.categories)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

fn transfers(out: &mut String, report: &Report) {
    section_start(
        out,
        "transfers",
        "Cross-border transfers",
        "Each entry is personal data that a service read from, or wrote to, a datastore in another region. \
         Under GDPR Chapter V, personal data leaving the EU/EEA needs a legal basis: an adequacy decision for \
         the destination country, or a mechanism such as standard contractual clauses. The explanation says \
         which applies. Evidence lists the database statements that showed the transfer, with their values \
         removed.",
    );
    if report.transfers.is_empty() {
        out.push_str("<p class=\"none\">No personal data was seen moving between regions.</p></section>");
        return;
    }
    for transfer in &report.transfers {
        let _ = write!(
            out,
            "<div class=\"card transfer\"><h3>{} {}</h3><p class=\"explanation\">{}</p>",
            badge(&transfer.severity),
            escape(&transfer.title),
            escape(&transfer.explanation)
        );
        out.push_str("<table><tbody>");
        let mechanism = match (transfer.requires_mechanism, transfer.transfer_class.as_str()) {
            (true, "to_adequate_country") => "yes, unless the recipient is covered by the adequacy decision",
            (true, _) => "yes: standard contractual clauses, binding corporate rules or an Article 49 derogation",
            (false, _) => "no",
        };
        let rows = [
            ("Service", format!("{} in {}", escape(&transfer.workload), place(&transfer.workload_location))),
            ("Datastore", format!("{} in {}", escape(&transfer.datastore), place(&transfer.datastore_location))),
            ("Data moves", format!("{} → {}", place(&transfer.from), place(&transfer.to))),
            ("Adequacy", or_none(&transfer.adequacy)),
            ("Transfer mechanism needed", escape(mechanism)),
            ("Categories", tags(&transfer.categories)),
            ("Kinds of data", tags(&transfer.entities)),
            (
                "Columns",
                transfer
                    .columns
                    .iter()
                    .map(|column| format!("<code>{}</code>", escape(column)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Seen",
                format!(
                    "{} times, first {}, last {}",
                    transfer.count,
                    when(&transfer.first_seen),
                    when(&transfer.last_seen)
                ),
            ),
        ];
        for (label, value) in rows {
            let _ = write!(out, "<tr><th style=\"width: 22%\">{label}</th><td>{value}</td></tr>");
        }
        let evidence = if transfer.evidence.is_empty() {
            "<span class=\"none\">none kept</span>".to_string()
        } else {
            transfer
                .evidence
                .iter()
                .map(|item| {
                    format!(
                        "<div><code>{}</code> <span class=\"muted\">(statement {}, first in record {})</span></div>",
                        escape(&item.fingerprint),
                        escape(&item.fingerprint_id),
                        item.access_id
                    )
                })
                .collect()
        };
        let _ = write!(out, "<tr><th>Evidence</th><td>{evidence}</td></tr></tbody></table></div>");
    }
    out.push_str("</section>");
}

fn datastores(out: &mut String, report: &Report) {
    section_start(
        out,
        "datastores",
        "Datastores and the personal data they hold",
        "Every database server the services used, where it is (region, country and jurisdiction), and the \
         columns found to hold personal data: what kind of data (entity), its category (PII: personal data; \
         SPECIAL: special categories of GDPR Art. 9; PHI: health records; PCI: card data; CREDENTIAL: \
         secrets), how confident the classification is, and which services read or write it.",
    );
    if report.datastores.is_empty() {
        out.push_str("<p class=\"none\">No datastore was observed yet.</p></section>");
        return;
    }
    for datastore in &report.datastores {
        let name = if datastore.name.is_empty() {
            escape(&datastore.id)
        } else {
            format!("{} <span class=\"muted\">({})</span>", escape(&datastore.name), escape(&datastore.id))
        };
        let placed = datastore.location.as_ref().map_or(String::new(), |location| {
            let entry =
                if location.override_entry.is_empty() { String::new() } else { format!(": {}", location.override_entry) };
            format!(
                " <span class=\"muted\">placed by {}{}</span>",
                escape(placed_by_words(&location.placed_by)),
                escape(&entry)
            )
        });
        let _ = write!(
            out,
            "<div class=\"card datastore\"><h3>{name}</h3><p>{} database server in {}{placed}. Databases: {}. \
             {} seen; used from {} to {}.</p>",
            match datastore.protocol.as_str() {
                "postgresql" => "PostgreSQL",
                "mysql" => "MySQL or MariaDB",
                _ => "A",
            },
            place(&datastore.location),
            tags(&datastore.databases),
            plural(datastore.tables, "table", "tables") + ", " + &plural(datastore.columns, "column", "columns"),
            when(&datastore.first_seen),
            when(&datastore.last_seen)
        );
        if !datastore.encrypted_sessions.is_empty() {
            let clients: Vec<String> = datastore
                .encrypted_sessions
                .iter()
                .map(|client| {
                    format!(
                        "{} ({}, last {})",
                        escape(&client.workload),
                        plural(client.sessions, "session", "sessions"),
                        when(&client.last_seen)
                    )
                })
                .collect();
            let _ = write!(
                out,
                "<p class=\"notice\"><strong>Encrypted sessions.</strong> {} used encrypted (TLS) sessions with this \
                 datastore. Their statements cannot be read on the network, so what they read or wrote there is not \
                 in this report.</p>",
                clients.join(", ")
            );
        }
        if datastore.personal_data_columns.is_empty() {
            out.push_str("<p class=\"none\">No column of it was found to hold personal data.</p></div>");
            continue;
        }
        table_head(out, &["Table", "Column", "Kind of data", "Category", "#Confidence", "Read by", "Written by"]);
        for column in &datastore.personal_data_columns {
            let table = if column.database.is_empty() {
                escape(&column.table)
            } else {
                format!("{} <span class=\"muted\">in {}</span>", escape(&column.table), escape(&column.database))
            };
            let _ = write!(
                out,
                "<tr><td>{table}</td><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td class=\"number\">{:.0}%</td><td>{}</td><td>{}</td></tr>",
                escape(&column.column),
                if column.column_type.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"muted\">{}</span>", escape(&column.column_type))
                },
                escape(&column.entity),
                tags(std::slice::from_ref(&column.category)),
                column.confidence * 100.0,
                tags(&column.read_by),
                tags(&column.written_by)
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</section>");
}

fn workloads(out: &mut String, report: &Report) {
    section_start(
        out,
        "workloads",
        "Services and the personal data they process",
        "Every service seen using a datastore: where it runs, and which personal data it reads and writes, \
         from which datastore and region. A service running in one region that reads data stored in another \
         appears under cross-border transfers too.",
    );
    if report.workloads.is_empty() {
        out.push_str("<p class=\"none\">No service was observed using a datastore yet.</p></section>");
        return;
    }
    table_head(out, &["Service", "Runs in", "Reads", "Writes", "#Transfers", "Highest severity"]);
    for workload in &report.workloads {
        let locations = if workload.locations.is_empty() {
            "<span class=\"none\">unknown</span>".to_string()
        } else {
            workload.locations.iter().map(|location| place(&Some(location.clone()))).collect::<Vec<_>>().join("<br>")
        };
        let accesses = |entries: &[super::WorkloadAccess]| {
            if entries.is_empty() {
                return "<span class=\"none\">no personal data</span>".to_string();
            }
            entries
                .iter()
                .map(|entry| {
                    format!(
                        "<div><code>{}.{}</code> {} <span class=\"muted\">from {}{}</span></div>",
                        escape(&entry.table),
                        escape(&entry.column),
                        tags(std::slice::from_ref(&entry.category)),
                        escape(&entry.datastore),
                        if entry.datastore_region.is_empty() {
                            String::new()
                        } else {
                            format!(" in {}", escape(&entry.datastore_region))
                        }
                    )
                })
                .collect()
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{locations}</td><td>{}</td><td>{}</td><td class=\"number\">{}</td><td>{}</td></tr>",
            escape(&workload.name),
            accesses(&workload.reads),
            accesses(&workload.writes),
            workload.transfers,
            badge(&workload.highest_severity)
        );
    }
    out.push_str("</tbody></table></section>");
}

fn change_kind_words(kind: &str) -> &str {
    match kind {
        "NEW_FLOW" => "new connection",
        "FIRST_PERSONAL_DATA_READ" => "first read of personal data",
        "NEW_SENSITIVE_COLUMN" => "new personal-data column",
        "NEW_REGION" => "new region",
        other => other,
    }
}

fn changes(out: &mut String, report: &Report) {
    section_start(
        out,
        "changes",
        "What changed",
        "Things seen for the first time, newest first: a new connection between services or to a datastore, a \
         service reading personal data for the first time, a column newly found to hold personal data, a new \
         region. Each one changes where personal data is or who can reach it.",
    );
    if report.changes.is_empty() {
        out.push_str("<p class=\"none\">No change was observed yet.</p></section>");
        return;
    }
    table_head(out, &["First seen", "Severity", "Change", "What happened"]);
    for change in report.changes.iter().take(MAX_CHANGES) {
        let _ = write!(
            out,
            "<tr><td class=\"when\">{}</td><td>{}</td><td>{}</td><td><strong>{}</strong><br>{}</td></tr>",
            when(&change.first_seen),
            badge(&change.severity),
            escape(change_kind_words(&change.kind)),
            escape(&change.title),
            escape(&change.explanation)
        );
    }
    out.push_str("</tbody></table>");
    if report.changes.len() > MAX_CHANGES {
        let _ = write!(
            out,
            "<p class=\"muted\">{} older changes are not shown here; the JSON and CSV forms of this report list \
             all {}.</p>",
            report.changes.len() - MAX_CHANGES,
            report.changes.len()
        );
    }
    out.push_str("</section>");
}

fn nodes(out: &mut String, report: &Report) {
    section_start(
        out,
        "coverage",
        "Coverage",
        "The machines (nodes) whose sensors reported what this report rests on, where they are, and how many \
         events their sensors could not record (for instance under overload). Services on nodes without a \
         sensor are not observed, and lost events are observations missing from this report.",
    );
    if report.nodes.is_empty() {
        out.push_str("<p class=\"none\">No sensor has reported yet.</p></section>");
        return;
    }
    table_head(out, &["Node", "Where", "Sensor version", "Reporting from", "Last report", "#Events lost"]);
    for node in &report.nodes {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"when\">{}</td><td class=\"when\">{}</td><td class=\"number\">{}</td></tr>",
            escape(&node.name),
            place(&node.location),
            or_none(&node.sensor_version),
            when(&node.first_seen),
            when(&node.last_seen),
            node.events_lost
        );
    }
    out.push_str("</tbody></table></section>");
}
