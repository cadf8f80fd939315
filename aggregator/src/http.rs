//! The HTTP side listener: `/metrics` (Prometheus text), `/healthz` and
//! `/readyz`.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::context::Context;

/// The routes of the HTTP listener.
pub fn router(context: Context) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(context)
}

async fn metrics(State(context): State<Context>) -> impl IntoResponse {
    let mut text = context.metrics.render_prometheus(
        context.stored_flows.load(Ordering::Acquire),
        context.stored_accesses.load(Ordering::Acquire),
        context.sensors.count() as u64,
    );
    context.peers.render_prometheus(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

/// Alive as long as the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready while the store is open and the gRPC listener accepts; not ready
/// during shutdown, so load balancers stop sending sensors here.
async fn readyz(State(context): State<Context>) -> (StatusCode, &'static str) {
    if context.ready.load(Ordering::Acquire) && !*context.shutdown.borrow() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}
