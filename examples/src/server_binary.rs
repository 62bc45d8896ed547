//! The `main` of the server binaries: where to listen, then a traced server that says where
//! and stops gracefully on SIGTERM or Ctrl-C.

use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::{Router, TcpIncoming};
use tonic_traced::init::ShutdownSignal;

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

/// How long a stopping server waits for the calls in flight before it cuts them off and
/// flushes its telemetry (which takes at most the guard's shutdown timeout, 5 s): 15 s in all,
/// within the grace period `deploy/` gives before SIGKILL (30 s).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Installs telemetry from the `OTEL_*` variables (service name `service_name` unless they
/// give one), binds `address`, prints `listening on ADDR` and serves `router` until SIGTERM or
/// Ctrl-C. Then it stops accepting connections, waits for the calls in flight (at most
/// [`DRAIN_TIMEOUT`], or until a second signal) and flushes the telemetry.
pub async fn serve(
    address: SocketAddr,
    service_name: &str,
    router: Router,
) -> Result<(), Box<dyn Error>> {
    let telemetry = tonic_traced::Init::default()
        .service_name(service_name)
        .install()?;
    // Listening before saying where, so that a signal sent as soon as the address is known
    // stops the server rather than killing it.
    let stop = tonic_traced::init::shutdown_signal()?;

    let listener = TcpListener::bind(address).await?;
    // A server keeps serving when no one reads its stdout any more.
    match crate::say!("listening on {}", listener.local_addr()?) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        said => said?,
    }

    let (stopping, stopped) = oneshot::channel();
    let signal = async move {
        stop.await;
        // Listening for a second signal before the listener closes: one sent once connections
        // are refused is not missed.
        let again = tonic_traced::init::shutdown_signal();
        tracing::info!(
            "stopping: no new connections; waiting up to {} s for the calls in flight",
            DRAIN_TIMEOUT.as_secs()
        );
        let _ = stopping.send(again);
    };
    let server = router.serve_with_incoming_shutdown(TcpIncoming::from(listener), signal);
    tokio::select! {
        served = server => served?,
        () = cut_off(stopped) => {}
    }

    telemetry.shutdown()?;
    Ok(())
}

/// Resolves [`DRAIN_TIMEOUT`] after `stopped` gives the listener for a second SIGTERM or
/// Ctrl-C, or at that second signal, warning that the calls still running are cut off; never,
/// if `stopped` is dropped unsent.
async fn cut_off(stopped: oneshot::Receiver<std::io::Result<ShutdownSignal>>) {
    let Ok(again) = stopped.await else {
        return std::future::pending().await;
    };
    let again = async {
        match again {
            Ok(again) => again.await,
            Err(error) => {
                tracing::warn!(
                    "cannot listen for a second signal ({error}): only the drain timeout stops \
                     the wait for calls in flight"
                );
                std::future::pending().await
            }
        }
    };
    let why = tokio::select! {
        () = tokio::time::sleep(DRAIN_TIMEOUT) => format!("after {} s", DRAIN_TIMEOUT.as_secs()),
        () = again => "at a second signal".to_owned(),
    };
    tracing::warn!("stopping {why}: the calls still in flight are cut off, unanswered");
}

/// A deployed server's `main`: [`serve`] on [`address_or_port`].
pub async fn run(program: &str, service_name: &str, router: Router) -> Result<(), Box<dyn Error>> {
    let address = address_or_port(program)?;
    serve(address, service_name, router).await
}
