//! The subscriber API: `Observer.GetFlows` (history then live), server status
//! and the service graph.
//!
//! A follower joins the live feed before reading history, then drops live
//! flows the history already covered: the history read returns the largest
//! id of its snapshot, so the switch from history to live has neither a gap
//! nor a duplicate (see [`LiveCursor`]).

pub mod filter;

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::observer_server::Observer;
use proto::v1::{
    Flow, GetFlowsRequest, GetFlowsResponse, GetServiceGraphRequest, GetServiceGraphResponse, LostEvent,
    LostEventSource, ServerStatusRequest, ServerStatusResponse,
};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::context::{Context, GaugeGuard};
use crate::fanout::{LiveCursor, LiveEvent};
use crate::store::{HistoryQuery, StoredBatch};
use crate::telemetry::RejectReason;
use filter::FlowFilters;

/// Responses buffered per subscriber between the stream task and gRPC.
const RESPONSE_QUEUE: usize = 1024;

/// The `Observer` gRPC service.
pub struct ObserverService {
    context: Context,
}

impl ObserverService {
    /// A service answering from `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn flow_response(flow: Flow) -> GetFlowsResponse {
    GetFlowsResponse { response_types: Some(ResponseTypes::Flow(flow)), time_unix_nano: now_unix_nano() }
}

fn lost_response(event: LostEvent) -> GetFlowsResponse {
    GetFlowsResponse { response_types: Some(ResponseTypes::LostEvents(event)), time_unix_nano: now_unix_nano() }
}

/// What a request asks for, checked.
#[derive(Clone, Debug)]
struct Selection {
    filters: FlowFilters,
    since: u64,
    until: u64,
}

impl Selection {
    fn wants(&self, batch: &StoredBatch, index: usize) -> bool {
        let Some(flow) = batch.block.flows.get(index) else {
            return false;
        };
        let time = flow.time_unix_nano;
        (self.since == 0 || time >= self.since)
            && (self.until == 0 || time <= self.until)
            && self.filters.matches(&batch.node_name, flow, batch.block.process(index))
    }
}

