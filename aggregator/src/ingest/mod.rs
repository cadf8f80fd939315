//! The sensor-facing `Ingest.Stream`: batches of flows and data accesses in,
//! acknowledgements out.
//!
//! Each stream is served by two tasks: one reads and checks batches and
//! queues them for the store writer, the other waits for the commits in order
//! and sends the acknowledgements. A sensor can therefore keep several batches
//! in flight, and a batch is acknowledged only once it is stored.

use proto::v1::ingest_server::Ingest;
use proto::v1::{BatchAck, SensorBatch};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::context::{ConnectedGuard, Context, GaugeGuard};
use crate::store::writer::{PendingWrite, StoreWriter};
use crate::telemetry::RejectReason;

#[cfg(test)]
mod tests;

/// Bounds a batch must respect.
#[derive(Clone, Copy, Debug)]
pub struct IngestLimits {
    /// Most flows in one batch.
    pub max_batch_flows: usize,
    /// Most data accesses in one batch.
    pub max_batch_accesses: usize,
    /// Batches of one stream waiting for their commit.
    pub max_in_flight: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self { max_batch_flows: 200_000, max_batch_accesses: 200_000, max_in_flight: 32 }
    }
}

/// Longest accepted session id.
const MAX_SESSION_ID_BYTES: usize = 256;
/// Longest accepted node name (a DNS name).
const MAX_NODE_NAME_BYTES: usize = 253;

/// Why a batch was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidBatch {
    /// No session id.
    #[error("batch has an empty session_id")]
    EmptySession,
    /// Session id too long.
    #[error("batch session_id is {length} bytes long, more than {MAX_SESSION_ID_BYTES}")]
    SessionTooLong {
        /// Its length.
        length: usize,
    },
    /// Sequence numbers start at 1.
    #[error("batch sequence is 0; sequences start at 1")]
    ZeroSequence,
    /// No node or no node name.
    #[error("batch has no node name")]
    MissingNode,
    /// Node name too long.
    #[error("batch node name is {length} bytes long, more than {MAX_NODE_NAME_BYTES}")]
    NodeNameTooLong {
        /// Its length.
        length: usize,
    },
    /// Too many flows.
    #[error("batch has {flows} flows, more than the {max} allowed per batch")]
    TooManyFlows {
        /// Flows in the batch.
        flows: usize,
        /// The limit.
        max: usize,
    },
    /// Too many data accesses.
    #[error("batch has {accesses} data accesses, more than the {max} allowed per batch")]
    TooManyAccesses {
        /// Accesses in the batch.
        accesses: usize,
        /// The limit.
        max: usize,
    },
}

/// Checks a batch before it is queued for the store.
pub fn validate(batch: &SensorBatch, limits: &IngestLimits) -> Result<(), InvalidBatch> {
    if batch.session_id.is_empty() {
        return Err(InvalidBatch::EmptySession);
    }
    if batch.session_id.len() > MAX_SESSION_ID_BYTES {
        return Err(InvalidBatch::SessionTooLong { length: batch.session_id.len() });
    }
    if batch.sequence == 0 {
        return Err(InvalidBatch::ZeroSequence);
    }
    let node_name = batch.node.as_ref().map(|node| node.name.as_str()).unwrap_or_default();
    if node_name.is_empty() {
        return Err(InvalidBatch::MissingNode);
    }
    if node_name.len() > MAX_NODE_NAME_BYTES {
        return Err(InvalidBatch::NodeNameTooLong { length: node_name.len() });
    }
    if batch.flows.len() > limits.max_batch_flows {
        return Err(InvalidBatch::TooManyFlows { flows: batch.flows.len(), max: limits.max_batch_flows });
    }
    if batch.accesses.len() > limits.max_batch_accesses {
        return Err(InvalidBatch::TooManyAccesses {
            accesses: batch.accesses.len(),
            max: limits.max_batch_accesses,
        });
    }
    Ok(())
}

/// Turns an error from reading the request stream into the status to answer
/// with, and the rejection to count; `None` when the sensor went away.
pub(crate) fn classify_stream_error(status: &Status) -> Option<(RejectReason, Status)> {
    match status.code() {
        // tonic reports a message over the decoding limit as OutOfRange.
        Code::OutOfRange | Code::ResourceExhausted => Some((
            RejectReason::TooLarge,
            Status::resource_exhausted(format!(
                "sensor batch too large: {}; raise --max-message-bytes or send smaller batches",
                status.message()
            )),
        )),
        Code::Internal if status.message().contains("decode") => Some((
            RejectReason::Undecodable,
            Status::invalid_argument(format!("message is not a valid SensorBatch: {}", status.message())),
        )),
        _ => None,
    }
}

