//! The subscriber API: `Observer.GetFlows`, `Observer.GetDataAccesses` and
//! `Observer.GetFindings` (history then live), the datastore inventory,
//! server status and the service graph.
//!
//! A follower joins the live feed before reading history, then drops live
//! records the history already covered: the history read returns the largest
//! id of its snapshot, so the switch from history to live has neither a gap
//! nor a duplicate (see [`LiveCursor`]). Flows and data accesses have their
//! own ids and their own live rings; the code that serves them is shared
//! ([`Feed`]).

pub mod access_filter;
pub mod filter;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use proto::v1::get_data_accesses_response::ResponseTypes as AccessResponseTypes;
use proto::v1::get_findings_response::ResponseTypes as FindingResponseTypes;
use proto::v1::get_flows_response::ResponseTypes;
use proto::v1::observer_server::Observer;
use proto::v1::{
    DataAccess, Finding, FindingFilter, Flow, GetDataAccessesRequest, GetFindingsRequest, GetFindingsResponse, GetDataAccessesResponse, GetFlowsRequest, GetFlowsResponse,
    GetInventoryRequest, GetInventoryResponse, GetServiceGraphRequest, GetServiceGraphResponse, LostEvent,
    LostEventSource, ServerStatusRequest, ServerStatusResponse,
};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::context::{Context, GaugeGuard};
use crate::fanout::{IdRange, LiveCursor, LiveEvent};
use crate::store::{FindingBatch, HistoryQuery, Store, StoreError, StoredAccessBatch, StoredBatch, findings};
use crate::telemetry::RejectReason;
use access_filter::AccessFilters;
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

/// The part of a request that says which records to send, common to flows
/// and data accesses.
#[derive(Clone, Copy, Debug)]
struct Window {
    number: u64,
    first: bool,
    follow: bool,
    since: u64,
    until: u64,
}

impl Window {
    fn check(self, metrics: &crate::telemetry::Metrics) -> Result<Self, Status> {
        if self.until > 0 && self.since > self.until {
            metrics.reject(RejectReason::Invalid);
            return Err(Status::invalid_argument("since_unix_nano is after until_unix_nano"));
        }
        Ok(self)
    }

    fn wants_time(&self, time: u64) -> bool {
        (self.since == 0 || time >= self.since) && (self.until == 0 || time <= self.until)
    }
}

/// What a live event means to one feed.
enum Live<B> {
    Batch(Arc<B>),
    Lost(LostEvent),
    Other,
}

