//! A stable JSON shape for the command-line client's `--json` output.
//!
//! Field names follow proto3 JSON (lowerCamelCase) and enums print their
//! proto names (`FLOW_STATE_CLOSED`). Unlike proto3 JSON, 64-bit integers are
//! numbers, not strings, so tools like `jq` compare them directly. Each line
//! is one object: `{"flow": {...}, "time": ...}` or
//! `{"lostEvents": {...}, "time": ...}`, mirroring `GetFlowsResponse`; data
//! accesses are `{"dataAccess": {...}, "time": ...}` lines.

use proto::v1::get_data_accesses_response::ResponseTypes as AccessResponseTypes;
use proto::v1::get_findings_response::ResponseTypes as FindingResponseTypes;
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::{
    AccessKind, ColumnAccess, ColumnClassification, ColumnType, Finding, FindingKind, GetFindingsResponse, Place, Severity,
    TransferClass, DataAccess, DatabaseProtocol, Direction, Endpoint, Flow, FlowState,
    GetDataAccessesResponse, GetFlowsResponse, InventoryAccessor, InventoryColumn, InventoryDatabase,
    InventoryDatastore, InventoryTable, LostEvent, LostEventSource, Process, Protocol, SensorStatus,
    ServerStatusResponse, ServiceGraphEdge, Workload,
};
use serde::{Deserialize, Serialize};

use super::time::format_rfc3339;

fn enum_name<E: TryFrom<i32>>(value: i32, name: impl Fn(&E) -> &'static str) -> String {
    E::try_from(value).map(|known| name(&known).to_string()).unwrap_or_else(|_| value.to_string())
}

/// `COLUMN_TYPE_*` of a known column type; `None` when no sensor read it.
fn column_type_name(value: i32) -> Option<String> {
    (value != ColumnType::Unknown as i32).then(|| enum_name(value, ColumnType::as_str_name))
}

/// An endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEndpoint {
    /// Address.
    pub ip: String,
    /// Port.
    pub port: u32,
}

impl From<&Endpoint> for JsonEndpoint {
    fn from(endpoint: &Endpoint) -> Self {
        Self { ip: endpoint.ip.clone(), port: endpoint.port }
    }
}

/// A process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonProcess {
    /// Thread id.
    pub tid: u32,
    /// Process id.
    pub pid: u32,
    /// Kernel command name.
    pub command: String,
    /// Executable path.
    pub executable: String,
    /// Command line.
    pub command_line: String,
    /// cgroup v2 id.
    pub cgroup_id: u64,
    /// cgroup path.
    pub cgroup_path: String,
    /// Container id.
    pub container_id: String,
    /// systemd unit.
    pub systemd_unit: String,
    /// Workload name.
    pub workload: String,
}

impl From<&Process> for JsonProcess {
    fn from(process: &Process) -> Self {
        Self {
            tid: process.tid,
            pid: process.pid,
            command: process.command.clone(),
            executable: process.executable.clone(),
            command_line: process.command_line.clone(),
            cgroup_id: process.cgroup_id,
            cgroup_path: process.cgroup_path.clone(),
            container_id: process.container_id.clone(),
            systemd_unit: process.systemd_unit.clone(),
            workload: process.workload.clone(),
        }
    }
}

/// The Kubernetes workload behind a remote address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonWorkload {
    /// Namespace.
    pub namespace: String,
    /// Workload name.
    pub name: String,
    /// Controller kind (`Deployment`, `StatefulSet`, `Service`, ...).
    pub kind: String,
    /// Pod holding the address; empty for a Service address.
    pub pod_name: String,
    /// Service whose cluster IP the address is; empty for a pod address.
    pub service_name: String,
}

impl From<&Workload> for JsonWorkload {
    fn from(workload: &Workload) -> Self {
        Self {
            namespace: workload.namespace.clone(),
            name: workload.name.clone(),
            kind: workload.kind.clone(),
            pod_name: workload.pod_name.clone(),
            service_name: workload.service_name.clone(),
        }
    }
}

