//! The OpenCensus tutorial's server, traced: `capitalize-server [ADDR]` serves `rpc.Fetch` on
//! `ADDR` (default `127.0.0.1:0`, a free port) and prints `listening on ADDR` first.
//!
//! With nothing configured each call's trace prints on stderr as a waterfall as soon as the
//! call ends; with `OTEL_EXPORTER_OTLP_ENDPOINT` set the spans go to that collector instead.
//! It serves until Ctrl-C or SIGTERM, then finishes the calls in flight, sends the spans not
//! exported yet and exits.
//!
//! The tutorial's gRPC server metrics: with `OTEL_METRICS_EXPORTER=prometheus` they are served
//! for Prometheus on `http://localhost:9464/metrics` (`OTEL_EXPORTER_PROMETHEUS_HOST`,
//! `OTEL_EXPORTER_PROMETHEUS_PORT`), bound at start: `rpc_server_duration_milliseconds` (completed
//! calls by `rpc_method` and `rpc_grpc_status_code`, latency buckets),
//! `rpc_server_request_size_bytes` and `rpc_server_response_size_bytes` per call. With nothing
//! configured they print as a table every `OTEL_METRIC_EXPORT_INTERVAL` (60 s).

use std::net::SocketAddr;
use std::process::ExitCode;

use tonic::transport::Server;
use tonic_traced_examples::capitalize_service::FetchIt;
use tonic_traced_examples::rpc::fetch_server::FetchServer;
use tonic_traced_examples::{output, server_binary};

#[tokio::main]
async fn main() -> ExitCode {
    output::exit(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let address = server_binary::address_argument("capitalize-server")?
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
    let router = Server::builder().add_service(FetchServer::new(FetchIt));
    server_binary::serve(address, "capitalize-server", router).await
}
