//! Human-readable output of the command-line client.

use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{Direction, Flow, FlowState, GetFlowsResponse, LostEvent, LostEventSource, Protocol, ServerStatusResponse, ServiceGraphEdge};

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
/// pointing from client to server (`->` outbound, `<-` inbound).
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
    let mut line = format!(
        "{} {}: {} {} {} {} {} {}",
        format_rfc3339(flow.time_unix_nano, 3),
        if flow.node_name.is_empty() { "?" } else { &flow.node_name },
        process,
        endpoint(flow.local.as_ref()),
        arrow,
        endpoint(flow.remote.as_ref()),
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
                    format_rfc3339(sensor.last_seen_unix_nano, 0),
                    sensor.session_id.clone(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "NODE", "REGION", "ZONE", "CONNECTED", "BATCHES", "FLOWS", "KERNEL LOST", "DECODE ERRORS", "BUFFER DROPPED",
                "LAST SEEN", "SESSION",
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