/// A flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFlow {
    /// Aggregator-assigned id.
    pub id: u64,
    /// Event time, RFC 3339 with nanoseconds.
    pub time: String,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Node whose sensor saw the flow.
    pub node_name: String,
    /// `FLOW_STATE_*`.
    pub state: String,
    /// `DIRECTION_*`.
    pub direction: String,
    /// `PROTOCOL_*`.
    pub protocol: String,
    /// Local end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub local: Option<JsonEndpoint>,
    /// Remote end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remote: Option<JsonEndpoint>,
    /// Kubernetes workload behind the remote end, when the aggregator resolved it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remote_workload: Option<JsonWorkload>,
    /// Owner of the local end.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub process: Option<JsonProcess>,
    /// Payload bytes sent by the local end.
    pub bytes_sent: u64,
    /// Payload bytes received by the local end.
    pub bytes_received: u64,
    /// Connection open time (0 when unknown).
    pub opened_unix_nano: u64,
    /// Connection close time (0 when unknown or open).
    pub closed_unix_nano: u64,
    /// Connection identity on its node.
    pub connection_id: u64,
}

impl From<&Flow> for JsonFlow {
    fn from(flow: &Flow) -> Self {
        Self {
            id: flow.id,
            time: format_rfc3339(flow.time_unix_nano, 9),
            time_unix_nano: flow.time_unix_nano,
            node_name: flow.node_name.clone(),
            state: enum_name(flow.state, FlowState::as_str_name),
            direction: enum_name(flow.direction, Direction::as_str_name),
            protocol: enum_name(flow.protocol, Protocol::as_str_name),
            local: flow.local.as_ref().map(JsonEndpoint::from),
            remote: flow.remote.as_ref().map(JsonEndpoint::from),
            remote_workload: flow.remote_workload.as_ref().map(JsonWorkload::from),
            process: flow.process.as_ref().map(JsonProcess::from),
            bytes_sent: flow.bytes_sent,
            bytes_received: flow.bytes_received,
            opened_unix_nano: flow.opened_unix_nano,
            closed_unix_nano: flow.closed_unix_nano,
            connection_id: flow.connection_id,
        }
    }
}

/// Events lost on the way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonLostEvent {
    /// `LOST_EVENT_SOURCE_*`.
    pub source: String,
    /// How many.
    pub num_events_lost: u64,
    /// Node whose sensor lost them; empty for subscriber losses.
    pub node_name: String,
}

impl From<&LostEvent> for JsonLostEvent {
    fn from(event: &LostEvent) -> Self {
        Self {
            source: enum_name(event.source, LostEventSource::as_str_name),
            num_events_lost: event.num_events_lost,
            node_name: event.node_name.clone(),
        }
    }
}

/// One line of `observe --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonResponse {
    /// Set for a flow.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<JsonFlow>,
    /// Set for lost events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lost_events: Option<JsonLostEvent>,
    /// When the aggregator sent the message, RFC 3339.
    pub time: String,
}

impl From<&GetFlowsResponse> for JsonResponse {
    fn from(response: &GetFlowsResponse) -> Self {
        let (flow, lost_events) = match &response.response_types {
            Some(ResponseTypes::Flow(flow)) => (Some(JsonFlow::from(flow)), None),
            Some(ResponseTypes::LostEvents(event)) => (None, Some(JsonLostEvent::from(event))),
            None => (None, None),
        };
        Self { flow, lost_events, time: format_rfc3339(response.time_unix_nano, 9) }
    }
}

