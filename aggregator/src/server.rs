//! Starts and stops the aggregator: store, writer thread, gRPC and HTTP
//! listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use proto::v1::ingest_server::IngestServer;
use proto::v1::observer_server::ObserverServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;

use crate::context::{ConnectedSensors, Context};
use crate::detect::{Knowledge, KnowledgeError, host_names};
use crate::fanout::Fanout;
use crate::ingest::{IngestLimits, IngestService};
use crate::observer::ObserverService;
use crate::peers::{KubernetesApi, PeerNames, PeersError};
use crate::store::writer::{self, WriterThread};
use crate::store::{Store, StoreError, Synchronous};
use crate::telemetry::Metrics;

/// Default gRPC address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default HTTP address.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:9091";
/// Default largest gRPC message accepted: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;

/// How long shutdown waits for open streams to end before closing anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// gRPC address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// HTTP address for metrics and health; `None` disables it.
    pub http_listen: Option<SocketAddr>,
    /// Directory of the store.
    pub data_dir: PathBuf,
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Batch limits.
    pub ingest: IngestLimits,
    /// Batches each subscriber may fall behind the live feed before it loses
    /// flows or data accesses.
    pub subscriber_queue_batches: usize,
    /// Batches waiting for the writer before ingest streams wait.
    pub writer_queue_batches: usize,
    /// Commit durability.
    pub synchronous: Synchronous,
    /// Where to watch pods and Services to name the workloads behind remote
    /// addresses.
    pub kubernetes: KubernetesApi,
    /// User classifier rules and labels, added to the defaults.
    pub rules_file: Option<PathBuf>,
    /// User residency overrides (regions, address ranges, host names).
    pub residency_file: Option<PathBuf>,
    /// How often the residency file's host names are looked up again.
    pub residency_refresh: Duration,
    /// Looks the residency file's host names up (the system's resolver by
    /// default).
    pub host_resolver: Arc<dyn residency::Resolver>,
}

