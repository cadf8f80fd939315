//! Human-readable output of the command-line client.

use std::fmt::Write as _;

use proto::v1::get_data_accesses_response::ResponseTypes as AccessResponseTypes;
use proto::v1::get_findings_response::ResponseTypes as FindingResponseTypes;
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{
    AccessKind, ColumnClassification, DataAccess, Finding, FindingKind, GetFindingsResponse, Place,
    TransferClass, DatabaseProtocol, Direction, Flow, FlowState, GetDataAccessesResponse, GetFlowsResponse,
    InventoryAccessor, InventoryDatastore, LostEvent, LostEventSource, Protocol, ServerStatusResponse,
    ServiceGraphEdge,
};

use super::time::format_rfc3339;

/// `1.5 KiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{count} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

fn endpoint(endpoint: Option<&proto::v1::Endpoint>) -> String {
    match endpoint {
        None => "?".into(),
        Some(endpoint) if endpoint.ip.contains(':') => format!("[{}]:{}", endpoint.ip, endpoint.port),
        Some(endpoint) => format!("{}:{}", endpoint.ip, endpoint.port),
    }
}

fn state_name(state: i32) -> &'static str {
    match FlowState::try_from(state) {
        Ok(FlowState::Open) => "OPEN",
        Ok(FlowState::Closed) => "CLOSED",
        Ok(FlowState::Failed) => "FAILED",
        _ => "UNKNOWN",
    }
}

/// One line per flow:
/// `TIME NODE: PROCESS[PID] LOCAL -> REMOTE STATE sent N recv N`, the arrow
/// pointing from client to server (`->` outbound, `<-` inbound). A remote end
/// the aggregator resolved shows its workload: `10.244.1.15:5432 (shop/orders-db)`.
pub fn flow_line(flow: &Flow) -> String {
    let process = flow.process.as_ref().map_or_else(
        || "?".to_string(),
        |process| {
            let name = [&process.workload, &process.command].into_iter().find(|name| !name.is_empty());
            format!("{}[{}]", name.map_or("?", String::as_str), process.pid)
        },
    );
    let arrow = match flow.direction() {
        Direction::Outbound => "->",
        Direction::Inbound => "<-",
        Direction::Unknown => "<>",
    };
    let protocol = match flow.protocol() {
        Protocol::Tcp => "tcp",
        Protocol::Unknown => "?",
    };
    let mut remote = endpoint(flow.remote.as_ref());
    if let Some(workload) = flow.remote_workload.as_ref().filter(|workload| !workload.name.is_empty()) {
        remote.push_str(&format!(" ({}/{})", workload.namespace, workload.name));
    }
    let mut line = format!(
        "{} {}: {} {} {} {} {} {}",
        format_rfc3339(flow.time_unix_nano, 3),
        if flow.node_name.is_empty() { "?" } else { &flow.node_name },
        process,
        endpoint(flow.local.as_ref()),
        arrow,
        remote,
        protocol,
        state_name(flow.state),
    );
    if flow.state() == FlowState::Closed {
        line.push_str(&format!(" sent {} recv {}", bytes(flow.bytes_sent), bytes(flow.bytes_received)));
    }
    line
}

/// A line that cannot be mistaken for a flow.
pub fn lost_line(event: &LostEvent, time_unix_nano: u64) -> String {
    let source = match event.source() {
        LostEventSource::KernelRingBuffer => "kernel ring buffer full",
        LostEventSource::SensorBuffer => "sensor buffer overflowed",
        LostEventSource::SensorDecode => "sensor could not decode events",
        LostEventSource::SubscriberQueue => "this subscriber fell behind",
        LostEventSource::KernelPayloads => "kernel could not deliver captured database traffic",
        LostEventSource::SensorAccessBuffer => "sensor data access buffer overflowed",
        LostEventSource::Unknown => "unknown cause",
    };
    let node = if event.node_name.is_empty() { String::new() } else { format!(" on node {}", event.node_name) };
    format!("{} EVENTS LOST: {} ({source}){node}", format_rfc3339(time_unix_nano, 3), event.num_events_lost)
}

/// The human line for any `GetFlows` response.
pub fn response_line(response: &GetFlowsResponse) -> Option<String> {
    match response.response_types.as_ref()? {
        ResponseTypes::Flow(flow) => Some(flow_line(flow)),
        ResponseTypes::LostEvents(event) => Some(lost_line(event, response.time_unix_nano)),
    }
}

/// Left-aligned columns separated by two spaces.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let line: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push_row(headers.to_vec());
    for row in rows {
        push_row(row.iter().map(String::as_str).collect());
    }
    out
}