/// Counters a sensor reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonSensor {
    /// Session id.
    pub session_id: String,
    /// Node name.
    pub node_name: String,
    /// Node region.
    pub region: String,
    /// Node zone.
    pub zone: String,
    /// Whether its stream is open.
    pub connected: bool,
    /// First batch time.
    pub first_seen_unix_nano: u64,
    /// Last batch time.
    pub last_seen_unix_nano: u64,
    /// Batches stored.
    pub batches: u64,
    /// Flows stored.
    pub flows: u64,
    /// Kernel events the sensor read.
    pub kernel_events: u64,
    /// Kernel events lost in the ring buffer.
    pub kernel_lost: u64,
    /// Events the sensor could not decode.
    pub decode_errors: u64,
    /// Flows dropped from the sensor's buffer.
    pub buffer_dropped_flows: u64,
    /// Data accesses stored.
    pub accesses: u64,
    /// Captured payloads the kernel could not deliver.
    pub payloads_lost: u64,
    /// Captured payloads cut short.
    pub payloads_truncated: u64,
    /// Statements the sensor decoded.
    pub statements: u64,
    /// Statements the SQL parser could not parse.
    pub statements_unparsed: u64,
    /// Database protocol decoding errors.
    pub protocol_errors: u64,
    /// Data accesses dropped from the sensor's buffer.
    pub buffer_dropped_accesses: u64,
    /// Sensor version.
    pub sensor_version: String,
}

impl From<&SensorStatus> for JsonSensor {
    fn from(sensor: &SensorStatus) -> Self {
        let node = sensor.node.clone().unwrap_or_default();
        let counters = sensor.counters.unwrap_or_default();
        Self {
            session_id: sensor.session_id.clone(),
            node_name: node.name,
            region: node.region,
            zone: node.zone,
            connected: sensor.connected,
            first_seen_unix_nano: sensor.first_seen_unix_nano,
            last_seen_unix_nano: sensor.last_seen_unix_nano,
            batches: sensor.batches,
            flows: sensor.flows,
            kernel_events: counters.kernel_events,
            kernel_lost: counters.kernel_lost,
            decode_errors: counters.decode_errors,
            buffer_dropped_flows: counters.buffer_dropped_flows,
            accesses: sensor.accesses,
            payloads_lost: counters.payloads_lost,
            payloads_truncated: counters.payloads_truncated,
            statements: counters.statements,
            statements_unparsed: counters.statements_unparsed,
            protocol_errors: counters.protocol_errors,
            buffer_dropped_accesses: counters.buffer_dropped_accesses,
            sensor_version: sensor.sensor_version.clone(),
        }
    }
}

/// `status --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonStatus {
    /// Flows stored, all time.
    pub num_flows: u64,
    /// Flows received since the aggregator started.
    pub seen_flows: u64,
    /// Flows per second over the last minute.
    pub flows_rate: f64,
    /// Sensors with an open stream.
    pub connected_sensors: u32,
    /// Every sensor session known.
    pub sensors: Vec<JsonSensor>,
    /// Aggregator uptime.
    pub uptime_ns: u64,
    /// Open subscriptions.
    pub subscribers: u32,
    /// Events lost anywhere since start.
    pub lost_events: u64,
    /// Malformed batches and requests since start.
    pub rejected_batches: u64,
    /// Aggregator version.
    pub version: String,
    /// Data accesses stored, all time.
    pub num_accesses: u64,
    /// Data accesses received since the aggregator started.
    pub seen_accesses: u64,
}

impl From<&ServerStatusResponse> for JsonStatus {
    fn from(status: &ServerStatusResponse) -> Self {
        Self {
            num_flows: status.num_flows,
            seen_flows: status.seen_flows,
            flows_rate: status.flows_rate,
            connected_sensors: status.connected_sensors,
            sensors: status.sensors.iter().map(JsonSensor::from).collect(),
            uptime_ns: status.uptime_ns,
            subscribers: status.subscribers,
            lost_events: status.lost_events,
            rejected_batches: status.rejected_batches,
            version: status.version.clone(),
            num_accesses: status.num_accesses,
            seen_accesses: status.seen_accesses,
        }
    }
}

/// One service graph edge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEdge {
    /// Client.
    pub source: String,
    /// Server.
    pub destination: String,
    /// Server port.
    pub destination_port: u32,
    /// `PROTOCOL_*`.
    pub protocol: String,
    /// `DIRECTION_*` of the side that observed the connections.
    pub observed_from: String,
    /// Closed connections.
    pub connections: u64,
    /// Bytes from source to destination.
    pub bytes_to_destination: u64,
    /// Bytes from destination to source.
    pub bytes_to_source: u64,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
}

