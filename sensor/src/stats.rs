//! The sensor's counters: every event, flow, batch and drop, shared by the
//! pipeline stages and exported on `/metrics` and in every batch.

use std::sync::{
    Mutex,
    atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
};

use crate::kernel::KernelCounters;

#[derive(Default)]
pub struct Stats {
    /// Last reading of the kernel programs' counters.
    pub kernel: Mutex<KernelCounters>,
    /// Last reading of each kernel program's CPU time.
    pub programs: Mutex<Vec<crate::kernel::ProgramStats>>,
    /// Ring buffer records that could not be decoded.
    pub decode_errors: AtomicU64,
    /// Flows built from kernel events.
    pub flows: AtomicU64,
    /// Payload records read from the kernel, and their captured bytes.
    pub payloads: AtomicU64,
    pub payload_bytes: AtomicU64,
    /// Batches sent to and acknowledged by the aggregator.
    pub batches_sent: AtomicU64,
    pub batches_acked: AtomicU64,
    /// Flows waiting in the outbox, and flows dropped because it was full.
    pub buffered_flows: AtomicU64,
    pub buffer_dropped_flows: AtomicU64,
    /// Data-access records dropped because the buffer was full.
    pub buffer_dropped_accesses: AtomicU64,
    /// What the database decoders counted.
    pub database: Mutex<crate::database::DatabaseCounters>,
    /// Connection attempts to the aggregator that failed.
    pub connect_failures: AtomicU64,
    pub connected: AtomicBool,
    /// Set once the kernel programs are attached.
    pub ready: AtomicBool,
}

impl Stats {
    pub fn kernel(&self) -> KernelCounters {
        self.kernel.lock().map(|counters| *counters).unwrap_or_default()
    }

    pub fn set_kernel(&self, counters: KernelCounters) {
        if let Ok(mut current) = self.kernel.lock() {
            *current = counters;
        }
    }

    /// The cumulative counters every batch carries.
    pub fn database(&self) -> crate::database::DatabaseCounters {
        self.database.lock().map(|counters| *counters).unwrap_or_default()
    }

    pub fn sensor_counters(&self) -> proto::v1::SensorCounters {
        let kernel = self.kernel();
        let database = self.database();
        proto::v1::SensorCounters {
            kernel_events: kernel.conn_events,
            kernel_lost: kernel.conn_events_lost,
            decode_errors: self.decode_errors.load(Relaxed),
            buffer_dropped_flows: self.buffer_dropped_flows.load(Relaxed),
            flows: self.flows.load(Relaxed),
            payloads_lost: kernel.payloads_lost,
            payloads_truncated: kernel.payloads_truncated,
            statements: database.statements,
            statements_unparsed: database.statements_unparsed,
            protocol_errors: database.protocol_errors,
            buffer_dropped_accesses: self.buffer_dropped_accesses.load(Relaxed),
        }
    }