/// One kind of record subscribers follow: flows or data accesses. The
/// history read, the join with the live feed and the loss accounting are the
/// same for both.
trait Feed: Send + Sync + 'static {
    type Batch: IdRange + Send + Sync + 'static;
    type Record: Send + 'static;
    type Response: Send + 'static;

    /// The record at `index` of `batch`, when the request wants it.
    fn pick(&self, batch: &Self::Batch, index: usize) -> Option<Self::Record>;
    fn record_response(record: Self::Record) -> Self::Response;
    fn lost_response(event: LostEvent) -> Self::Response;
    fn scan(
        store: &Store,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(Self::Batch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError>;
    fn live(event: LiveEvent) -> Live<Self::Batch>;
}

/// Flows a `GetFlows` request selects.
struct FlowFeed {
    window: Window,
    filters: FlowFilters,
}

impl Feed for FlowFeed {
    type Batch = StoredBatch;
    type Record = Flow;
    type Response = GetFlowsResponse;

    fn pick(&self, batch: &StoredBatch, index: usize) -> Option<Flow> {
        let flow = batch.block.flows.get(index)?;
        if self.window.wants_time(flow.time_unix_nano)
            && self.filters.matches(&batch.node_name, flow, batch.block.process(index))
        {
            batch.flow(index)
        } else {
            None
        }
    }

    fn record_response(flow: Flow) -> GetFlowsResponse {
        GetFlowsResponse { response_types: Some(ResponseTypes::Flow(flow)), time_unix_nano: now_unix_nano() }
    }

    fn lost_response(event: LostEvent) -> GetFlowsResponse {
        GetFlowsResponse { response_types: Some(ResponseTypes::LostEvents(event)), time_unix_nano: now_unix_nano() }
    }

    fn scan(
        store: &Store,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(StoredBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        store.scan_history(query, visit)
    }

    fn live(event: LiveEvent) -> Live<StoredBatch> {
        match event {
            LiveEvent::Flows(batch) => Live::Batch(batch),
            LiveEvent::Lost(event) => Live::Lost(event),
            LiveEvent::Accesses(_) | LiveEvent::Findings(_) => Live::Other,
        }
    }
}

/// Data accesses a `GetDataAccesses` request selects.
struct AccessFeed {
    window: Window,
    filters: AccessFilters,
}

impl Feed for AccessFeed {
    type Batch = StoredAccessBatch;
    type Record = DataAccess;
    type Response = GetDataAccessesResponse;

    fn pick(&self, batch: &StoredAccessBatch, index: usize) -> Option<DataAccess> {
        let access = batch.block.accesses.get(index)?;
        if self.window.wants_time(access.time_unix_nano)
            && self.filters.matches(&batch.node_name, access, batch.block.process(index))
        {
            batch.access(index)
        } else {
            None
        }
    }

    fn record_response(access: DataAccess) -> GetDataAccessesResponse {
        GetDataAccessesResponse {
            response_types: Some(AccessResponseTypes::DataAccess(access)),
            time_unix_nano: now_unix_nano(),
        }
    }

    fn lost_response(event: LostEvent) -> GetDataAccessesResponse {
        GetDataAccessesResponse {
            response_types: Some(AccessResponseTypes::LostEvents(event)),
            time_unix_nano: now_unix_nano(),
        }
    }

    fn scan(
        store: &Store,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(StoredAccessBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        store.scan_access_history(query, visit)
    }

    fn live(event: LiveEvent) -> Live<StoredAccessBatch> {
        match event {
            LiveEvent::Accesses(batch) => Live::Batch(batch),
            LiveEvent::Lost(event) => Live::Lost(event),
            LiveEvent::Flows(_) | LiveEvent::Findings(_) => Live::Other,
        }
    }
}

/// Findings a `GetFindings` request selects.
struct FindingFeed {
    window: Window,
    filter: FindingFilter,
}

impl Feed for FindingFeed {
    type Batch = FindingBatch;
    type Record = Finding;
    type Response = GetFindingsResponse;

    fn pick(&self, batch: &FindingBatch, index: usize) -> Option<Finding> {
        let finding = batch.findings.get(index)?;
        (self.window.wants_time(finding.first_seen_unix_nano) && findings::matches(&self.filter, finding))
            .then(|| finding.clone())
    }

    fn record_response(finding: Finding) -> GetFindingsResponse {
        GetFindingsResponse {
            response_types: Some(FindingResponseTypes::Finding(finding)),
            time_unix_nano: now_unix_nano(),
        }
    }

    fn lost_response(event: LostEvent) -> GetFindingsResponse {
        GetFindingsResponse {
            response_types: Some(FindingResponseTypes::LostEvents(event)),
            time_unix_nano: now_unix_nano(),
        }
    }

    fn scan(
        store: &Store,
        query: Option<&HistoryQuery>,
        visit: &mut dyn FnMut(FindingBatch) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        store.scan_findings(query, visit)
    }

    fn live(event: LiveEvent) -> Live<FindingBatch> {
        match event {
            LiveEvent::Findings(batch) => Live::Batch(batch),
            LiveEvent::Flows(_) | LiveEvent::Accesses(_) | LiveEvent::Lost(_) => Live::Other,
        }
    }
}

type Responses<R> = mpsc::Sender<Result<R, Status>>;

/// Sends the recorded records the request asks for; returns the largest id
/// of the snapshot read, which the live part continues from.
/// Sends the history the window asks for; returns the newest id it covered,
/// or `None` when no history was asked for (the live feed then starts at its
/// first batch: see [`LiveCursor::at_first_batch`]).
fn send_history<F: Feed>(store: &Store, feed: &F, window: Window, sender: &Responses<F::Response>) -> Result<Option<u64>, StoreError> {
    let wants_history = window.number > 0 || window.since > 0 || window.until > 0;
    if !wants_history {
        return Ok(None);
    }
    let newest_first = window.number > 0 && !window.first;
    let query = HistoryQuery { since_unix_nano: window.since, until_unix_nano: window.until, newest_first };
    if newest_first {
        // The last N: collect newest first, send oldest first.
        let mut picked: Vec<F::Record> = Vec::new();
        let max_id = F::scan(store, Some(&query), &mut |batch| {
            for index in (0..batch.len()).rev() {
                if let Some(record) = feed.pick(&batch, index) {
                    picked.push(record);
                    if picked.len() as u64 >= window.number {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        })?;
        for record in picked.into_iter().rev() {
            if sender.blocking_send(Ok(F::record_response(record))).is_err() {
                break;
            }
        }
        return Ok(Some(max_id));
    }
    let mut sent = 0_u64;
    F::scan(store, Some(&query), &mut |batch| {
        for index in 0..batch.len() {
            if let Some(record) = feed.pick(&batch, index) {
                if sender.blocking_send(Ok(F::record_response(record))).is_err() {
                    return ControlFlow::Break(());
                }
                sent += 1;
                if window.number > 0 && sent >= window.number {
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    })
    .map(Some)
}

/// Sends live records after `last_id` until the subscriber leaves or the
/// aggregator shuts down.
async fn follow_live<F: Feed>(
    context: &Context,
    feed: &F,
    mut live: broadcast::Receiver<LiveEvent>,
    last_id: Option<u64>,
    sender: &Responses<F::Response>,
) {
    let mut cursor = last_id.map_or_else(LiveCursor::at_first_batch, LiveCursor::after);
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
        match event.map(F::live) {
            Ok(Live::Batch(batch)) => {
                let admission = cursor.admit(batch.as_ref());
                if admission.lost > 0 {
                    context.metrics.add_lost(LostEventSource::SubscriberQueue, admission.lost);
                    tracing::debug!(lost = admission.lost, "subscriber fell behind");
                    let event = LostEvent {
                        source: LostEventSource::SubscriberQueue as i32,
                        num_events_lost: admission.lost,
                        node_name: String::new(),
                    };
                    if sender.send(Ok(F::lost_response(event))).await.is_err() {
                        return;
                    }
                }
                for index in admission.start..batch.len() {
                    if let Some(record) = feed.pick(&batch, index)
                        && sender.send(Ok(F::record_response(record))).await.is_err()
                    {
                        return;
                    }
                }
            }
            Ok(Live::Lost(event)) => {
                if sender.send(Ok(F::lost_response(event))).await.is_err() {
                    return;
                }
            }
            Ok(Live::Other) => {}
            // The skipped batches show as a gap in the next batch's ids,
            // once the cursor has a place; before that, only their number
            // is known, and each held at least one record.
            Err(broadcast::error::RecvError::Lagged(skipped)) => {
                if !cursor.started() {
                    context.metrics.add_lost(LostEventSource::SubscriberQueue, skipped);
                    let event =
                        LostEvent { source: LostEventSource::SubscriberQueue as i32, num_events_lost: skipped, node_name: String::new() };
                    if sender.send(Ok(F::lost_response(event))).await.is_err() {
                        return;
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Starts the task that answers one subscription: history, then live
/// records when `live` is given.
fn stream<F: Feed>(
    context: &Context,
    feed: F,
    window: Window,
    live: Option<broadcast::Receiver<LiveEvent>>,
) -> ReceiverStream<Result<F::Response, Status>> {
    let (sender, receiver) = mpsc::channel(RESPONSE_QUEUE);
    let context = context.clone();
    tokio::spawn(async move {
        let _subscriber = GaugeGuard::new(&context.metrics.subscribers);
        let feed = Arc::new(feed);
        let history = {
            let (context, feed, sender) = (context.clone(), Arc::clone(&feed), sender.clone());
            tokio::task::spawn_blocking(move || send_history(&context.store, feed.as_ref(), window, &sender)).await
        };
        let last_id = match history {
            Ok(Ok(last_id)) => last_id,
            Ok(Err(error)) => {
                tracing::error!(%error, "reading history failed");
                let _ = sender.send(Err(Status::internal(error.to_string()))).await;
                return;
            }
            Err(error) => {
                tracing::error!(%error, "history task failed");
                let _ = sender.send(Err(Status::internal("reading history failed"))).await;
                return;
            }
        };
        if let Some(live) = live {
            follow_live(&context, feed.as_ref(), live, last_id, &sender).await;
        }
    });
    ReceiverStream::new(receiver)
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
        let window = Window {
            number: request.number,
            first: request.first,
            follow: request.follow,
            since: request.since_unix_nano,
            until: request.until_unix_nano,
        }
        .check(metrics)?;
        // Subscribe before reading history, so nothing committed in between is missed.
        let live = window.follow.then(|| self.context.fanout.subscribe());
        Ok(Response::new(stream(&self.context, FlowFeed { window, filters }, window, live)))
    }

    type GetDataAccessesStream = ReceiverStream<Result<GetDataAccessesResponse, Status>>;

    async fn get_data_accesses(
        &self,
        request: Request<GetDataAccessesRequest>,
    ) -> Result<Response<Self::GetDataAccessesStream>, Status> {
        let request = request.into_inner();
        let metrics = &self.context.metrics;
        let filters = AccessFilters::compile(&request.allow, &request.deny);
        let window = Window {
            number: request.number,
            first: request.first,
            follow: request.follow,
            since: request.since_unix_nano,
            until: request.until_unix_nano,
        }
        .check(metrics)?;
        let live = window.follow.then(|| self.context.fanout.subscribe_accesses());
        Ok(Response::new(stream(&self.context, AccessFeed { window, filters }, window, live)))
    }

    type GetFindingsStream = ReceiverStream<Result<GetFindingsResponse, Status>>;

    async fn get_findings(
        &self,
        request: Request<GetFindingsRequest>,
    ) -> Result<Response<Self::GetFindingsStream>, Status> {
        let request = request.into_inner();
        let metrics = &self.context.metrics;
        // Findings are few next to flows: zero means all of them, oldest first.
        let (number, first) = if request.number == 0 { (u64::MAX, true) } else { (request.number, request.first) };
        let window = Window {
            number,
            first,
            follow: request.follow,
            since: request.since_unix_nano,
            until: request.until_unix_nano,
        }
        .check(metrics)?;
        let filter = request.filter.unwrap_or_default();
        let live = window.follow.then(|| self.context.fanout.subscribe_findings());
        Ok(Response::new(stream(&self.context, FindingFeed { window, filter }, window, live)))
    }

    async fn get_inventory(
        &self,
        request: Request<GetInventoryRequest>,
    ) -> Result<Response<GetInventoryResponse>, Status> {
        let request = request.into_inner();
        let context = self.context.clone();
        let datastores = tokio::task::spawn_blocking(move || context.store.inventory(&request))
            .await
            .map_err(|error| Status::internal(error.to_string()))?
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(Response::new(GetInventoryResponse { datastores }))
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
            num_accesses: self.context.stored_accesses.load(Ordering::Acquire),
            seen_accesses: metrics.ingested_accesses.load(Ordering::Relaxed),
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