impl From<&ServiceGraphEdge> for JsonEdge {
    fn from(edge: &ServiceGraphEdge) -> Self {
        Self {
            source: edge.source.clone(),
            destination: edge.destination.clone(),
            destination_port: edge.destination_port,
            protocol: enum_name(edge.protocol, Protocol::as_str_name),
            observed_from: enum_name(edge.observed_from, Direction::as_str_name),
            connections: edge.connections,
            bytes_to_destination: edge.bytes_to_destination,
            bytes_to_source: edge.bytes_to_source,
            first_seen_unix_nano: edge.first_seen_unix_nano,
            last_seen_unix_nano: edge.last_seen_unix_nano,
        }
    }
}

/// A column a statement touched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonColumnAccess {
    /// Table as the datastore names it.
    pub table: String,
    /// Column.
    pub column: String,
    /// `ACCESS_KIND_*`.
    pub kind: String,
    /// `COLUMN_TYPE_*`, when the sensor read the column's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_type: Option<String>,
}

impl From<&ColumnAccess> for JsonColumnAccess {
    fn from(column: &ColumnAccess) -> Self {
        Self {
            table: column.table.clone(),
            column: column.column.clone(),
            kind: enum_name(column.kind, AccessKind::as_str_name),
            column_type: column_type_name(column.column_type),
        }
    }
}

/// A data access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDataAccess {
    /// Aggregator-assigned id.
    pub id: u64,
    /// Last execution, RFC 3339 with nanoseconds.
    pub time: String,
    /// Last execution, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Node whose sensor saw the access.
    pub node_name: String,
    /// Client process.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client: Option<JsonProcess>,
    /// Client endpoint.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_endpoint: Option<JsonEndpoint>,
    /// Datastore endpoint.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server: Option<JsonEndpoint>,
    /// Datastore workload.
    pub server_workload: String,
    /// `DATABASE_PROTOCOL_*`.
    pub protocol: String,
    /// Database of the connection.
    pub database: String,
    /// Database user.
    pub user: String,
    /// Statement without literals.
    pub fingerprint: String,
    /// Hash of the fingerprint.
    pub fingerprint_id: u64,
    /// SELECT, INSERT, …
    pub operation: String,
    /// Tables read.
    pub tables_read: Vec<String>,
    /// Tables written.
    pub tables_written: Vec<String>,
    /// Columns touched.
    pub columns: Vec<JsonColumnAccess>,
    /// Statements this record stands for.
    pub count: u64,
    /// Rows returned or changed.
    pub rows: u64,
    /// Summed latency.
    pub latency_total_ns: u64,
    /// Largest latency.
    pub latency_max_ns: u64,
    /// Failed statements.
    pub errors: u64,
    /// Error code of the last failure.
    pub error_code: String,
    /// Tables and columns come from the fallback parser.
    pub parse_fallback: bool,
    /// Connection identity on the client's node.
    pub connection_id: u64,
    /// The session switched to encryption: nothing it ran could be read.
    pub encrypted: bool,
}

impl From<&DataAccess> for JsonDataAccess {
    fn from(access: &DataAccess) -> Self {
        Self {
            id: access.id,
            time: format_rfc3339(access.time_unix_nano, 9),
            time_unix_nano: access.time_unix_nano,
            node_name: access.node_name.clone(),
            client: access.client.as_ref().map(JsonProcess::from),
            client_endpoint: access.client_endpoint.as_ref().map(JsonEndpoint::from),
            server: access.server.as_ref().map(JsonEndpoint::from),
            server_workload: access.server_workload.clone(),
            protocol: enum_name(access.protocol, DatabaseProtocol::as_str_name),
            database: access.database.clone(),
            user: access.user.clone(),
            fingerprint: access.fingerprint.clone(),
            fingerprint_id: access.fingerprint_id,
            operation: access.operation.clone(),
            tables_read: access.tables_read.clone(),
            tables_written: access.tables_written.clone(),
            columns: access.columns.iter().map(JsonColumnAccess::from).collect(),
            count: access.count,
            rows: access.rows,
            latency_total_ns: access.latency_total_ns,
            latency_max_ns: access.latency_max_ns,
            errors: access.errors,
            error_code: access.error_code.clone(),
            parse_fallback: access.parse_fallback,
            connection_id: access.connection_id,
            encrypted: access.encrypted,
        }
    }
}

