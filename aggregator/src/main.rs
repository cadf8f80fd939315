//! The `aggregator` command: the server and its command-line client.

use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use aggregator::bench::{self, BenchOptions};
use aggregator::client::{self, ClientError, time::parse_time};
use aggregator::peers::KubernetesApi;
use aggregator::server::{self, DEFAULT_MAX_MESSAGE_BYTES, ServerConfig};
use aggregator::store::Synchronous;
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use proto::v1::{
    DataAccessFilter, DatabaseProtocol, Direction, FindingFilter, FindingKind, FlowFilter, FlowState,
    GetDataAccessesRequest, GetFindingsRequest, GetFlowsRequest, GetInventoryRequest, Protocol, Severity,
};
use tracing_subscriber::EnvFilter;

/// Many small allocations per ingested flow: mimalloc serves them faster
/// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AFTER_HELP: &str = "\
Examples:
  aggregator serve --listen 0.0.0.0:50051 --data-dir /var/lib/dataflow
  aggregator observe --server 10.0.0.5:50051 --follow --process postgres
  aggregator observe --last 100 --ip 10.0.0.0/8 --not-port 22 --json | jq .flow.remote
  aggregator observe --since 5m --state failed
  aggregator accesses --follow --table customers --operation select
  aggregator inventory
  aggregator findings --kind transfer --severity high,medium
  aggregator report --format html --out report.html
  aggregator status
  aggregator graph --json
  aggregator classify columns.jsonl --rules acme-rules.toml --out classified.jsonl

Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=aggregator=debug) to change what is logged.";

/// Runtime data-flow aggregator: receives flows and data accesses from sensors,
/// stores them, keeps the datastore inventory and serves them to subscribers
/// over gRPC.
#[derive(Parser, Debug)]
#[command(name = "aggregator", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the aggregator: gRPC ingest and observer API, HTTP metrics, health and report.
    #[command(after_help = "\
Examples:
  aggregator serve
  aggregator serve --listen 0.0.0.0:50051 --data-dir /var/lib/dataflow --http-listen 0.0.0.0:9091
  aggregator serve --kubernetes http://127.0.0.1:8001    # through `kubectl proxy`
  aggregator serve --residency residency.toml --residency-refresh 1m

Peers no sensor sees are placed by the --residency file: address ranges, and host names looked up with the system resolver at start and every --residency-refresh (an address a name no longer resolves to stops being placed by it; failed lookups are logged and counted on /metrics, never fatal). An entry for exactly an address wins over a host name, a host name over a range.

In Kubernetes (or with a kubeconfig), the aggregator watches every pod and Service of the cluster and names the workload behind each flow's remote address; it needs get, list and watch on pods and services, and get on replicasets and jobs.

Stops gracefully on Ctrl-C or SIGTERM: stops accepting, acknowledges what is committed, closes the store.")]
    Serve(ServeArgs),
    /// Print recorded and live flows, like `hubble observe`.
    #[command(after_help = "\