fn duration(nanos: u64) -> String {
    let seconds = nanos / 1_000_000_000;
    let (days, hours, minutes, seconds) = (seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60, seconds % 60);
    if days > 0 {
        format!("{days}d{hours}h{minutes}m")
    } else if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else {
        format!("{minutes}m{seconds}s")
    }
}

/// `status` for people.
pub fn status(status: &ServerStatusResponse) -> String {
    let mut out = table(
        &["FIELD", "VALUE"],
        &[
            vec!["version".into(), status.version.clone()],
            vec!["uptime".into(), duration(status.uptime_ns)],
            vec!["flows stored".into(), status.num_flows.to_string()],
            vec!["flows seen since start".into(), status.seen_flows.to_string()],
            vec!["flow rate (last minute)".into(), format!("{:.1}/s", status.flows_rate)],
            vec!["data accesses stored".into(), status.num_accesses.to_string()],
            vec!["data accesses seen since start".into(), status.seen_accesses.to_string()],
            vec!["connected sensors".into(), status.connected_sensors.to_string()],
            vec!["subscribers".into(), status.subscribers.to_string()],
            vec!["lost events".into(), status.lost_events.to_string()],
            vec!["rejected batches".into(), status.rejected_batches.to_string()],
        ],
    );
    if !status.sensors.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = status
            .sensors
            .iter()
            .map(|sensor| {
                let node = sensor.node.clone().unwrap_or_default();
                let counters = sensor.counters.unwrap_or_default();
                vec![
                    node.name,
                    node.region,
                    node.zone,
                    if sensor.connected { "yes" } else { "no" }.into(),
                    sensor.batches.to_string(),
                    sensor.flows.to_string(),
                    counters.kernel_lost.to_string(),
                    counters.decode_errors.to_string(),
                    counters.buffer_dropped_flows.to_string(),
                    sensor.accesses.to_string(),
                    counters.payloads_lost.to_string(),
                    counters.buffer_dropped_accesses.to_string(),
                    format_rfc3339(sensor.last_seen_unix_nano, 0),
                    sensor.session_id.clone(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "NODE", "REGION", "ZONE", "CONNECTED", "BATCHES", "FLOWS", "KERNEL LOST", "DECODE ERRORS", "BUFFER DROPPED",
                "ACCESSES", "PAYLOADS LOST", "ACCESSES DROPPED", "LAST SEEN", "SESSION",
            ],
            &rows,
        ));
    }
    out
}

/// `graph` for people.
pub fn graph(edges: &[ServiceGraphEdge]) -> String {
    let rows: Vec<Vec<String>> = edges
        .iter()
        .map(|edge| {
            vec![
                edge.source.clone(),
                edge.destination.clone(),
                edge.destination_port.to_string(),
                match edge.observed_from() {
                    Direction::Outbound => "client",
                    Direction::Inbound => "server",
                    Direction::Unknown => "?",
                }
                .into(),
                edge.connections.to_string(),
                bytes(edge.bytes_to_destination),
                bytes(edge.bytes_to_source),
                format_rfc3339(edge.last_seen_unix_nano, 0),
            ]
        })
        .collect();
    table(&["SOURCE", "DESTINATION", "PORT", "SEEN BY", "CONNECTIONS", "BYTES →", "BYTES ←", "LAST SEEN"], &rows)
}

/// `850µs`, `1.2ms`, `2.35s`.
pub fn latency(nanos: u64) -> String {
    if nanos < 1_000_000 {
        format!("{}µs", nanos / 1_000)
    } else if nanos < 1_000_000_000 {
        format!("{:.1}ms", nanos as f64 / 1e6)
    } else {
        format!("{:.2}s", nanos as f64 / 1e9)
    }
}

fn protocol_name(protocol: i32) -> &'static str {
    match DatabaseProtocol::try_from(protocol) {
        Ok(DatabaseProtocol::Postgresql) => "postgresql",
        Ok(DatabaseProtocol::Mysql) => "mysql",
        _ => "?",
    }
}

/// `read public.customers(email,card_number), public.orders`: the tables of
/// one kind, each with the columns of that kind the statement touched.
fn tables_text(access: &DataAccess, kind: AccessKind, tables: &[String]) -> Option<String> {
    fn entry<'a>(order: &mut Vec<(&'a str, Vec<&'a str>)>, table: &'a str) -> usize {
        match order.iter().position(|(known, _)| *known == table) {
            Some(position) => position,
            None => {
                order.push((table, Vec::new()));
                order.len() - 1
            }
        }
    }
    let mut order: Vec<(&str, Vec<&str>)> = Vec::new();
    for table in tables {
        entry(&mut order, table);
    }
    for column in access.columns.iter().filter(|column| column.kind() == kind) {
        let position = entry(&mut order, &column.table);
        order[position].1.push(&column.column);
    }
    if order.is_empty() {
        return None;
    }
    let parts: Vec<String> = order
        .into_iter()
        .map(|(table, columns)| {
            if columns.is_empty() { table.to_string() } else { format!("{table}({})", columns.join(",")) }
        })
        .collect();
    Some(parts.join(", "))
}

