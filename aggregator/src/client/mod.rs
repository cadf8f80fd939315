//! The command-line client: `observe`, `accesses`, `inventory`, `findings`,
//! `status` and `graph` against a running aggregator, with human and JSON
//! renderings.

pub mod json;
pub mod render;
pub mod time;

#[cfg(test)]
mod tests;

use std::io::Write;

use proto::v1::observer_client::ObserverClient;
use proto::v1::{GetDataAccessesRequest, GetFindingsRequest, GetFlowsRequest, GetInventoryRequest, GetServiceGraphRequest, ServerStatusRequest};
use tonic::transport::{Channel, Endpoint};

/// Errors of the client commands.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server address is not a URL.
    #[error("invalid server address {address:?}")]
    Address {
        /// What was given.
        address: String,
        /// Why it is invalid.
        #[source]
        source: tonic::transport::Error,
    },
    /// No connection could be made.
    #[error("cannot connect to the aggregator at {address} (is `aggregator serve` running there?)")]
    Connect {
        /// The server.
        address: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server answered with an error.
    #[error("the aggregator answered {}: {}", .0.code(), .0.message())]
    Rpc(#[from] tonic::Status),
    /// Writing the output failed (a closed pipe shows up here).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// Rendering JSON failed.
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Connects to `address`: a URL, or `host:port` meaning plain-text HTTP/2.
pub async fn connect(address: &str) -> Result<Channel, ClientError> {
    let url = if address.contains("://") { address.to_string() } else { format!("http://{address}") };
    let endpoint = Endpoint::from_shared(url.clone())
        .map_err(|source| ClientError::Address { address: address.to_string(), source })?
        .connect_timeout(std::time::Duration::from_secs(5));
    endpoint.connect().await.map_err(|source| ClientError::Connect { address: url, source })
}

/// Prints flows as they arrive: one line each, JSON objects when `json`.
/// Flushes after every line so `--follow` output shows up at once.
pub async fn observe(
    channel: Channel,
    request: GetFlowsRequest,
    json: bool,
    out: &mut impl Write,
) -> Result<u64, ClientError> {
    let mut client = ObserverClient::new(channel).max_decoding_message_size(usize::MAX);
    let mut stream = client.get_flows(request).await?.into_inner();
    let mut printed = 0;
    while let Some(response) = stream.message().await? {
        if json {
            serde_json::to_writer(&mut *out, &json::JsonResponse::from(&response))?;
            out.write_all(b"\n")?;
        } else if let Some(line) = render::response_line(&response) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        printed += 1;
    }
    Ok(printed)
}

/// Prints the server status.
pub async fn status(channel: Channel, json: bool, out: &mut impl Write) -> Result<(), ClientError> {
    let status = ObserverClient::new(channel).server_status(ServerStatusRequest {}).await?.into_inner();
    if json {
        serde_json::to_writer_pretty(&mut *out, &json::JsonStatus::from(&status))?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(render::status(&status).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Prints the service graph.
pub async fn graph(channel: Channel, since_unix_nano: u64, json: bool, out: &mut impl Write) -> Result<(), ClientError> {
    let graph = ObserverClient::new(channel)
        .get_service_graph(GetServiceGraphRequest { since_unix_nano })
        .await?
        .into_inner();
    if json {
        let edges: Vec<json::JsonEdge> = graph.edges.iter().map(json::JsonEdge::from).collect();
        serde_json::to_writer_pretty(&mut *out, &edges)?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(render::graph(&graph.edges).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Prints data accesses as they arrive: one line each, JSON objects when
/// `json`. Flushes after every line so `--follow` output shows up at once.
pub async fn accesses(
    channel: Channel,
    request: GetDataAccessesRequest,
    json: bool,
    out: &mut impl Write,
) -> Result<u64, ClientError> {
    let mut client = ObserverClient::new(channel).max_decoding_message_size(usize::MAX);
    let mut stream = client.get_data_accesses(request).await?.into_inner();
    let mut printed = 0;
    while let Some(response) = stream.message().await? {
        if json {
            serde_json::to_writer(&mut *out, &json::JsonAccessResponse::from(&response))?;
            out.write_all(b"\n")?;
        } else if let Some(line) = render::access_response_line(&response) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        printed += 1;
    }
    Ok(printed)
}

/// Prints findings as they arrive: a few lines each for people, one JSON
/// object per line when `json`. Flushes after every finding so `--follow`
/// output shows up at once.
pub async fn findings(
    channel: Channel,
    request: GetFindingsRequest,
    json: bool,
    out: &mut impl Write,
) -> Result<u64, ClientError> {
    let mut client = ObserverClient::new(channel).max_decoding_message_size(usize::MAX);
    let mut stream = client.get_findings(request).await?.into_inner();
    let mut printed = 0;
    while let Some(response) = stream.message().await? {
        if json {
            serde_json::to_writer(&mut *out, &json::JsonFindingResponse::from(&response))?;
            out.write_all(b"\n")?;
        } else if let Some(text) = render::finding_response(&response) {
            out.write_all(text.as_bytes())?;
        }
        out.flush()?;
        printed += 1;
    }
    Ok(printed)
}

/// Prints the datastore inventory: a tree for people, or one JSON document.
pub async fn inventory(
    channel: Channel,
    request: GetInventoryRequest,
    json: bool,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let inventory = ObserverClient::new(channel)
        .max_decoding_message_size(usize::MAX)
        .get_inventory(request)
        .await?
        .into_inner();
    if json {
        let datastores: Vec<json::JsonDatastore> = inventory.datastores.iter().map(json::JsonDatastore::from).collect();
        serde_json::to_writer_pretty(&mut *out, &datastores)?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(render::inventory(&inventory.datastores).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}
