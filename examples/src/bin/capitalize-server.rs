//! The OpenCensus tutorial's server, traced: `capitalize-server [ADDR]` serves `rpc.Fetch` on
//! `ADDR` (default `127.0.0.1:0`, a free port) and prints `listening on ADDR` first.
//!
//! With nothing configured each call's trace prints as a waterfall once the batch it ended in
//! is exported (every `OTEL_BSP_SCHEDULE_DELAY`, 5 s by default); with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set the spans go to that collector instead. It serves until
//! stopped (Ctrl-C); spans of the last few seconds may then be lost.
//!
//! The tutorial's gRPC server metrics: with `OTEL_METRICS_EXPORTER=prometheus` they are served
//! for Prometheus on `http://localhost:9464/metrics` (`OTEL_EXPORTER_PROMETHEUS_HOST`,
//! `OTEL_EXPORTER_PROMETHEUS_PORT`), bound at start: `rpc_server_duration_milliseconds` (completed
//! calls by `rpc_method` and `rpc_grpc_status_code`, latency buckets),
//! `rpc_server_request_size_bytes` and `rpc_server_response_size_bytes` per call. With nothing
//! configured they print as a table every `OTEL_METRIC_EXPORT_INTERVAL` (60 s).

use std::io::Write;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_traced_examples::capitalize_service::FetchIt;
use tonic_traced_examples::rpc::fetch_server::FetchServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address: SocketAddr = match std::env::args().nth(1) {
        Some(address) => address
            .parse()
            .map_err(|error| format!("capitalize-server: bad address {address:?}: {error}"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let telemetry = tonic_traced::Init::default()
        .service_name("capitalize-server")
        .install()?;

    let listener = TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    Server::builder()
        .add_service(FetchServer::new(FetchIt))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;

    telemetry.shutdown()?;
    Ok(())
}
