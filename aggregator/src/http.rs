//! The HTTP side listener: `/metrics` (Prometheus text), `/healthz`,
//! `/readyz`, and the data-residency report: `/report` (HTML),
//! `/report.json` and `/report.csv` (`?section=transfers|columns|datastores|workloads|changes`).

use std::sync::atomic::Ordering;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::context::Context;
use crate::report::{self, Report, ReportError, csv::Section};

/// The routes of the HTTP listener.
pub fn router(context: Context) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/report", get(report_html))
        .route("/report.html", get(report_html))
        .route("/report.json", get(report_json))
        .route("/report.csv", get(report_csv))
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

/// The page may only style itself: no script, no external resource.
const REPORT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// Builds the report from the store on a blocking thread (it reads the
/// whole store) and renders it with `render`.
async fn render_report<T: Send + 'static>(
    context: Context,
    render: impl FnOnce(&Report) -> Result<T, ReportError> + Send + 'static,
) -> Result<T, (StatusCode, String)> {
    let built = tokio::task::spawn_blocking(move || {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        report::build(&context.store, &context.locator, now).and_then(|report| render(&report))
    })
    .await;
    match built {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => {
            tracing::warn!(%error, "report failed");
            Err((StatusCode::INTERNAL_SERVER_ERROR, format!("report failed: {error}\n")))
        }
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("report failed: {error}\n"))),
    }
}

async fn report_html(State(context): State<Context>) -> impl IntoResponse {
    render_report(context, |report| Ok(report::html::render(report))).await.map(|body| {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, REPORT_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
    })
}

async fn report_json(State(context): State<Context>) -> impl IntoResponse {
    render_report(context, Report::to_json)
        .await
        .map(|body| ([(header::CONTENT_TYPE, "application/json"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], body))
}

/// The value of `name` in a query string (section names need no decoding).
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name).map(|(_, value)| value))
}

async fn report_csv(State(context): State<Context>, RawQuery(query): RawQuery) -> axum::response::Response {
    let section = match query.as_deref().and_then(|query| query_value(query, "section")) {
        None => Section::default(),
        Some(name) => match Section::from_name(name) {
            Some(section) => section,
            None => {
                let known: Vec<&str> = Section::ALL.iter().map(|(name, _)| *name).collect();
                let message = format!("unknown section; use one of: {}\n", known.join(", "));
                return (StatusCode::BAD_REQUEST, message).into_response();
            }
        },
    };
    let disposition = format!("attachment; filename=\"dataflow-report-{}.csv\"", section.name());
    match render_report(context, move |report| report::csv::render(report, section)).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8; header=present".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            ],
            body,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}
