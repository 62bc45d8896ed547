//! What `init()` returns: dropping it flushes and shuts the pipeline down, in bounded time.

use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetryLayer;

use super::metrics_pipeline::MetricsPipeline;
use crate::tracer::SCOPE_NAME;

/// Keeps the telemetry pipeline alive; flushes it when dropped or [shut down](Self::shutdown).
#[must_use = "dropping the guard shuts telemetry down"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    metrics: Option<MetricsPipeline>,
    shutdown_timeout: Duration,
}

impl TelemetryGuard {
    pub(super) fn new(
        provider: Option<SdkTracerProvider>,
        metrics: Option<MetricsPipeline>,
        shutdown_timeout: Duration,
    ) -> Self {
        TelemetryGuard {
            provider,
            metrics,
            shutdown_timeout,
        }
    }

    /// The `tracing` layer that turns `tracing` spans into OpenTelemetry spans of this
    /// pipeline, for an application that installs its own subscriber; `None` when the SDK is
    /// disabled. Spans carry their fields, not source locations, thread names or busy/idle
    /// times, which would crowd every trace.
    pub fn tracing_layer<S>(&self) -> Option<OpenTelemetryLayer<S, SdkTracer>>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        let provider = self.provider.as_ref()?;
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer(SCOPE_NAME))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_target(false),
        )
    }

    /// Exports what is buffered (spans first, then metrics) and stops, waiting at most the
    /// shutdown timeout in all even when the collector is unreachable.
    pub fn shutdown(mut self) -> OTelSdkResult {
        self.shutdown_now()
    }

    fn shutdown_now(&mut self) -> OTelSdkResult {
        let deadline = Instant::now() + self.shutdown_timeout;
        let traces = match self.provider.take() {
            Some(provider) => provider.shutdown_with_timeout(self.shutdown_timeout),
            None => Ok(()),
        };
        let metrics = match self.metrics.take() {
            Some(metrics) => metrics.shutdown_by(deadline),
            None => Ok(()),
        };
        traces.and(metrics)
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_now() {
            eprintln!("tonic-traced: telemetry did not shut down cleanly: {error}");
        }
    }
}
