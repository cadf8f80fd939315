//! `/metrics` (Prometheus), `/healthz` and `/readyz` for operators and
//! Kubernetes probes.

use std::{net::SocketAddr, sync::Arc, sync::atomic::Ordering::Relaxed};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use tokio::sync::watch;

use crate::stats::Stats;

pub async fn serve(
    listener: tokio::net::TcpListener,
    stats: Arc<Stats>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(stats);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

async fn metrics(State(stats): State<Arc<Stats>>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        stats.render_prometheus(),
    )
}

async fn ready(State(stats): State<Arc<Stats>>) -> (StatusCode, &'static str) {
    if stats.ready.load(Relaxed) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "kernel programs not attached yet\n")
    }
}

/// Binds the HTTP listener, with an error that names the address.
pub async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {address} for HTTP: {error}"))
}