/// One line of `accesses --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonAccessResponse {
    /// Set for a data access.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data_access: Option<JsonDataAccess>,
    /// Set for lost events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lost_events: Option<JsonLostEvent>,
    /// When the aggregator sent the message, RFC 3339.
    pub time: String,
}

impl From<&GetDataAccessesResponse> for JsonAccessResponse {
    fn from(response: &GetDataAccessesResponse) -> Self {
        let (data_access, lost_events) = match &response.response_types {
            Some(AccessResponseTypes::DataAccess(access)) => (Some(JsonDataAccess::from(access)), None),
            Some(AccessResponseTypes::LostEvents(event)) => (None, Some(JsonLostEvent::from(event))),
            None => (None, None),
        };
        Self { data_access, lost_events, time: format_rfc3339(response.time_unix_nano, 9) }
    }
}

/// A workload that read or wrote a table or column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonAccessor {
    /// Workload, command or address of the client.
    pub workload: String,
    /// `ACCESS_KIND_*`.
    pub kind: String,
    /// Statements counted.
    pub statements: u64,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
}

impl From<&InventoryAccessor> for JsonAccessor {
    fn from(accessor: &InventoryAccessor) -> Self {
        Self {
            workload: accessor.workload.clone(),
            kind: enum_name(accessor.kind, AccessKind::as_str_name),
            statements: accessor.statements,
            first_seen_unix_nano: accessor.first_seen_unix_nano,
            last_seen_unix_nano: accessor.last_seen_unix_nano,
        }
    }
}

/// A column of the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonColumn {
    /// Column name.
    pub name: String,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
    /// Readers and writers.
    pub accessors: Vec<JsonAccessor>,
    /// How the column was classified; absent before it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub classification: Option<JsonClassification>,
    /// `COLUMN_TYPE_*`, when a sensor read the column's type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column_type: Option<String>,
}

impl From<&InventoryColumn> for JsonColumn {
    fn from(column: &InventoryColumn) -> Self {
        Self {
            name: column.name.clone(),
            first_seen_unix_nano: column.first_seen_unix_nano,
            last_seen_unix_nano: column.last_seen_unix_nano,
            accessors: column.accessors.iter().map(JsonAccessor::from).collect(),
            classification: column.classification.as_ref().map(JsonClassification::from),
            column_type: column_type_name(column.column_type),
        }
    }
}

/// The classification of an inventory column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonClassification {
    /// Entity (`EMAIL_ADDRESS`); empty when not personal data.
    pub entity: String,
    /// Category (`PII`, `SPECIAL`, `PHI`, `PCI`, `CREDENTIAL`); empty when not personal data.
    pub category: String,
    /// Confidence, 0 to 1.
    pub confidence: f64,
    /// Evidence, as the classifier gives it.
    pub reasons: Vec<serde_json::Value>,
    /// Version of the rules that classified it.
    pub rules_version: String,
    /// When it was last classified with a different result.
    pub classified_unix_nano: u64,
    /// Values sampled on the nodes, summed.
    pub sampled_values: u32,
}

impl From<&ColumnClassification> for JsonClassification {
    fn from(classification: &ColumnClassification) -> Self {
        Self {
            entity: classification.entity.clone(),
            category: classification.category.clone(),
            confidence: classification.confidence,
            reasons: classification
                .reasons
                .iter()
                .map(|reason| serde_json::from_str(reason).unwrap_or_else(|_| serde_json::Value::String(reason.clone())))
                .collect(),
            rules_version: classification.rules_version.clone(),
            classified_unix_nano: classification.classified_unix_nano,
            sampled_values: classification.sampled_values,
        }
    }
}