Filters: a flow is shown when it matches every kind of filter flag given (any one of that flag's values),
and none of the --not-* flags. Flags repeat and take comma-separated lists: --port 80,443 --port 8080.

Which flows: --last N (the newest N), --first N (the oldest N), --since/--until (RFC 3339 like
2025-01-31T12:00:00Z, or a duration back from now like 30s, 5m, 2h, 1d), --follow to keep printing new
flows. Without any of these, the last 20 flows are printed.

Examples:
  aggregator observe --follow
  aggregator observe --last 50 --node worker-1 --direction outbound
  aggregator observe --since 1h --until 30m --ip 10.0.0.0/8 --ip fd00::/8
  aggregator observe -f --process postgres --not-ip 127.0.0.1 -o json
  aggregator observe --last 100 --peer-workload shop/orders-db")]
    Observe(Box<ObserveArgs>),
    /// Print recorded and live data accesses: which workload ran which statement on which datastore.
    #[command(after_help = "\
Filters work as for `observe`: an access is shown when it matches every kind of filter flag given (any one
of that flag's values), and none of the --not-* flags. Flags repeat and take comma-separated lists.

Which accesses: --last N, --first N, --since/--until, --follow, as for `observe`. Without any of these,
the last 20 accesses are printed.

Examples:
  aggregator accesses --follow
  aggregator accesses --datastore 10.0.0.5:5432 --table public.customers --column email
  aggregator accesses --last 100 --workload shop/checkout --not-operation select
  aggregator accesses --since 1h --operation delete,update --json | jq .dataAccess.fingerprint")]
    Accesses(Box<AccessesArgs>),
    /// Print the datastore inventory: datastores, databases, tables and columns, with who reads and writes them.
    #[command(after_help = "\
Examples:
  aggregator inventory
  aggregator inventory --datastore 10.0.0.5:5432 --table customers
  aggregator inventory --json | jq '.[].databases[].tables[].name'")]
    Inventory(InventoryArgs),
    /// Print findings: personal data moving between regions (transfers) and what changed (drift).
    #[command(after_help = "\
Kinds:
  transfer                  sensitive columns read or written across regions
  new-flow                  a new service edge or client → datastore pair
  first-personal-data-read  a workload reads personal data for the first time
  new-sensitive-column      a column newly classified as personal data
  new-region                a region seen for the first time
A finding is shown when it matches every filter flag given (any one of that flag's values).

Without --last/--first, every stored finding is printed, oldest first; --follow then keeps
printing new findings as they are created. Severities and how places are decided:
docs/findings.md.

Examples:
  aggregator findings
  aggregator findings --kind transfer --severity high,medium
  aggregator findings --category PCI --region us-east-1 --json | jq .finding.evidence
  aggregator findings --follow --kind transfer,new-region")]
    Findings(FindingsArgs),
    /// Write the data-residency report (HTML, JSON or CSV) from the store: where personal data is, every
    /// cross-border transfer with its evidence, what changed.
    #[command(after_help = "\
Reads the store file directly (read-only), so it works while the aggregator runs;
point --data-dir at the aggregator's data directory. A running aggregator also serves
the report on its HTTP listener: /report (HTML), /report.json, /report.csv?section=NAME.

CSV holds one section per file (--section): transfers (one row per cross-border
transfer), columns (one row per column holding personal data, with its declared type),
datastores (one row per datastore: its place, databases, counts, categories and
entities), workloads (one row per service, column and read or write), changes (one row
per drift finding). Sections and
fields: docs/report.md.

Examples:
  aggregator report --out residency.html
  aggregator report --format json --out - | jq .summary
  aggregator report --format csv --section columns --out columns.csv --data-dir /var/lib/dataflow
  aggregator report --residency residency.toml --out report.html")]
    Report(ReportArgs),
    /// Print the aggregator's counters and the sensors it knows.
    Status(StatusArgs),
    /// Print the service graph: who connects to whom, with counts and bytes.
    Graph(GraphArgs),
    /// Classify columns offline: which hold personal data (JSON lines in, JSON lines out).
    #[command(after_help = CLASSIFY_HELP)]
    Classify(ClassifyArgs),
    /// Measure ingest throughput (store alone, and end to end over gRPC).
    #[command(hide = true)]
    BenchIngest(BenchArgs),
}

const CLASSIFY_HELP: &str = "\
Input: one JSON object per line, `samples` optional (sampled values; only used here, never stored),
`type` optional (the column's declared type as the schema writes it, or as an ORM names it:
Django's genericipaddressfield, Laravel's unsignedinteger, ADOdb's I8):
  {\"table\": \"customers\", \"column\": \"email\", \"samples\": [\"jane@example.com\", \"li@example.org\"]}
  {\"schema\": \"shop\", \"table\": \"orders\", \"column\": \"created_at\", \"type\": \"timestamp without time zone\"}
Blank lines and lines starting with # are skipped. A declared type sets aside what it cannot hold:
a boolean notified_by_email is a flag, not an address; an integer created_by is a key, not a login.

Output: one JSON object per column, in input order; entity and category are null when the
column is not found to hold personal data:
  {\"table\":\"customers\",\"column\":\"email\",\"entity\":\"EMAIL_ADDRESS\",\"category\":\"PII\",\"confidence\":0.98,\"reasons\":[...]}
Categories: PII, SPECIAL (GDPR Art. 9), PHI, PCI, CREDENTIAL.

Consecutive lines of the same table are classified together: what the table's other columns say
counts for each of them (a vat_number makes the rows a company's, so its address is not a person's;
a first_name makes them a person's). Give a schema table by table, in any column order.

A malformed line is reported on stderr with its line number and skipped; the run goes on. A summary
goes to stderr at the end. Exit status: 0 when every line was classified, 2 when some lines were
malformed, 1 when the run could not complete (unreadable input or rules, unwritable output).

--rules takes a file in the format of the built-in rules (classifier/rules/default.toml): it can add,
replace or disable rules, and pin columns with manual labels, which win over everything else:
  [[label]]
  column = \"crm.contacts.notes\"     # table.column or schema.table.column; * and ? match anything
  entity = \"MEDICAL_CONDITION\"      # or \"none\" to mark a column as not sensitive

Examples:
  aggregator classify columns.jsonl
  aggregator classify --rules acme-rules.toml --out classified.jsonl columns.jsonl
  psql -Atc \"select json_build_object('schema', table_schema, 'table', table_name,
      'column', column_name, 'type', data_type) from information_schema.columns
      order by table_schema, table_name, ordinal_position\" \\
    | aggregator classify | jq -c 'select(.entity != null)'";

#[derive(Args, Debug)]
struct ClassifyArgs {
    /// JSON-lines file of columns to classify; `-` or nothing reads standard input.
    input: Option<PathBuf>,
    /// Write the results to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// User rules file: extra or replaced rules and manual labels, merged over the built-in rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Report progress on stderr every N input lines (0: never). On a terminal the report is
    /// rewritten in place; otherwise each is a line of its own.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    progress_every: u64,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// gRPC address to listen on.
    #[arg(long, default_value = server::DEFAULT_LISTEN, env = "AGGREGATOR_LISTEN")]
    listen: SocketAddr,
    /// Directory of the store (created if missing); holds aggregator.db.
    #[arg(long, default_value = "./data", env = "AGGREGATOR_DATA_DIR")]
    data_dir: PathBuf,
    /// HTTP address for /metrics, /healthz, /readyz and the report (/report, /report.json, /report.csv).
    #[arg(long, default_value = server::DEFAULT_HTTP_LISTEN, env = "AGGREGATOR_HTTP_LISTEN")]
    http_listen: SocketAddr,
    /// Do not start the HTTP listener.
    #[arg(long)]
    no_http: bool,
    /// Largest gRPC message accepted; larger sensor batches are refused with RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    max_message_bytes: usize,
    /// Most flows accepted in one sensor batch.
    #[arg(long, default_value_t = 200_000)]
    max_batch_flows: usize,
    /// Most data accesses accepted in one sensor batch.
    #[arg(long, default_value_t = 200_000)]
    max_batch_accesses: usize,
    /// Batches a subscriber may fall behind before it loses flows or data accesses (and is told how many).
    #[arg(long, default_value_t = 256)]
    subscriber_queue: usize,
    /// Commit durability: `normal` survives aggregator crashes; `full` also survives power loss, at one fsync per commit.
    #[arg(long, value_enum, default_value_t = SyncArg::Normal)]
    synchronous: SyncArg,
    /// Where to watch pods and Services to name the workloads behind remote addresses: `auto` (the pod's service
    /// account in a cluster, else $KUBECONFIG or ~/.kube/config; nothing without either), `off`, or the URL of an
    /// API server reached without credentials (`kubectl proxy`: http://127.0.0.1:8001).
    #[arg(long, value_name = "auto|off|URL", default_value = "auto", env = "AGGREGATOR_KUBERNETES", value_parser = parse_kubernetes)]
    kubernetes: KubernetesApi,
    /// Classifier rules file (TOML): extra or replaced rules and manual column labels, added to the
    /// built-in rules. Checked at start; see docs/findings.md.
    #[arg(long, value_name = "FILE", env = "AGGREGATOR_RULES")]
    rules: Option<PathBuf>,
    /// Residency file (TOML): regions, countries, address ranges (CIDR) and host names that place
    /// endpoints no sensor sees. Checked at start; see docs/findings.md.
    #[arg(long, value_name = "FILE", env = "AGGREGATOR_RESIDENCY")]
    residency: Option<PathBuf>,
    /// How often the residency file's host names are looked up again (system resolver), since DNS
    /// answers change: an address a name no longer resolves to stops being placed by it. They are
    /// also looked up at start. Failed lookups are logged and counted, never fatal.
    #[arg(long, value_name = "INTERVAL", default_value = "5m", env = "AGGREGATOR_RESIDENCY_REFRESH",
          value_parser = parse_refresh)]
    residency_refresh: std::time::Duration,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// File to write; `-` writes to standard output.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Which part of the report a CSV file holds (CSV only; transfers when not given).
    #[arg(long, value_enum)]
    section: Option<CsvSectionArg>,
    /// Directory of the aggregator's store (holds aggregator.db).
    #[arg(long, default_value = "./data", env = "AGGREGATOR_DATA_DIR")]
    data_dir: PathBuf,
    /// Residency file (TOML) used to place datastores and nodes; give the one `serve` uses. Its host
    /// names are looked up once, now (system resolver).
    #[arg(long, value_name = "FILE", env = "AGGREGATOR_RESIDENCY")]
    residency: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// One self-contained page, to read, print or send.
    Html,
    /// The whole report for tools.
    Json,
    /// One section (--section) for spreadsheets.
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CsvSectionArg {
    /// One row per cross-border transfer.
    Transfers,
    /// One row per column holding personal data.
    Columns,
    /// One row per datastore: where it is and what personal data it holds.
    Datastores,
    /// One row per service, column and read or write of personal data.
    Workloads,
    /// One row per drift finding.
    Changes,
}

impl CsvSectionArg {
    fn section(self) -> aggregator::report::csv::Section {
        use aggregator::report::csv::Section;
        match self {
            Self::Transfers => Section::Transfers,
            Self::Columns => Section::Columns,
            Self::Datastores => Section::Datastores,
            Self::Workloads => Section::Workloads,
            Self::Changes => Section::Changes,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FindingKindArg {
    Transfer,
    NewFlow,
    FirstPersonalDataRead,
    NewSensitiveColumn,
    NewRegion,
}

impl FindingKindArg {
    fn proto(self) -> i32 {
        (match self {
            Self::Transfer => FindingKind::Transfer,
            Self::NewFlow => FindingKind::NewFlow,
            Self::FirstPersonalDataRead => FindingKind::FirstPersonalDataRead,
            Self::NewSensitiveColumn => FindingKind::NewSensitiveColumn,
            Self::NewRegion => FindingKind::NewRegion,
        }) as i32
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
}

impl SeverityArg {
    fn proto(self) -> i32 {
        (match self {
            Self::Info => Severity::Info,
            Self::Low => Severity::Low,
            Self::Medium => Severity::Medium,
            Self::High => Severity::High,
        }) as i32
    }
}

#[derive(Args, Debug)]
struct FindingsArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Only findings of these kinds.
    #[arg(long, value_enum, value_delimiter = ',')]
    kind: Vec<FindingKindArg>,
    /// Only findings of these severities.
    #[arg(long, value_enum, value_delimiter = ',')]
    severity: Vec<SeverityArg>,
    /// Only findings involving columns of these categories (PII, SPECIAL, PHI, PCI, CREDENTIAL).
    #[arg(long, value_delimiter = ',')]
    category: Vec<String>,
    /// Only findings with an end in (or about) these regions.
    #[arg(long, value_delimiter = ',')]
    region: Vec<String>,
    /// Keep printing new findings as they are created.
    #[arg(short, long)]
    follow: bool,
    /// Print the newest N stored findings.
    #[arg(long, value_name = "N", conflicts_with = "first")]
    last: Option<u64>,
    /// Print the oldest N stored findings.
    #[arg(long, value_name = "N")]
    first: Option<u64>,
    /// Only findings first seen at or after this time (RFC 3339 or a duration back from now: 5m, 2h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only findings first seen at or before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Print one JSON object per line.
    #[arg(long)]
    json: bool,
}

fn parse_refresh(value: &str) -> Result<std::time::Duration, String> {
    let interval = aggregator::client::time::parse_interval(value)?;
    let least = aggregator::detect::host_names::MIN_REFRESH_INTERVAL;
    if interval < least {
        return Err(format!("must be at least {} s: lookups must not hammer the resolver", least.as_secs()));
    }
    Ok(interval)
}

fn parse_kubernetes(value: &str) -> Result<KubernetesApi, String> {
    match value {
        "auto" => Ok(KubernetesApi::Environment),
        "off" => Ok(KubernetesApi::Off),
        url if url.starts_with("http://") || url.starts_with("https://") => Ok(KubernetesApi::Url(url.to_owned())),
        other => Err(format!("{other:?} is not auto, off or an http(s) URL")),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SyncArg {
    Normal,
    Full,
}

#[derive(Args, Debug)]
struct ServerArg {
    /// Aggregator gRPC address (URL or host:port).
    #[arg(long, default_value = "http://127.0.0.1:50051", env = "AGGREGATOR_SERVER")]
    server: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OutputArg {
    /// One line per flow.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DirectionArg {
    Outbound,
    Inbound,
    Unknown,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProtocolArg {
    Tcp,
    Unknown,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StateArg {
    Open,
    Closed,
    Failed,
    Unknown,
}

impl DirectionArg {
    fn proto(self) -> i32 {
        match self {
            Self::Outbound => Direction::Outbound as i32,
            Self::Inbound => Direction::Inbound as i32,
            Self::Unknown => Direction::Unknown as i32,
        }
    }
}

impl ProtocolArg {
    fn proto(self) -> i32 {
        match self {
            Self::Tcp => Protocol::Tcp as i32,
            Self::Unknown => Protocol::Unknown as i32,
        }
    }
}

impl StateArg {
    fn proto(self) -> i32 {
        match self {
            Self::Open => FlowState::Open as i32,
            Self::Closed => FlowState::Closed as i32,
            Self::Failed => FlowState::Failed as i32,
            Self::Unknown => FlowState::Unknown as i32,
        }
    }
}

#[derive(Args, Debug)]
struct ObserveArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Keep printing new flows as they are stored.
    #[arg(short, long)]
    follow: bool,
    /// Print the newest N recorded flows.
    #[arg(long, value_name = "N", conflicts_with = "first")]
    last: Option<u64>,
    /// Print the oldest N recorded flows.
    #[arg(long, value_name = "N")]
    first: Option<u64>,
    /// Only flows at or after this time (RFC 3339 or a duration back from now: 5m, 2h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only flows at or before this time (RFC 3339 or a duration back from now).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputArg::Text)]
    output: OutputArg,
    /// Same as `--output json`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    allow: FilterArgs,
    #[command(flatten)]
    deny: DenyArgs,
}

#[derive(Args, Debug)]
struct FilterArgs {
    /// Only flows seen on this node.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    node: Vec<String>,
    /// Only flows of this process (command name, executable file name or workload).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    process: Vec<String>,
    /// Only flows of this process id.
    #[arg(long, value_delimiter = ',')]
    pid: Vec<u32>,
    /// Only flows whose peer is this address or in this CIDR (IPv4 or IPv6).
    #[arg(long, value_name = "ADDRESS|CIDR", value_delimiter = ',')]
    ip: Vec<String>,
    /// Only flows with this local or remote port.
    #[arg(long, value_delimiter = ',')]
    port: Vec<u32>,
    /// Only flows in this direction.
    #[arg(long, value_enum, value_delimiter = ',')]
    direction: Vec<DirectionArg>,
    /// Only flows of this protocol.
    #[arg(long, value_enum, value_delimiter = ',')]
    protocol: Vec<ProtocolArg>,
    /// Only flows in this state.
    #[arg(long, value_enum, value_delimiter = ',')]
    state: Vec<StateArg>,
    /// Only flows whose peer is this Kubernetes workload, pod or Service (namespace/name).
    #[arg(long, value_name = "NAMESPACE/NAME", value_delimiter = ',')]
    peer_workload: Vec<String>,
}

#[derive(Args, Debug)]
struct DenyArgs {
    /// Hide flows seen on this node.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_node: Vec<String>,
    /// Hide flows of this process.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_process: Vec<String>,
    /// Hide flows of this process id.
    #[arg(long, value_name = "PID", value_delimiter = ',')]
    not_pid: Vec<u32>,
    /// Hide flows whose peer is this address or in this CIDR.
    #[arg(long, value_name = "ADDRESS|CIDR", value_delimiter = ',')]
    not_ip: Vec<String>,
    /// Hide flows with this local or remote port.
    #[arg(long, value_name = "PORT", value_delimiter = ',')]
    not_port: Vec<u32>,
    /// Hide flows in this direction.
    #[arg(long, value_enum, value_name = "DIRECTION", value_delimiter = ',')]
    not_direction: Vec<DirectionArg>,
    /// Hide flows of this protocol.
    #[arg(long, value_enum, value_name = "PROTOCOL", value_delimiter = ',')]
    not_protocol: Vec<ProtocolArg>,
    /// Hide flows in this state.
    #[arg(long, value_enum, value_name = "STATE", value_delimiter = ',')]
    not_state: Vec<StateArg>,
    /// Hide flows whose peer is this Kubernetes workload, pod or Service.
    #[arg(long, value_name = "NAMESPACE/NAME", value_delimiter = ',')]
    not_peer_workload: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DatabaseProtocolArg {
    Postgresql,
    Mysql,
    Unknown,
}

impl DatabaseProtocolArg {
    fn proto(self) -> i32 {
        match self {
            Self::Postgresql => DatabaseProtocol::Postgresql as i32,
            Self::Mysql => DatabaseProtocol::Mysql as i32,
            Self::Unknown => DatabaseProtocol::Unknown as i32,
        }
    }
}

#[derive(Args, Debug)]
struct AccessesArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Keep printing new data accesses as they are stored.
    #[arg(short, long)]
    follow: bool,
    /// Print the newest N recorded data accesses.
    #[arg(long, value_name = "N", conflicts_with = "first")]
    last: Option<u64>,
    /// Print the oldest N recorded data accesses.
    #[arg(long, value_name = "N")]
    first: Option<u64>,
    /// Only accesses at or after this time (RFC 3339 or a duration back from now: 5m, 2h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only accesses at or before this time (RFC 3339 or a duration back from now).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputArg::Text)]
    output: OutputArg,
    /// Same as `--output json`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    allow: AccessFilterArgs,
    #[command(flatten)]
    deny: AccessDenyArgs,
}

#[derive(Args, Debug)]
struct AccessFilterArgs {
    /// Only accesses seen on this node.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    node: Vec<String>,
    /// Only accesses by this client (workload, command or executable name; address when the process is unknown).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    workload: Vec<String>,
    /// Only accesses to this datastore (ip:port, [ip]:port, or the server's workload).
    #[arg(long, value_name = "ENDPOINT|NAME", value_delimiter = ',')]
    datastore: Vec<String>,
    /// Only accesses to this database.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    database: Vec<String>,
    /// Only accesses touching this table (qualified, or its last part: customers matches public.customers).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    table: Vec<String>,
    /// Only accesses touching this column (email, customers.email, public.customers.email).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    column: Vec<String>,
    /// Only statements of this kind (select, insert, update, delete, …).
    #[arg(long, value_name = "OPERATION", value_delimiter = ',')]
    operation: Vec<String>,
    /// Only accesses over this database protocol.
    #[arg(long, value_enum, value_delimiter = ',')]
    protocol: Vec<DatabaseProtocolArg>,
}

#[derive(Args, Debug)]
struct AccessDenyArgs {
    /// Hide accesses seen on this node.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_node: Vec<String>,
    /// Hide accesses by this client.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_workload: Vec<String>,
    /// Hide accesses to this datastore.
    #[arg(long, value_name = "ENDPOINT|NAME", value_delimiter = ',')]
    not_datastore: Vec<String>,
    /// Hide accesses to this database.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_database: Vec<String>,
    /// Hide accesses touching this table.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_table: Vec<String>,
    /// Hide accesses touching this column.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    not_column: Vec<String>,
    /// Hide statements of this kind.
    #[arg(long, value_name = "OPERATION", value_delimiter = ',')]
    not_operation: Vec<String>,
    /// Hide accesses over this database protocol.
    #[arg(long, value_enum, value_name = "PROTOCOL", value_delimiter = ',')]
    not_protocol: Vec<DatabaseProtocolArg>,
}

#[derive(Args, Debug)]
struct InventoryArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Only this datastore (ip:port or the server's workload).
    #[arg(long, value_name = "ENDPOINT|NAME")]
    datastore: Option<String>,
    /// Only this database.
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// Only this table (qualified, or its last part).
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct GraphArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Only edges seen at or after this time (RFC 3339 or a duration back from now).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Concurrent sensors (gRPC clients).
    #[arg(long, default_value_t = 4)]
    sensors: usize,
    /// Batches each sensor sends.
    #[arg(long, default_value_t = 50)]
    batches: u64,
    /// Flows per batch.
    #[arg(long, default_value_t = 10_000)]
    batch_size: usize,
    /// Directory for the temporary stores (removed afterwards).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn allow_filter(args: &FilterArgs) -> FlowFilter {
    FlowFilter {
        node_name: args.node.clone(),
        process: args.process.clone(),
        pid: args.pid.clone(),
        peer_ip: args.ip.clone(),
        port: args.port.clone(),
        direction: args.direction.iter().map(|value| value.proto()).collect(),
        protocol: args.protocol.iter().map(|value| value.proto()).collect(),
        state: args.state.iter().map(|value| value.proto()).collect(),
        peer_workload: args.peer_workload.clone(),
    }
}

/// One deny filter per kind of `--not-*` flag, so each hides flows on its own.
fn deny_filters(args: &DenyArgs) -> Vec<FlowFilter> {
    let candidates = [
        FlowFilter { node_name: args.not_node.clone(), ..Default::default() },
        FlowFilter { process: args.not_process.clone(), ..Default::default() },
        FlowFilter { pid: args.not_pid.clone(), ..Default::default() },
        FlowFilter { peer_ip: args.not_ip.clone(), ..Default::default() },
        FlowFilter { port: args.not_port.clone(), ..Default::default() },
        FlowFilter { direction: args.not_direction.iter().map(|value| value.proto()).collect(), ..Default::default() },
        FlowFilter { protocol: args.not_protocol.iter().map(|value| value.proto()).collect(), ..Default::default() },
        FlowFilter { state: args.not_state.iter().map(|value| value.proto()).collect(), ..Default::default() },
        FlowFilter { peer_workload: args.not_peer_workload.clone(), ..Default::default() },
    ];
    candidates.into_iter().filter(|filter| *filter != FlowFilter::default()).collect()
}

/// Which records a stream command asks for.
struct StreamWindow {
    number: u64,
    first: bool,
    since: u64,
    until: u64,
}

fn stream_window(
    last: Option<u64>,
    first: Option<u64>,
    follow: bool,
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<StreamWindow> {
    let now = now_unix_nano();
    let since = since.map(|value| parse_time(value, now)).transpose().context("--since")?;
    let until = until.map(|value| parse_time(value, now)).transpose().context("--until")?;
    if let (Some(since), Some(until)) = (since, until) {
        anyhow::ensure!(since <= until, "--since is after --until");
    }
    let (number, first) = match (last, first) {
        (Some(last), _) => (last, false),
        (None, Some(first)) => (first, true),
        // Like `hubble observe`: with nothing said, the last 20.
        (None, None) if !follow && since.is_none() && until.is_none() => (20, false),
        (None, None) => (0, false),
    };
    Ok(StreamWindow { number, first, since: since.unwrap_or(0), until: until.unwrap_or(0) })
}

fn observe_request(args: &ObserveArgs) -> anyhow::Result<GetFlowsRequest> {
    let window = stream_window(args.last, args.first, args.follow, args.since.as_deref(), args.until.as_deref())?;
    let allow = allow_filter(&args.allow);
    Ok(GetFlowsRequest {
        number: window.number,
        first: window.first,
        follow: args.follow,
        since_unix_nano: window.since,
        until_unix_nano: window.until,
        allow: if allow == FlowFilter::default() { Vec::new() } else { vec![allow] },
        deny: deny_filters(&args.deny),
    })
}

fn protocols(values: &[DatabaseProtocolArg]) -> Vec<i32> {
    values.iter().map(|value| value.proto()).collect()
}

fn accesses_request(args: &AccessesArgs) -> anyhow::Result<GetDataAccessesRequest> {
    let window = stream_window(args.last, args.first, args.follow, args.since.as_deref(), args.until.as_deref())?;
    let allow_args = &args.allow;
    let allow = DataAccessFilter {
        node_name: allow_args.node.clone(),
        workload: allow_args.workload.clone(),
        datastore: allow_args.datastore.clone(),
        database: allow_args.database.clone(),
        table: allow_args.table.clone(),
        column: allow_args.column.clone(),
        operation: allow_args.operation.clone(),
        protocol: protocols(&allow_args.protocol),
    };
    // One deny filter per kind of `--not-*` flag, so each hides accesses on its own.
    let deny_args = &args.deny;
    let deny = [
        DataAccessFilter { node_name: deny_args.not_node.clone(), ..Default::default() },
        DataAccessFilter { workload: deny_args.not_workload.clone(), ..Default::default() },
        DataAccessFilter { datastore: deny_args.not_datastore.clone(), ..Default::default() },
        DataAccessFilter { database: deny_args.not_database.clone(), ..Default::default() },
        DataAccessFilter { table: deny_args.not_table.clone(), ..Default::default() },
        DataAccessFilter { column: deny_args.not_column.clone(), ..Default::default() },
        DataAccessFilter { operation: deny_args.not_operation.clone(), ..Default::default() },
        DataAccessFilter { protocol: protocols(&deny_args.not_protocol), ..Default::default() },
    ];
    Ok(GetDataAccessesRequest {
        number: window.number,
        first: window.first,
        follow: args.follow,
        since_unix_nano: window.since,
        until_unix_nano: window.until,
        allow: if allow == DataAccessFilter::default() { Vec::new() } else { vec![allow] },
        deny: deny.into_iter().filter(|filter| *filter != DataAccessFilter::default()).collect(),
    })
}

fn findings_request(args: &FindingsArgs) -> anyhow::Result<GetFindingsRequest> {
    let now = now_unix_nano();
    let since = args.since.as_deref().map(|value| parse_time(value, now)).transpose().context("--since")?;
    let until = args.until.as_deref().map(|value| parse_time(value, now)).transpose().context("--until")?;
    if let (Some(since), Some(until)) = (since, until) {
        anyhow::ensure!(since <= until, "--since is after --until");
    }
    // Zero asks for every stored finding.
    let (number, first) = match (args.last, args.first) {
        (Some(last), _) => (last, false),
        (None, Some(first)) => (first, true),
        (None, None) => (0, true),
    };
    Ok(GetFindingsRequest {
        number,
        first,
        follow: args.follow,
        since_unix_nano: since.unwrap_or(0),
        until_unix_nano: until.unwrap_or(0),
        filter: Some(FindingFilter {
            kind: args.kind.iter().map(|kind| kind.proto()).collect(),
            severity: args.severity.iter().map(|severity| severity.proto()).collect(),
            category: args.category.iter().map(|category| category.to_ascii_uppercase()).collect(),
            region: args.region.clone(),
        }),
    })
}

fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = ServerConfig::new(args.listen, args.data_dir);
    config.http_listen = (!args.no_http).then_some(args.http_listen);
    config.max_message_bytes = args.max_message_bytes;
    config.ingest.max_batch_flows = args.max_batch_flows;
    config.ingest.max_batch_accesses = args.max_batch_accesses;
    config.subscriber_queue_batches = args.subscriber_queue;
    config.synchronous = match args.synchronous {
        SyncArg::Normal => Synchronous::Normal,
        SyncArg::Full => Synchronous::Full,
    };
    config.kubernetes = args.kubernetes;
    config.rules_file = args.rules;
    config.residency_file = args.residency;
    config.residency_refresh = args.residency_refresh;
    let running = server::start(config).await.context("cannot start the aggregator")?;
    shutdown_signal().await;
    running.shutdown().await.context("shutdown failed")?;
    Ok(())
}

/// A client command with its arguments checked.
enum ClientCommand {
    Observe { server: String, request: GetFlowsRequest, json: bool },
    Accesses { server: String, request: GetDataAccessesRequest, json: bool },
    Inventory { server: String, request: GetInventoryRequest, json: bool },
    Findings { server: String, request: GetFindingsRequest, json: bool },
    Status { server: String, json: bool },
    Graph { server: String, since_unix_nano: u64, json: bool },
}

fn client_command(command: Command) -> anyhow::Result<ClientCommand> {
    Ok(match command {
        Command::Observe(args) => ClientCommand::Observe {
            request: observe_request(&args)?,
            json: args.json || args.output == OutputArg::Json,
            server: args.server.server,
        },
        Command::Accesses(args) => ClientCommand::Accesses {
            request: accesses_request(&args)?,
            json: args.json || args.output == OutputArg::Json,
            server: args.server.server,
        },
        Command::Inventory(args) => ClientCommand::Inventory {
            request: GetInventoryRequest {
                datastore: args.datastore.unwrap_or_default(),
                database: args.database.unwrap_or_default(),
                table: args.table.unwrap_or_default(),
            },
            json: args.json,
            server: args.server.server,
        },
        Command::Status(args) => ClientCommand::Status { server: args.server.server, json: args.json },
        Command::Graph(args) => ClientCommand::Graph {
            since_unix_nano: args
                .since
                .as_deref()
                .map(|value| parse_time(value, now_unix_nano()))
                .transpose()
                .context("--since")?
                .unwrap_or(0),
            server: args.server.server,
            json: args.json,
        },
        Command::Findings(args) => {
            ClientCommand::Findings { request: findings_request(&args)?, json: args.json, server: args.server.server }
        }
        Command::Serve(_) | Command::BenchIngest(_) | Command::Classify(_) | Command::Report(_) => anyhow::bail!("not a client command"),
    })
}

/// Client output goes through here so a closed pipe (`| head`) ends quietly.
async fn run_client(command: ClientCommand) -> Result<(), ClientError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match command {
        ClientCommand::Observe { server, request, json } => {
            client::observe(client::connect(&server).await?, request, json, &mut out).await?;
        }
        ClientCommand::Accesses { server, request, json } => {
            client::accesses(client::connect(&server).await?, request, json, &mut out).await?;
        }
        ClientCommand::Inventory { server, request, json } => {
            client::inventory(client::connect(&server).await?, request, json, &mut out).await?;
        }
        ClientCommand::Findings { server, request, json } => {
            client::findings(client::connect(&server).await?, request, json, &mut out).await?;
        }
        ClientCommand::Status { server, json } => {
            client::status(client::connect(&server).await?, json, &mut out).await?;
        }
        ClientCommand::Graph { server, since_unix_nano, json } => {
            client::graph(client::connect(&server).await?, since_unix_nano, json, &mut out).await?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Runs `aggregator classify`; the work is in [`classifier::classify_jsonl_with`].
fn classify(args: &ClassifyArgs) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, BufReader, IsTerminal};

    let mut builder = classifier::Engine::builder();
    if let Some(rules) = &args.rules {
        builder = builder.rules_file(rules)?;
    }
    let engine = builder.build()?;
    let input: Box<dyn BufRead> = match &args.input {
        Some(path) if path.as_os_str() != "-" => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
        _ => Box::new(std::io::stdin().lock()),
    };
    let output: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let terminal = std::io::stderr().is_terminal();
    let summary =
        classifier::classify_jsonl_with(input, output, &engine, args.progress_every, |event| {
            match event {
                classifier::Event::BadLine { message, .. } => {
                    if terminal {
                        eprint!("\r\x1b[K");
                    }
                    eprintln!("error: {message}");
                }
                classifier::Event::Progress { lines, summary } if terminal => {
                    eprint!(
                        "\r{lines} lines read, {} columns classified, {} bad lines",
                        summary.columns, summary.errors
                    );
                }
                classifier::Event::Progress { lines, summary } => {
                    eprintln!(
                        "progress: {lines} lines read, {} columns classified, {} bad lines",
                        summary.columns, summary.errors
                    );
                }
            }
        });
    if terminal && args.progress_every > 0 {
        eprint!("\r\x1b[K");
    }
    let summary = match summary {
        Err(classifier::Error::WriteOutput(error))
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(ExitCode::SUCCESS);
        }
        other => other?,
    };
    eprintln!(
        "classified {} columns ({} sensitive) with rules {}; {} malformed lines",
        summary.columns, summary.sensitive, summary.rules_version, summary.errors
    );
    Ok(if summary.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the report from the store file, opened read-only.
fn write_report(args: &ReportArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.section.is_none() || args.format == ReportFormat::Csv,
        "--section chooses the part of the report a CSV file holds; use it with --format csv"
    );
    let residency = match &args.residency {
        None => residency::Locator::builtin(),
        Some(path) => residency::Locator::builtin().and_then(|locator| locator.with_overrides_file(path)),
    }
    .context("invalid --residency file")?;
    let lookups = residency.refresh_hosts(&residency::SystemResolver, std::time::Instant::now());
    for failure in &lookups.failures {
        eprintln!("warning: residency host name {} did not resolve: {}", failure.name, failure.error);
    }
    let store = aggregator::store::Store::open_read_only(&args.data_dir)?;
    let report = aggregator::report::build(&store, &residency, now_unix_nano())?;
    let bytes = match args.format {
        ReportFormat::Html => aggregator::report::html::render(&report).into_bytes(),
        ReportFormat::Json => report.to_json()?,
        ReportFormat::Csv => {
            let section = args.section.map_or(aggregator::report::csv::Section::default(), CsvSectionArg::section);
            aggregator::report::csv::render(&report, section)?
        }
    };
    if args.out.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(error).context("cannot write the report to standard output");
            }
            _ => return Ok(()),
        }
    }
    // Written next to the target and renamed, so a reader never sees half a report.
    let mut temporary = args.out.clone().into_os_string();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, &bytes).with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    if report.header.nothing_observed {
        eprintln!("note: nothing was observed yet; the report says so");
    }
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

async fn bench_ingest(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.sensors > 0 && args.batches > 0 && args.batch_size > 0, "--sensors, --batches and --batch-size must be positive");
    let options = BenchOptions {
        sensors: args.sensors,
        batches: args.batches,
        batch_size: args.batch_size,
        data_dir: args.data_dir,
    };
    let report = bench::run(&options).await.context("benchmark failed")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let total = report.store_only.flows;
    println!(
        "bench-ingest: {} sensors x {} batches x {} flows = {total} flows ({:.0} wire bytes per flow)",
        report.sensors, report.batches_per_sensor, report.batch_size, report.wire_bytes_per_flow
    );
    for (name, result) in [
        ("writer only", &report.writer_only),
        ("store (no gRPC)", &report.store_only),
        ("gRPC end to end", &report.grpc),
    ] {
        println!(
            "{name:<16} {:>10.0} flows/s {:>8.1} batches/s  ({:.2} s; {:.2} CPU s, {:.0} flows per CPU s; {:.0} stored bytes per flow)",
            result.flows_per_second,
            result.batches_per_second,
            result.seconds,
            result.cpu_seconds,
            result.flows_per_cpu_second,
            result.stored_bytes_per_flow
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => {
            init_logging("info");
            serve(args).await
        }
        Command::BenchIngest(args) => {
            init_logging("warn");
            bench_ingest(args).await
        }
        Command::Classify(args) => match classify(&args) {
            Ok(code) => return code,
            Err(error) => Err(error),
        },
        Command::Report(args) => {
            init_logging("warn");
            write_report(&args)
        }
        command => {
            init_logging("warn");
            match client_command(command) {
                Err(error) => Err(error),
                Ok(command) => match run_client(command).await {
                    Ok(()) => Ok(()),
                    Err(ClientError::Output(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                        return ExitCode::SUCCESS;
                    }
                    Err(error) => Err(anyhow::Error::new(error)),
                },
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