/// One line per data access:
/// `TIME NODE: CLIENT[PID] -> SERVER (SERVER WORKLOAD) DATABASE OPERATION read T(C,…) write T(C,…) xCOUNT rows N avg L max L`.
pub fn access_line(access: &DataAccess) -> String {
    let client = match access.client.as_ref() {
        Some(process) => {
            let name = [&process.workload, &process.command].into_iter().find(|name| !name.is_empty());
            format!("{}[{}]", name.map_or("?", String::as_str), process.pid)
        }
        None => endpoint(access.client_endpoint.as_ref()),
    };
    let mut line = format!(
        "{} {}: {} -> {}",
        format_rfc3339(access.time_unix_nano, 3),
        if access.node_name.is_empty() { "?" } else { &access.node_name },
        client,
        endpoint(access.server.as_ref()),
    );
    if !access.server_workload.is_empty() {
        let _ = write!(line, " ({})", access.server_workload);
    }
    if access.encrypted {
        let sessions = if access.count == 1 { "session" } else { "sessions" };
        let _ = write!(
            line,
            " {} encrypted: {} {sessions} whose statements cannot be read",
            protocol_name(access.protocol),
            access.count
        );
        return line;
    }
    let _ = write!(
        line,
        " {} {} {}",
        protocol_name(access.protocol),
        if access.database.is_empty() { "?" } else { &access.database },
        if access.operation.is_empty() { "?" } else { &access.operation },
    );
    if let Some(read) = tables_text(access, AccessKind::Read, &access.tables_read) {
        let _ = write!(line, " read {read}");
    }
    if let Some(written) = tables_text(access, AccessKind::Write, &access.tables_written) {
        let _ = write!(line, " write {written}");
    }
    let _ = write!(line, " x{} rows {}", access.count, access.rows);
    if let Some(average) = access.latency_total_ns.checked_div(access.count) {
        let _ = write!(line, " avg {} max {}", latency(average), latency(access.latency_max_ns));
    }
    if access.errors > 0 {
        let _ = write!(line, " errors {}", access.errors);
        if !access.error_code.is_empty() {
            let _ = write!(line, " ({})", access.error_code);
        }
    }
    if access.parse_fallback {
        line.push_str(" [tables from fallback parser]");
    }
    line
}

/// The human line for any `GetDataAccesses` response.
pub fn access_response_line(response: &GetDataAccessesResponse) -> Option<String> {
    match response.response_types.as_ref()? {
        AccessResponseTypes::DataAccess(access) => Some(access_line(access)),
        AccessResponseTypes::LostEvents(event) => Some(lost_line(event, response.time_unix_nano)),
    }
}

/// `read by a (3), b (1); written by c (2)`.
fn accessors_text(accessors: &[InventoryAccessor]) -> String {
    let mut parts = Vec::new();
    for (kind, verb) in [(AccessKind::Read, "read by"), (AccessKind::Write, "written by"), (AccessKind::Unknown, "used by")] {
        let names: Vec<String> = accessors
            .iter()
            .filter(|accessor| accessor.kind() == kind)
            .map(|accessor| format!("{} ({})", accessor.workload, accessor.statements))
            .collect();
        if !names.is_empty() {
            parts.push(format!("{verb} {}", names.join(", ")));
        }
    }
    parts.join("; ")
}

/// `[PII EMAIL_ADDRESS 0.95]  `, `[not personal]  `, or nothing before the
/// column is classified.
fn classification_text(classification: Option<&ColumnClassification>) -> String {
    match classification {
        None => String::new(),
        Some(found) if found.category.is_empty() => "[not personal]  ".to_string(),
        Some(found) => format!("[{} {} {:.2}]  ", found.category, found.entity, found.confidence),
    }
}

