//! The signal a server stops on: SIGTERM (what Kubernetes, Docker, systemd and `kill` send) or
//! Ctrl-C, as a future for tonic's `serve_with_shutdown`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Listens for SIGTERM and Ctrl-C (SIGINT) from now on; the returned future resolves on the
/// first of them. On Windows it resolves on Ctrl-C.
///
/// tonic's `serve` runs until the process is killed, so the [`TelemetryGuard`] of `main` is
/// never dropped and the spans and metrics still buffered are lost. Serving until this future
/// resolves makes `serve` stop accepting connections, wait for the calls in flight and return;
/// dropping the guard then flushes the telemetry:
///
/// ```ignore
/// let _telemetry = tonic_traced::init()?;
/// let stop = tonic_traced::init::shutdown_signal()?;
/// Server::builder()
///     .add_service(PaymentServiceServer::new(Payments::default()))
///     .serve_with_shutdown("0.0.0.0:50051".parse()?, stop)
///     .await?;
/// // `_telemetry` is dropped at the end of `main`: spans and metrics are flushed.
/// ```
///
/// (`examples/src/server_binary.rs` is this, with a bound on the wait for calls in flight.)
///
/// The signal handlers are installed when this is called, not when the future is first
/// polled, so a signal sent at any time after the call counts. Once installed they stay for
/// the life of the process (as with every Tokio signal listener): a second SIGTERM or Ctrl-C
/// no longer kills it; listen again with a new `shutdown_signal()` to act on one.
///
/// Call it inside a Tokio runtime with I/O enabled (`#[tokio::main]` has it): it panics
/// otherwise. It fails only when the operating system refuses to install a signal handler.
///
/// [`TelemetryGuard`]: crate::TelemetryGuard
pub fn shutdown_signal() -> io::Result<ShutdownSignal> {
    ShutdownSignal::listen()
}

/// A future that resolves when the process is asked to stop: see [`shutdown_signal`].
#[derive(Debug)]
#[must_use = "a shutdown signal does nothing unless awaited"]
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl ShutdownSignal {
    #[cfg(unix)]
    fn listen() -> io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(ShutdownSignal {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(windows)]
    fn listen() -> io::Result<Self> {
        Ok(ShutdownSignal {
            ctrl_c: tokio::signal::windows::ctrl_c()?,
        })
    }
}

impl Future for ShutdownSignal {
    type Output = ();

    /// Ready once a signal has arrived (or the runtime is shutting down, when no signal can
    /// arrive any more).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        #[cfg(unix)]
        let arrived =
            this.terminate.poll_recv(cx).is_ready() || this.interrupt.poll_recv(cx).is_ready();
        #[cfg(windows)]
        let arrived = this.ctrl_c.poll_recv(cx).is_ready();
        if arrived {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