    /// Prometheus text exposition.
    pub fn render_prometheus(&self) -> String {
        let kernel = self.kernel();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        };
        metric("dataflow_sensor_kernel_events_total", "counter", "Connection events the kernel programs delivered.", kernel.conn_events);
        metric("dataflow_sensor_kernel_events_lost_total", "counter", "Connection events lost because the ring buffer was full.", kernel.conn_events_lost);
        metric("dataflow_sensor_kernel_socket_map_full_total", "counter", "Connections not tracked because the kernel socket map was full.", kernel.socket_map_full);
        metric("dataflow_sensor_kernel_accept_unresolved_total", "counter", "accept() results whose socket could not be resolved.", kernel.accept_unresolved);
        metric("dataflow_sensor_kernel_payloads_total", "counter", "Payload records the kernel programs delivered.", kernel.payloads);
        metric("dataflow_sensor_kernel_payloads_lost_total", "counter", "Payload records lost because the payload ring buffer was full.", kernel.payloads_lost);
        metric("dataflow_sensor_kernel_payloads_truncated_total", "counter", "Payloads cut to the capture limit (the real length is kept).", kernel.payloads_truncated);
        metric("dataflow_sensor_kernel_payload_bytes_skipped_total", "counter", "Payload bytes beyond the capture limit, not copied.", kernel.payload_bytes_skipped);
        metric("dataflow_sensor_kernel_capture_map_full_total", "counter", "Connections not captured because the capture map was full.", kernel.capture_map_full);
        metric("dataflow_sensor_kernel_pending_map_full_total", "counter", "Receives not captured because the pending-receive map was full.", kernel.pending_map_full);
        metric("dataflow_sensor_kernel_payload_read_failed_total", "counter", "Payloads whose user memory could not be read.", kernel.payload_read_failed);
        metric("dataflow_sensor_kernel_payload_bytes_lost_at_close_total", "counter", "Payload bytes of database connections not delivered when they closed (ring buffer full or memory not readable, with no later record to report them).", kernel.payload_bytes_lost_at_close);
        metric("dataflow_sensor_kernel_probe_bytes_lost_at_close_total", "counter", "Payload bytes not seen of connections that closed while their protocol was still being recognised (a database connection counted here lost statements).", kernel.probe_bytes_lost_at_close);
        metric("dataflow_sensor_kernel_sessions_recognised_total", "counter", "Connections the kernel turned to full capture itself because their first payload opens a PostgreSQL or MySQL session.", kernel.sessions_recognised);
        metric("dataflow_sensor_kernel_sessions_encrypted_total", "counter", "Database sessions the kernel stopped copying because they switched to TLS or GSSAPI encryption early in the session.", kernel.sessions_encrypted);
        metric("dataflow_sensor_payloads_total", "counter", "Payload records the sensor read.", self.payloads.load(Relaxed));
        metric("dataflow_sensor_payload_bytes_total", "counter", "Captured payload bytes the sensor read.", self.payload_bytes.load(Relaxed));
        metric("dataflow_sensor_decode_errors_total", "counter", "Kernel records that could not be decoded.", self.decode_errors.load(Relaxed));
        metric("dataflow_sensor_flows_total", "counter", "Flows built from kernel events.", self.flows.load(Relaxed));
        let database = self.database();
        metric("dataflow_sensor_statements_total", "counter", "SQL statements decoded from database connections.", database.statements);
        metric("dataflow_sensor_statements_unparsed_total", "counter", "Statements the SQL parser could not parse (a fallback extracted tables).", database.statements_unparsed);
        metric("dataflow_sensor_protocol_errors_total", "counter", "Database wire protocol decoding errors.", database.protocol_errors);
        metric("dataflow_sensor_payload_bytes_lost_total", "counter", "Payload bytes of database connections not seen (ring buffer full, or sent while the protocol was being recognised), skipped by length.", database.bytes_lost);
        metric("dataflow_sensor_payloads_without_connection_total", "counter", "Payloads whose connection was not known.", database.payloads_without_socket);
        metric("dataflow_sensor_database_connections_total", "counter", "Connections recognised as PostgreSQL or MySQL.", database.connections_recognised);
        metric("dataflow_sensor_database_connections_unreadable_total", "counter", "Database connections that switched to TLS, GSSAPI encryption or compression: their statements cannot be read on the wire, and their payloads are no longer copied.", database.connections_unreadable);
        metric("dataflow_sensor_buffer_dropped_accesses_total", "counter", "Data-access records dropped because the buffer was full.", self.buffer_dropped_accesses.load(Relaxed));
        metric("dataflow_sensor_batches_sent_total", "counter", "Batches sent to the aggregator (including resends).", self.batches_sent.load(Relaxed));
        metric("dataflow_sensor_batches_acked_total", "counter", "Batches the aggregator acknowledged as stored.", self.batches_acked.load(Relaxed));
        metric("dataflow_sensor_buffered_flows", "gauge", "Flows waiting for the aggregator's acknowledgement.", self.buffered_flows.load(Relaxed));
        metric("dataflow_sensor_buffer_dropped_flows_total", "counter", "Flows dropped because the buffer was full while the aggregator was away.", self.buffer_dropped_flows.load(Relaxed));
        metric("dataflow_sensor_connect_failures_total", "counter", "Failed connection attempts to the aggregator.", self.connect_failures.load(Relaxed));
        metric("dataflow_sensor_aggregator_connected", "gauge", "1 while the stream to the aggregator is up.", u64::from(self.connected.load(Relaxed)));
        if let Ok(programs) = self.programs.lock()
            && !programs.is_empty()
        {
            out.push_str("# HELP dataflow_sensor_kernel_program_run_time_ns_total Kernel CPU time of each program (while sysctl kernel.bpf_stats_enabled=1).\n# TYPE dataflow_sensor_kernel_program_run_time_ns_total counter\n");
            for program in programs.iter() {
                out.push_str(&format!("dataflow_sensor_kernel_program_run_time_ns_total{{program=\"{}\"}} {}\n", program.name, program.run_time_ns));
            }
            out.push_str("# HELP dataflow_sensor_kernel_program_runs_total Runs of each program (while sysctl kernel.bpf_stats_enabled=1).\n# TYPE dataflow_sensor_kernel_program_runs_total counter\n");
            for program in programs.iter() {
                out.push_str(&format!("dataflow_sensor_kernel_program_runs_total{{program=\"{}\"}} {}\n", program.name, program.runs));
            }
        }
        out
    }
}