/// Where one end of a finding is; an empty region means unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPlace {
    /// Region.
    pub region: String,
    /// ISO country code.
    pub country: String,
    /// Country name.
    pub country_name: String,
    /// `eu`, `eea`, `adequate`, `third_country`.
    pub jurisdiction: String,
    /// `override` or `node`.
    pub placed_by: String,
    /// For `override`: the residency entry that placed it (`host name db.example.com (resolved 10.50.0.9)`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub override_entry: String,
}

impl From<&Place> for JsonPlace {
    fn from(place: &Place) -> Self {
        Self {
            region: place.region.clone(),
            country: place.country.clone(),
            country_name: place.country_name.clone(),
            jurisdiction: place.jurisdiction.clone(),
            placed_by: place.placed_by.clone(),
            override_entry: place.override_entry.clone(),
        }
    }
}

/// What a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEvidence {
    /// Statement fingerprint (literals replaced by `?`).
    pub fingerprint: String,
    /// Its hash.
    pub fingerprint_id: u64,
    /// Data access id.
    pub access_id: u64,
    /// Flow id.
    pub flow_id: u64,
}

/// A finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFinding {
    /// Id.
    pub id: u64,
    /// `FINDING_KIND_*`.
    pub kind: String,
    /// `SEVERITY_*`.
    pub severity: String,
    /// Identity.
    pub key: String,
    /// One line.
    pub title: String,
    /// A few sentences.
    pub explanation: String,
    /// First seen, RFC 3339.
    pub first_seen: String,
    /// First seen, nanoseconds since the Unix epoch.
    pub first_seen_unix_nano: u64,
    /// Last seen, RFC 3339.
    pub last_seen: String,
    /// Last seen, nanoseconds since the Unix epoch.
    pub last_seen_unix_nano: u64,
    /// Observations.
    pub count: u64,
    /// Workload or client.
    pub source: String,
    /// Datastore or server.
    pub destination: String,
    /// Where the source is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_place: Option<JsonPlace>,
    /// Where the destination is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination_place: Option<JsonPlace>,
    /// Sensitive columns, `table.column`.
    pub columns: Vec<String>,
    /// Their categories.
    pub categories: Vec<String>,
    /// Their entities.
    pub entities: Vec<String>,
    /// `TRANSFER_CLASS_*` (transfers).
    pub transfer_class: String,
    /// Whether a transfer mechanism is needed.
    pub requires_mechanism: bool,
    /// The adequacy decision that applies, or why none does.
    pub adequacy: String,
    /// `region → region`.
    pub direction: String,
    /// `workload_to_datastore` or `datastore_to_workload`.
    pub data_movement: String,
    /// Fingerprints and ids.
    pub evidence: Vec<JsonEvidence>,
}

impl From<&Finding> for JsonFinding {
    fn from(finding: &Finding) -> Self {
        Self {
            id: finding.id,
            kind: enum_name(finding.kind, FindingKind::as_str_name),
            severity: enum_name(finding.severity, Severity::as_str_name),
            key: finding.key.clone(),
            title: finding.title.clone(),
            explanation: finding.explanation.clone(),
            first_seen: format_rfc3339(finding.first_seen_unix_nano, 9),
            first_seen_unix_nano: finding.first_seen_unix_nano,
            last_seen: format_rfc3339(finding.last_seen_unix_nano, 9),
            last_seen_unix_nano: finding.last_seen_unix_nano,
            count: finding.count,
            source: finding.source.clone(),
            destination: finding.destination.clone(),
            source_place: finding.source_place.as_ref().map(JsonPlace::from),
            destination_place: finding.destination_place.as_ref().map(JsonPlace::from),
            columns: finding.columns.clone(),
            categories: finding.categories.clone(),
            entities: finding.entities.clone(),
            transfer_class: enum_name(finding.transfer_class, TransferClass::as_str_name),
            requires_mechanism: finding.requires_mechanism,
            adequacy: finding.adequacy.clone(),
            direction: finding.direction.clone(),
            data_movement: finding.data_movement.clone(),
            evidence: finding
                .evidence
                .iter()
                .map(|evidence| JsonEvidence {
                    fingerprint: evidence.fingerprint.clone(),
                    fingerprint_id: evidence.fingerprint_id,
                    access_id: evidence.access_id,
                    flow_id: evidence.flow_id,
                })
                .collect(),
        }
    }
}