/// A name for the terminal: `?` where the report's name is empty or unknown.
fn shown(name: &'static str) -> &'static str {
    if name.is_empty() || name == "UNKNOWN" { "?" } else { name }
}

fn place_text(place: Option<&Place>) -> String {
    match place {
        Some(place) if !place.region.is_empty() => {
            let country = if place.country.is_empty() { "country unknown" } else { &place.country };
            let by = if place.override_entry.is_empty() { &place.placed_by } else { &place.override_entry };
            format!("{} ({country}, by {by})", place.region)
        }
        _ => "unknown".to_string(),
    }
}

/// A finding for people: a headline, the explanation, then the details
/// that apply (places, columns, transfer assessment, evidence).
pub fn finding(finding: &Finding) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {:<6} {:<24} {}  (first seen {}, last seen {}, {}×)",
        finding.id,
        shown(crate::report::severity_name(finding.severity)),
        shown(crate::report::kind_name(finding.kind)),
        finding.title,
        format_rfc3339(finding.first_seen_unix_nano, 0),
        format_rfc3339(finding.last_seen_unix_nano, 0),
        finding.count,
    );
    let _ = writeln!(out, "    {}", finding.explanation);
    if !finding.destination.is_empty() {
        let _ = writeln!(
            out,
            "    from {} in {} to {} in {}",
            finding.source,
            place_text(finding.source_place.as_ref()),
            finding.destination,
            place_text(finding.destination_place.as_ref())
        );
    }
    if !finding.columns.is_empty() {
        let _ = writeln!(out, "    columns: {} ({})", finding.columns.join(", "), finding.categories.join(", "));
    }
    if finding.kind == FindingKind::Transfer as i32 {
        let _ = writeln!(
            out,
            "    transfer {}: {}; mechanism {}needed; adequacy: {}",
            finding.direction,
            match TransferClass::try_from(finding.transfer_class).unwrap_or(TransferClass::Unknown) {
                TransferClass::WithinEea => "within the EEA",
                TransferClass::ToAdequateCountry => "to a country with an adequacy decision",
                TransferClass::ToThirdCountry => "to a third country without an adequacy decision",
                TransferClass::FromOutsideEea => "from outside the EEA",
                TransferClass::Unknown => "a place is not in the residency table",
            },
            if finding.requires_mechanism { "" } else { "not " },
            finding.adequacy
        );
    }
    for evidence in &finding.evidence {
        if !evidence.fingerprint.is_empty() {
            let _ = writeln!(out, "    evidence: access {} {}", evidence.access_id, evidence.fingerprint);
        } else if evidence.flow_id != 0 {
            let _ = writeln!(out, "    evidence: flow {}", evidence.flow_id);
        } else if evidence.access_id != 0 {
            let _ = writeln!(out, "    evidence: access {}", evidence.access_id);
        }
    }
    out
}

/// One `GetFindings` response for people.
pub fn finding_response(response: &GetFindingsResponse) -> Option<String> {
    match response.response_types.as_ref()? {
        FindingResponseTypes::Finding(found) => Some(finding(found)),
        FindingResponseTypes::LostEvents(event) => Some(format!("{}\n", lost_line(event, response.time_unix_nano))),
    }
}

/// `inventory` for people: datastore, database, table and column as an
/// indented tree, each table and column with who reads and writes it.
pub fn inventory(datastores: &[InventoryDatastore]) -> String {
    if datastores.is_empty() {
        return "no datastore seen yet\n".to_string();
    }
    let seen = |first: u64, last: u64| format!("first seen {}, last seen {}", format_rfc3339(first, 0), format_rfc3339(last, 0));
    let mut out = String::new();
    for datastore in datastores {
        let name = if datastore.workload.is_empty() { String::new() } else { format!(" {}", datastore.workload) };
        let _ = writeln!(
            out,
            "datastore {}{name} ({})  {}",
            datastore.id,
            protocol_name(datastore.protocol),
            seen(datastore.first_seen_unix_nano, datastore.last_seen_unix_nano)
        );
        if !datastore.encrypted_sessions.is_empty() {
            let clients: Vec<String> = datastore
                .encrypted_sessions
                .iter()
                .map(|client| format!("{} ({} sessions, last {})", client.workload, client.statements, format_rfc3339(client.last_seen_unix_nano, 0)))
                .collect();
            let _ = writeln!(out, "  encrypted sessions, statements not readable: {}", clients.join(", "));
        }
        for database in &datastore.databases {
            let name = if database.name.is_empty() { "(database unknown)" } else { &database.name };
            let _ = writeln!(
                out,
                "  database {name}  {}",
                seen(database.first_seen_unix_nano, database.last_seen_unix_nano)
            );
            for table in &database.tables {
                let accessors = accessors_text(&table.accessors);
                let _ = writeln!(
                    out,
                    "    table {}  {}{}{}",
                    table.name,
                    seen(table.first_seen_unix_nano, table.last_seen_unix_nano),
                    if accessors.is_empty() { "" } else { "  " },
                    accessors
                );
                let width = table.columns.iter().map(|column| column.name.chars().count()).max().unwrap_or(0);
                for column in &table.columns {
                    let _ = writeln!(
                        out,
                        "      {:<width$}  {}  {}first seen {}",
                        column.name,
                        accessors_text(&column.accessors),
                        classification_text(column.classification.as_ref()),
                        format_rfc3339(column.first_seen_unix_nano, 0),
                    );
                }
            }
        }
    }
    out
}