enum Pending {
    Stored { sequence: u64, write: PendingWrite },
    Refused(Status),
}

/// The `Ingest` gRPC service.
pub struct IngestService {
    context: Context,
    writer: StoreWriter,
    limits: IngestLimits,
}

impl IngestService {
    /// A service storing through `writer`.
    pub fn new(context: Context, writer: StoreWriter, limits: IngestLimits) -> Self {
        Self { context, writer, limits }
    }
}

async fn read_batches(
    context: Context,
    writer: StoreWriter,
    limits: IngestLimits,
    mut inbound: Streaming<SensorBatch>,
    pending: mpsc::Sender<Pending>,
) {
    let _stream = GaugeGuard::new(&context.metrics.ingest_streams);
    let mut connected: Option<ConnectedGuard> = None;
    let mut shutdown = context.shutdown.clone();
    loop {
        if *shutdown.borrow_and_update() {
            let _ = pending.send(Pending::Refused(Status::unavailable("aggregator is shutting down"))).await;
            return;
        }
        let next = tokio::select! {
            _ = shutdown.changed() => continue,
            next = inbound.message() => next,
        };
        let mut batch = match next {
            Ok(Some(batch)) => batch,
            Ok(None) => return,
            Err(status) => {
                if let Some((reason, answer)) = classify_stream_error(&status) {
                    context.metrics.reject(reason);
                    tracing::warn!(error = %status.message(), code = ?status.code(), "refused sensor message");
                    let _ = pending.send(Pending::Refused(answer)).await;
                } else {
                    tracing::debug!(error = %status, "ingest stream ended");
                }
                return;
            }
        };
        if let Err(invalid) = validate(&batch, &limits) {
            context.metrics.reject(RejectReason::Invalid);
            tracing::warn!(
                error = %invalid,
                session = %batch.session_id,
                sequence = batch.sequence,
                "refused invalid sensor batch"
            );
            let _ = pending.send(Pending::Refused(Status::invalid_argument(invalid.to_string()))).await;
            return;
        }
        if connected.as_ref().is_none_or(|guard| guard.session_id() != batch.session_id) {
            tracing::info!(
                session = %batch.session_id,
                node = batch.node.as_ref().map(|node| node.name.as_str()).unwrap_or_default(),
                "sensor connected"
            );
            connected = Some(context.sensors.connect(&batch.session_id));
        }
        context.peers.annotate(&mut batch);
        let sequence = batch.sequence;
        let item = match writer.submit(batch).await {
            Ok(write) => Pending::Stored { sequence, write },
            Err(error) => Pending::Refused(Status::unavailable(error.to_string())),
        };
        let stop = matches!(item, Pending::Refused(_));
        if pending.send(item).await.is_err() || stop {
            return;
        }
    }
}

async fn send_acks(mut pending: mpsc::Receiver<Pending>, acks: mpsc::Sender<Result<BatchAck, Status>>) {
    while let Some(item) = pending.recv().await {
        let answer = match item {
            Pending::Stored { sequence, write } => match write.await {
                Ok(Ok(_)) => Ok(BatchAck { sequence }),
                Ok(Err(error)) => Err(Status::unavailable(format!("batch {sequence} was not stored: {error}"))),
                Err(_) => Err(Status::unavailable(format!("batch {sequence} was not stored: the store stopped"))),
            },
            Pending::Refused(status) => Err(status),
        };
        let failed = answer.is_err();
        if acks.send(answer).await.is_err() || failed {
            return;
        }
    }
}

#[tonic::async_trait]
impl Ingest for IngestService {
    type StreamStream = ReceiverStream<Result<BatchAck, Status>>;

    async fn stream(&self, request: Request<Streaming<SensorBatch>>) -> Result<Response<Self::StreamStream>, Status> {
        let remote = request.remote_addr();
        tracing::debug!(?remote, "ingest stream opened");
        let (pending_sender, pending_receiver) = mpsc::channel(self.limits.max_in_flight.max(1));
        let (ack_sender, ack_receiver) = mpsc::channel(self.limits.max_in_flight.max(1));
        tokio::spawn(read_batches(
            self.context.clone(),
            self.writer.clone(),
            self.limits,
            request.into_inner(),
            pending_sender,
        ));
        tokio::spawn(send_acks(pending_receiver, ack_sender));
        Ok(Response::new(ReceiverStream::new(ack_receiver)))
    }
}
