//! What `init()` returns: dropping it flushes and shuts the pipeline down, in bounded time.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SdkTracer;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::layer::{Layer as _, Layered};

use super::export_failures::Ledger;
use super::metrics_pipeline::MetricsPipeline;
use super::pipeline::TracesPipeline;
use crate::tracer::SCOPE_NAME;
use crate::HandlerEvents;

/// How long the SDK itself may take over the span processors' shutdown, in the background,
/// after the guard has stopped waiting: longer than any export's own timeout in practice, so
/// the SDK does not log a timeout error of its own next to the guard's warning.
const SDK_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// Keeps the telemetry pipeline alive; flushes it when dropped or [shut down](Self::shutdown).
#[must_use = "dropping the guard shuts telemetry down"]
#[derive(Debug)]
pub struct TelemetryGuard {
    traces: Option<TracesPipeline>,
    metrics: Option<MetricsPipeline>,
    shutdown_timeout: Duration,
}

impl TelemetryGuard {
    pub(super) fn new(
        traces: Option<TracesPipeline>,
        metrics: Option<MetricsPipeline>,
        shutdown_timeout: Duration,
    ) -> Self {
        TelemetryGuard {
            traces,
            metrics,
            shutdown_timeout,
        }
    }

    /// The `tracing` layer that turns `tracing` spans into OpenTelemetry spans of this
    /// pipeline, and events outside any `tracing` span into events of the current RPC span
    /// ([`HandlerEvents`](crate::HandlerEvents)), for an application that installs its own
    /// subscriber; `None` when the SDK is disabled. Spans carry their fields, not source
    /// locations, thread names or busy/idle times, which would crowd every trace.
    pub fn tracing_layer<S>(
        &self,
    ) -> Option<Layered<HandlerEvents, OpenTelemetryLayer<S, SdkTracer>, S>>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        let provider = &self.traces.as_ref()?.provider;
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(SCOPE_NAME))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_target(false)
                .and_then(HandlerEvents),
        )
    }

    /// Exports what is buffered and stops, waiting at most the shutdown timeout in all, even
    /// when the collector is unreachable or never answers.
    ///
    /// Spans and metrics are flushed at the same time, each on its own thread, until one
    /// deadline, so each gets the whole timeout (the SDK's metric readers give up after 5 s of
    /// their own). When a collector leaves spans or metrics unexported by then, shutdown stops
    /// waiting (the flush goes on in the background until the process exits), warns once per
    /// collector with how many were not exported, and returns `Ok`: a slow collector costs
    /// telemetry, not the program's exit status. It returns an error only when the SDK reports
    /// one with nothing outstanding at a collector, e.g. a console flush that did not finish.
    pub fn shutdown(mut self) -> OTelSdkResult {
        self.shutdown_now()
    }

    fn shutdown_now(&mut self) -> OTelSdkResult {
        let timeout = self.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        let traces = self.traces.take().map(|traces| {
            let provider = traces.provider;
            Flush::start(traces.ledgers, move || {
                provider.shutdown_with_timeout(SDK_SHUTDOWN_TIMEOUT)
            })
        });
        let metrics = self.metrics.take().map(|metrics| {
            let ledgers = metrics.ledgers.clone();
            Flush::start(ledgers, move || metrics.shutdown())
        });
        let traces = traces.map_or(Ok(()), |flush| flush.wait(deadline, timeout));
        let metrics = metrics.map_or(Ok(()), |flush| flush.wait(deadline, timeout));
        traces.and(metrics)
    }
}

/// One signal's shutdown, running on its own thread.
struct Flush {
    done: mpsc::Receiver<OTelSdkResult>,
    ledgers: Vec<Arc<Ledger>>,
}

impl Flush {
    /// Runs `shutdown` on a new thread; `ledgers` say what it may leave unexported.
    fn start(
        ledgers: Vec<Arc<Ledger>>,
        shutdown: impl FnOnce() -> OTelSdkResult + Send + 'static,
    ) -> Self {
        let (sender, done) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(shutdown());
        });
        Flush { done, ledgers }
    }

    /// The shutdown's result if it ends by `deadline` with everything exported. When it ends
    /// in an error or is still running at `deadline` (`timeout` after it started) while a
    /// collector has items outstanding, warns once per such collector and answers `Ok`.
    fn wait(self, deadline: Instant, timeout: Duration) -> OTelSdkResult {
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match self.done.recv_timeout(left) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(mpsc::RecvTimeoutError::Timeout) => OTelSdkError::Timeout(timeout),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                OTelSdkError::InternalFailure("the telemetry shutdown thread panicked".to_owned())
            }
        };
        let waited = timeout.saturating_sub(deadline.saturating_duration_since(Instant::now()));
        let unfinished: Vec<_> = self
            .ledgers
            .iter()
            .filter(|ledger| ledger.unfinished() > 0)
            .collect();
        for ledger in &unfinished {
            ledger.report_unfinished(waited);
        }
        if unfinished.is_empty() {
            Err(error)
        } else {
            Ok(())
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_now() {
            eprintln!("tonic-traced: telemetry did not shut down cleanly: {error}");
        }
    }
}
