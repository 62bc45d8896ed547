//! The `main` of the server binaries: where to listen, then a traced server that says where.

use std::error::Error;
use std::io::Write;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::{Router, TcpIncoming};

/// The port [`address_or_port`] falls back to when `PORT` is unset.
const DEFAULT_PORT: u16 = 50051;

/// `program`'s first argument as an address, if it has one; errors name `program`.
pub fn address_argument(program: &str) -> Result<Option<SocketAddr>, String> {
    let Some(address) = std::env::args().nth(1) else {
        return Ok(None);
    };
    let parsed = address
        .parse()
        .map_err(|error| format!("{program}: bad address {address:?}: {error}"))?;
    Ok(Some(parsed))
}

/// The first argument, else all interfaces on `$PORT` (50051 when unset); errors name
/// `program`.
pub fn address_or_port(program: &str) -> Result<SocketAddr, String> {
    if let Some(address) = address_argument(program)? {
        return Ok(address);
    }
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|error| format!("{program}: PORT={port:?} is not a port: {error}"))?,
        Err(std::env::VarError::NotPresent) => DEFAULT_PORT,
        Err(error) => return Err(format!("{program}: PORT: {error}")),
    };
    Ok(SocketAddr::from(([0, 0, 0, 0], port)))
}

/// Installs telemetry from the `OTEL_*` variables (service name `service_name` unless they
/// give one), binds `address`, prints `listening on ADDR` and serves `router` until stopped;
/// then flushes the telemetry.
pub async fn serve(
    address: SocketAddr,
    service_name: &str,
    router: Router,
) -> Result<(), Box<dyn Error>> {
    let telemetry = tonic_traced::Init::default()
        .service_name(service_name)
        .install()?;

    let listener = TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    router
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;

    telemetry.shutdown()?;
    Ok(())
}

/// A deployed server's `main`: [`serve`] on [`address_or_port`].
pub async fn run(program: &str, service_name: &str, router: Router) -> Result<(), Box<dyn Error>> {
    let address = address_or_port(program)?;
    serve(address, service_name, router).await
}
