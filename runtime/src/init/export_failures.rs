//! Export failures reported once, not once per batch: with the collector down, the first failed
//! export of spans or metrics is a warning, later ones are counted, and shutdown reports the
//! totals. (The batch span processor itself warns once when its queue overflows, and gives the
//! dropped count at shutdown.)

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// Wraps the exporter that sends one signal (`spans`, `metrics`) to `destination`.
#[derive(Debug)]
pub(super) struct ReportedOnce<E> {
    inner: E,
    signal: &'static str,
    destination: String,
    failed_exports: AtomicU64,
    failed_items: AtomicU64,
}

impl<E> ReportedOnce<E> {
    pub(super) fn new(inner: E, signal: &'static str, destination: &str) -> Self {
        ReportedOnce {
            inner,
            signal,
            destination: destination.to_owned(),
            failed_exports: AtomicU64::new(0),
            failed_items: AtomicU64::new(0),
        }
    }

    /// Notes an export of `items` that failed; warns the first time only. The failure is
    /// then answered as a success, so the SDK does not log it again.
    fn failed(&self, items: u64, error: impl Display) -> OTelSdkResult {
        if self.failed_exports.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(
                target: "tonic_traced",
                "could not export {items} {} to {}: {error}; later failures are only counted \
                 and reported at shutdown",
                self.signal,
                self.destination
            );
        }
        self.failed_items.fetch_add(items, Ordering::Relaxed);
        Ok(())
    }

    /// Warns with the totals, if anything failed.
    fn report_totals(&self) {
        let exports = self.failed_exports.load(Ordering::Relaxed);
        if exports > 0 {
            tracing::warn!(
                target: "tonic_traced",
                "{} {} in {exports} exports could not be exported to {} in this process's \
                 lifetime",
                self.failed_items.load(Ordering::Relaxed),
                self.signal,
                self.destination
            );
        }
    }
}

impl<E: SpanExporter> SpanExporter for ReportedOnce<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        match self.inner.export(batch).await {
            Ok(()) => Ok(()),
            Err(error) => self.failed(spans, error),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.report_totals();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter> PushMetricExporter for ReportedOnce<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        match self.inner.export(metrics).await {
            Ok(()) => Ok(()),
            Err(error) => {
                let count = metrics.scope_metrics().map(|scope| scope.metrics().count());
                self.failed(count.sum::<usize>() as u64, error)
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.report_totals();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