/// One `GetFindings` response: `{"finding": {...}, "time": ...}` or
/// `{"lostEvents": {...}, "time": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonFindingResponse {
    /// The finding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub finding: Option<JsonFinding>,
    /// Or created findings missed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lost_events: Option<JsonLostEvent>,
    /// When the aggregator sent it, RFC 3339.
    pub time: String,
}

impl From<&GetFindingsResponse> for JsonFindingResponse {
    fn from(response: &GetFindingsResponse) -> Self {
        let (finding, lost_events) = match &response.response_types {
            Some(FindingResponseTypes::Finding(finding)) => (Some(JsonFinding::from(finding)), None),
            Some(FindingResponseTypes::LostEvents(event)) => (None, Some(JsonLostEvent::from(event))),
            None => (None, None),
        };
        Self { finding, lost_events, time: format_rfc3339(response.time_unix_nano, 9) }
    }
}

/// A table of the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonTable {
    /// Table name as the datastore names it.
    pub name: String,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
    /// Readers and writers of the table as a whole.
    pub accessors: Vec<JsonAccessor>,
    /// Columns seen.
    pub columns: Vec<JsonColumn>,
}

impl From<&InventoryTable> for JsonTable {
    fn from(table: &InventoryTable) -> Self {
        Self {
            name: table.name.clone(),
            first_seen_unix_nano: table.first_seen_unix_nano,
            last_seen_unix_nano: table.last_seen_unix_nano,
            accessors: table.accessors.iter().map(JsonAccessor::from).collect(),
            columns: table.columns.iter().map(JsonColumn::from).collect(),
        }
    }
}

/// A database of the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDatabase {
    /// Database name; empty when unknown.
    pub name: String,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
    /// Tables seen.
    pub tables: Vec<JsonTable>,
}

impl From<&InventoryDatabase> for JsonDatabase {
    fn from(database: &InventoryDatabase) -> Self {
        Self {
            name: database.name.clone(),
            first_seen_unix_nano: database.first_seen_unix_nano,
            last_seen_unix_nano: database.last_seen_unix_nano,
            tables: database.tables.iter().map(JsonTable::from).collect(),
        }
    }
}

/// A datastore of the inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDatastore {
    /// `ip:port`.
    pub id: String,
    /// Server endpoint.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub server: Option<JsonEndpoint>,
    /// Server workload, when known.
    pub workload: String,
    /// `DATABASE_PROTOCOL_*`.
    pub protocol: String,
    /// First seen.
    pub first_seen_unix_nano: u64,
    /// Last seen.
    pub last_seen_unix_nano: u64,
    /// Databases seen.
    pub databases: Vec<JsonDatabase>,
    /// Clients whose sessions were encrypted; `statements` counts sessions.
    pub encrypted_sessions: Vec<JsonAccessor>,
}

impl From<&InventoryDatastore> for JsonDatastore {
    fn from(datastore: &InventoryDatastore) -> Self {
        Self {
            id: datastore.id.clone(),
            server: datastore.server.as_ref().map(JsonEndpoint::from),
            workload: datastore.workload.clone(),
            protocol: enum_name(datastore.protocol, DatabaseProtocol::as_str_name),
            first_seen_unix_nano: datastore.first_seen_unix_nano,
            last_seen_unix_nano: datastore.last_seen_unix_nano,
            databases: datastore.databases.iter().map(JsonDatabase::from).collect(),
            encrypted_sessions: datastore.encrypted_sessions.iter().map(JsonAccessor::from).collect(),
        }
    }
}
