//! The Go tutorial's order-update stream on its own, as deployed by `deploy/`:
//! `order-server [ADDR]` serves `payment.OrderService` (ten updates per order, 100 ms apart)
//! on `ADDR` (default `0.0.0.0:$PORT`, `PORT` default 50051) and prints `listening on ADDR`
//! first.
//!
//! Telemetry comes from the `OTEL_*` variables (service name `order-service` unless they give
//! one): the Kubernetes manifests send traces over OTLP to the collector and, with
//! `OTEL_METRICS_EXPORTER=prometheus`, serve the RPC metrics on `:9464/metrics`. It serves
//! until SIGTERM or Ctrl-C, then finishes the streams in flight (up to 10 s), flushes its
//! spans and metrics (up to 5 s) and exits 0.

use std::process::ExitCode;

use tonic::transport::Server;
use tonic_traced_examples::order_service::OrderUpdates;
use tonic_traced_examples::payment::order_service_server::OrderServiceServer;
use tonic_traced_examples::{output, server_binary};

#[tokio::main]
async fn main() -> ExitCode {
    let router = Server::builder().add_service(OrderServiceServer::new(OrderUpdates::default()));
    output::exit(server_binary::run("order-server", "order-service", router).await)
}