impl ServerConfig {
    /// Defaults with the given addresses and data directory.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            http_listen: None,
            data_dir,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            ingest: IngestLimits::default(),
            subscriber_queue_batches: 256,
            writer_queue_batches: 1024,
            synchronous: Synchronous::Normal,
            kubernetes: KubernetesApi::Off,
            rules_file: None,
            residency_file: None,
            residency_refresh: host_names::DEFAULT_REFRESH_INTERVAL,
            host_resolver: Arc::new(residency::SystemResolver),
        }
    }
}

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A listener could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("grpc server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    /// The HTTP server failed.
    #[error("http server failed: {0}")]
    Http(#[source] std::io::Error),
    /// The Kubernetes API settings are not usable.
    #[error(transparent)]
    Peers(#[from] PeersError),
    /// The classifier rules or the residency configuration are invalid.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// Reflection could not load the API descriptors.
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// A started aggregator.
pub struct RunningServer {
    grpc_address: SocketAddr,
    http_address: Option<SocketAddr>,
    context: Context,
    shutdown: watch::Sender<bool>,
    grpc: JoinHandle<Result<(), tonic::transport::Error>>,
    http: Option<JoinHandle<std::io::Result<()>>>,
    writer: WriterThread,
}

impl RunningServer {
    /// The address the gRPC listener is bound to.
    pub fn grpc_address(&self) -> SocketAddr {
        self.grpc_address
    }

    /// The address the HTTP listener is bound to, if enabled.
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http_address
    }

    /// State shared with the handlers (counters, store), for tests and tools.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Stops accepting, ends open streams, waits for pending commits and
    /// closes the store.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        tracing::info!("shutting down");
        self.context.ready.store(false, Ordering::Release);
        let _ = self.shutdown.send(true);
        let mut grpc_task = self.grpc;
        let grpc = match tokio::time::timeout(SHUTDOWN_GRACE, &mut grpc_task).await {
            Ok(result) => Some(result),
            Err(_) => {
                tracing::warn!("grpc streams did not end in time; closing them");
                grpc_task.abort();
                None
            }
        };
        let http = match self.http {
            Some(http) => tokio::time::timeout(SHUTDOWN_GRACE, http).await.ok(),
            None => None,
        };
        // Every writer handle lived in the gRPC service and its stream tasks;
        // once they are gone the writer drains its queue and closes the file.
        let writer = self.writer;
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        tracing::info!("store closed");
        if let Some(Ok(Err(error))) = grpc {
            return Err(error.into());
        }
        if let Some(Ok(Err(error))) = http {
            return Err(ServerError::Http(error));
        }
        Ok(())
    }
}

/// Opens the store and starts serving. Returns once the listeners are bound.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    // Configuration errors are reported before anything is opened or bound.
    let knowledge = Knowledge::load(config.rules_file.as_deref(), config.residency_file.as_deref())?;
    tracing::info!(
        rules_version = knowledge.engine.rules_version(),
        residency_version = knowledge.locator.data_version(),
        residency_as_of = knowledge.locator.as_of(),
        "classifier rules and residency table loaded"
    );
    let (store, write_connection) = {
        let data_dir = config.data_dir.clone();
        let synchronous = config.synchronous;
        tokio::task::spawn_blocking(move || Store::open(&data_dir, synchronous))
            .await
            .map_err(|error| StoreError::Transaction(format!("opening the store panicked: {error}")))??
    };
    tracing::info!(
        path = %store.path().display(),
        next_flow_id = write_connection.next_flow_id,
        next_access_id = write_connection.next_access_id,
        "store opened"
    );
    let peers = Arc::new(PeerNames::start(&config.kubernetes).await?);
    let locator = Arc::new(knowledge.locator.clone());
    let metrics = Arc::new(Metrics::new());
    let fanout = Arc::new(Fanout::new(config.subscriber_queue_batches));
    let (store_writer, writer_thread) =
        writer::spawn(
        write_connection,
        Arc::clone(&fanout),
        Arc::clone(&metrics),
        config.writer_queue_batches,
        knowledge,
    )?;
    let (shutdown, shutdown_receiver) = watch::channel(false);
    // Before the listeners: the first batches are placed by the answers.
    // The task ends at shutdown.
    let _host_names = host_names::start(
        (*locator).clone(),
        Arc::clone(&config.host_resolver),
        config.residency_refresh,
        Arc::clone(&metrics),
        shutdown_receiver.clone(),
    )
    .await;
    let context = Context {
        store: Arc::new(store),
        fanout,
        metrics,
        stored_flows: store_writer.stored_flows_handle(),
        stored_accesses: store_writer.stored_accesses_handle(),
        peers,
        sensors: Arc::new(ConnectedSensors::default()),
        shutdown: shutdown_receiver,
        ready: Arc::new(AtomicBool::new(false)),
        locator,
    };

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { address: config.listen, source })?;
    let grpc_address = listener.local_addr().map_err(|source| ServerError::Bind { address: config.listen, source })?;
    let http_listener = match config.http_listen {
        Some(address) => {
            let listener =
                TcpListener::bind(address).await.map_err(|source| ServerError::Bind { address, source })?;
            Some(listener)
        }
        None => None,
    };
    let http_address = match &http_listener {
        Some(listener) => Some(
            listener
                .local_addr()
                .map_err(|source| ServerError::Bind { address: grpc_address, source })?,
        ),
        None => None,
    };

    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let ingest = IngestServer::new(IngestService::new(context.clone(), store_writer, config.ingest))
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes);
    let observer = ObserverServer::new(ObserverService::new(context.clone()))
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes);
    let grpc_shutdown = wait_for_shutdown(context.shutdown.clone());
    let grpc = tokio::spawn(
        tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            // Sensor batches are often megabytes: larger receive windows let
            // a sensor send a whole batch without waiting for window updates.
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(8 << 20))
            .add_service(ingest)
            .add_service(observer)
            .add_service(reflection)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), grpc_shutdown),
    );
    let http = http_listener.map(|listener| {
        let router = crate::http::router(context.clone());
        let http_shutdown = wait_for_shutdown(context.shutdown.clone());
        tokio::spawn(async move { axum::serve(listener, router).with_graceful_shutdown(http_shutdown).await })
    });
    context.ready.store(true, Ordering::Release);
    tracing::info!(grpc = %grpc_address, http = ?http_address, "aggregator listening");
    Ok(RunningServer { grpc_address, http_address, context, shutdown, grpc, http, writer: writer_thread })
}

async fn wait_for_shutdown(mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone, which is a shutdown too.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}
