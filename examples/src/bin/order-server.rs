//! The Go tutorial's order-update stream on its own, as deployed by `deploy/`:
//! `order-server [ADDR]` serves `payment.OrderService` (ten updates per order, 100 ms apart)
//! on `ADDR` (default `0.0.0.0:$PORT`, `PORT` default 50051) and prints `listening on ADDR`
//! first.
//!
//! Telemetry comes from the `OTEL_*` variables (service name `order-service` unless they give
//! one): the Kubernetes manifests send traces over OTLP to the collector and, with
//! `OTEL_METRICS_EXPORTER=prometheus`, serve the RPC metrics on `:9464/metrics`. It serves
//! until stopped.

use std::io::Write;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_traced_examples::order_service::OrderUpdates;
use tonic_traced_examples::payment::order_service_server::OrderServiceServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = listen_address()?;
    let telemetry = tonic_traced::Init::default()
        .service_name("order-service")
        .install()?;

    let listener = TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    Server::builder()
        .add_service(OrderServiceServer::new(OrderUpdates::default()))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;

    telemetry.shutdown()?;
    Ok(())
}

/// The first argument, else all interfaces on `$PORT` (50051 when unset).
fn listen_address() -> Result<SocketAddr, String> {
    if let Some(address) = std::env::args().nth(1) {
        return address
            .parse()
            .map_err(|error| format!("order-server: bad address {address:?}: {error}"));
    }
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|error| format!("order-server: PORT={port:?} is not a port: {error}"))?,
        Err(std::env::VarError::NotPresent) => 50051,
        Err(error) => return Err(format!("order-server: PORT: {error}")),
    };
    Ok(SocketAddr::from(([0, 0, 0, 0], port)))
}