/// Sends the recorded flows the request asks for; returns the largest flow
/// id of the snapshot read, which the live part continues from.
fn send_history(
    context: &Context,
    request: &GetFlowsRequest,
    selection: &Selection,
    sender: &mpsc::Sender<Result<GetFlowsResponse, Status>>,
) -> Result<u64, crate::store::StoreError> {
    let wants_history = request.number > 0 || request.since_unix_nano > 0 || request.until_unix_nano > 0;
    if !wants_history {
        return context.store.scan_history(None, &mut |_| ControlFlow::Break(()));
    }
    let newest_first = request.number > 0 && !request.first;
    let query = HistoryQuery {
        since_unix_nano: request.since_unix_nano,
        until_unix_nano: request.until_unix_nano,
        newest_first,
    };
    if newest_first {
        // The last N: collect newest first, send oldest first.
        let mut picked: Vec<Flow> = Vec::new();
        let max_id = context.store.scan_history(Some(&query), &mut |batch| {
            for index in (0..batch.len()).rev() {
                if selection.wants(&batch, index)
                    && let Some(flow) = batch.flow(index)
                {
                    picked.push(flow);
                    if picked.len() as u64 >= request.number {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        })?;
        for flow in picked.into_iter().rev() {
            if sender.blocking_send(Ok(flow_response(flow))).is_err() {
                break;
            }
        }
        return Ok(max_id);
    }
    let mut sent = 0_u64;
    context.store.scan_history(Some(&query), &mut |batch| {
        for index in 0..batch.len() {
            if selection.wants(&batch, index)
                && let Some(flow) = batch.flow(index)
            {
                if sender.blocking_send(Ok(flow_response(flow))).is_err() {
                    return ControlFlow::Break(());
                }
                sent += 1;
                if request.number > 0 && sent >= request.number {
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    })
}

/// Sends live flows after `last_id` until the subscriber leaves or the
/// aggregator shuts down.
async fn follow_live(
    context: &Context,
    selection: &Selection,
    mut live: broadcast::Receiver<LiveEvent>,
    last_id: u64,
    sender: &mpsc::Sender<Result<GetFlowsResponse, Status>>,
) {
    let mut cursor = LiveCursor::after(last_id);
    let mut shutdown = context.shutdown.clone();
    if *shutdown.borrow_and_update() {
        let _ = sender.send(Err(Status::unavailable("aggregator is shutting down"))).await;
        return;
    }
    loop {
        let event = tokio::select! {
            () = sender.closed() => return,
            _ = shutdown.changed() => {
                let _ = sender.send(Err(Status::unavailable("aggregator is shutting down"))).await;
                return;
            }
            event = live.recv() => event,
        };
        match event {
            Ok(LiveEvent::Flows(batch)) => {
                let admission = cursor.admit(&batch);
                if admission.lost > 0 {
                    context.metrics.add_lost(LostEventSource::SubscriberQueue, admission.lost);
                    tracing::debug!(lost = admission.lost, "subscriber fell behind");
                    let event = LostEvent {
                        source: LostEventSource::SubscriberQueue as i32,
                        num_events_lost: admission.lost,
                        node_name: String::new(),
                    };
                    if sender.send(Ok(lost_response(event))).await.is_err() {
                        return;
                    }
                }
                for index in admission.start..batch.len() {
                    if selection.wants(&batch, index)
                        && let Some(flow) = batch.flow(index)
                        && sender.send(Ok(flow_response(flow))).await.is_err()
                    {
                        return;
                    }
                }
            }
            Ok(LiveEvent::Lost(event)) => {
                if sender.send(Ok(lost_response(event))).await.is_err() {
                    return;
                }
            }
            // The skipped batches show as a gap in the next batch's ids.
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[tonic::async_trait]
impl Observer for ObserverService {
    type GetFlowsStream = ReceiverStream<Result<GetFlowsResponse, Status>>;

    async fn get_flows(&self, request: Request<GetFlowsRequest>) -> Result<Response<Self::GetFlowsStream>, Status> {
        let request = request.into_inner();
        let metrics = &self.context.metrics;
        let filters = FlowFilters::compile(&request.allow, &request.deny).map_err(|error| {
            metrics.reject(RejectReason::Invalid);
            Status::invalid_argument(error.to_string())
        })?;
        if request.until_unix_nano > 0 && request.since_unix_nano > request.until_unix_nano {
            metrics.reject(RejectReason::Invalid);
            return Err(Status::invalid_argument("since_unix_nano is after until_unix_nano"));
        }
        let selection = Selection { filters, since: request.since_unix_nano, until: request.until_unix_nano };
        let (sender, receiver) = mpsc::channel(RESPONSE_QUEUE);
        // Subscribe before reading history, so nothing committed in between is missed.
        let live = request.follow.then(|| self.context.fanout.subscribe());
        let context = self.context.clone();
        tokio::spawn(async move {
            let _subscriber = GaugeGuard::new(&context.metrics.subscribers);
            let history = {
                let (context, selection, sender) = (context.clone(), selection.clone(), sender.clone());
                tokio::task::spawn_blocking(move || send_history(&context, &request, &selection, &sender)).await
            };
            let last_id = match history {
                Ok(Ok(last_id)) => last_id,
                Ok(Err(error)) => {
                    tracing::error!(%error, "reading flow history failed");
                    let _ = sender.send(Err(Status::internal(error.to_string()))).await;
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "flow history task failed");
                    let _ = sender.send(Err(Status::internal("reading flow history failed"))).await;
                    return;
                }
            };
            if let Some(live) = live {
                follow_live(&context, &selection, live, last_id, &sender).await;
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn server_status(
        &self,
        _request: Request<ServerStatusRequest>,
    ) -> Result<Response<ServerStatusResponse>, Status> {
        let context = self.context.clone();
        let mut sensors = tokio::task::spawn_blocking(move || context.store.sensors())
            .await
            .map_err(|error| Status::internal(error.to_string()))?
            .map_err(|error| Status::internal(error.to_string()))?;
        for sensor in &mut sensors {
            sensor.connected = self.context.sensors.is_connected(&sensor.session_id);
        }
        let metrics = &self.context.metrics;
        Ok(Response::new(ServerStatusResponse {
            num_flows: self.context.stored_flows.load(Ordering::Acquire),
            seen_flows: metrics.ingested_flows.load(Ordering::Relaxed),
            flows_rate: metrics.flows_rate(),
            connected_sensors: u32::try_from(self.context.sensors.count()).unwrap_or(u32::MAX),
            sensors,
            uptime_ns: u64::try_from(metrics.uptime().as_nanos()).unwrap_or(u64::MAX),
            subscribers: u32::try_from(metrics.subscribers.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
            lost_events: metrics.lost_total(),
            rejected_batches: metrics.rejected_total(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn get_service_graph(
        &self,
        request: Request<GetServiceGraphRequest>,
    ) -> Result<Response<GetServiceGraphResponse>, Status> {
        let since = request.into_inner().since_unix_nano;
        let context = self.context.clone();
        let edges = tokio::task::spawn_blocking(move || context.store.service_graph(since))
            .await
            .map_err(|error| Status::internal(error.to_string()))?
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(Response::new(GetServiceGraphResponse { edges }))
    }
}
