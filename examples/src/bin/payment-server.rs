//! The Go tutorial's payment service on its own, as deployed by `deploy/`:
//! `payment-server [ADDR]` serves `payment.PaymentService` on `ADDR` (default `0.0.0.0:$PORT`,
//! `PORT` default 50051) and prints `listening on ADDR` first.
//!
//! Telemetry comes from the `OTEL_*` variables (service name `payment-service` unless they give
//! one): the Kubernetes manifests send traces over OTLP to the collector and, with
//! `OTEL_METRICS_EXPORTER=prometheus`, serve the RPC metrics on `:9464/metrics`. It serves
//! until SIGTERM or Ctrl-C, then finishes the calls in flight (up to 10 s), flushes its spans
//! and metrics (up to 5 s) and exits 0.

use std::process::ExitCode;

use tonic::transport::Server;
use tonic_traced_examples::payment::payment_service_server::PaymentServiceServer;
use tonic_traced_examples::payment_service::Payments;
use tonic_traced_examples::{output, server_binary};

#[tokio::main]
async fn main() -> ExitCode {
    let router = Server::builder().add_service(PaymentServiceServer::new(Payments::default()));
    output::exit(server_binary::run("payment-server", "payment-service", router).await)
}
