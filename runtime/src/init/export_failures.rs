//! Span export failures reported once, not once per batch: with the collector down, the first
//! failed export is a warning, later ones are counted, and shutdown reports the totals. (The
//! batch processor itself warns once when its queue overflows, and gives the dropped count at
//! shutdown.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// Wraps the exporter that sends spans to `destination`.
#[derive(Debug)]
pub(super) struct ReportedOnce<E> {
    inner: E,
    destination: String,
    failed_batches: AtomicU64,
    failed_spans: AtomicU64,
}

impl<E> ReportedOnce<E> {
    pub(super) fn new(inner: E, destination: &str) -> Self {
        ReportedOnce {
            inner,
            destination: destination.to_owned(),
            failed_batches: AtomicU64::new(0),
            failed_spans: AtomicU64::new(0),
        }
    }
}

impl<E: SpanExporter> SpanExporter for ReportedOnce<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        if let Err(error) = self.inner.export(batch).await {
            if self.failed_batches.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    target: "tonic_traced",
                    "could not export {spans} spans to {}: {error}; later failures are only \
                     counted and reported at shutdown",
                    self.destination
                );
            }
            self.failed_spans.fetch_add(spans, Ordering::Relaxed);
        }
        // Failures are reported here; the processor would log each one again.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let batches = self.failed_batches.load(Ordering::Relaxed);
        if batches > 0 {
            tracing::warn!(
                target: "tonic_traced",
                failed_batches = batches,
                failed_spans = self.failed_spans.load(Ordering::Relaxed),
                "spans that could not be exported to {} in this process's lifetime",
                self.destination
            );
        }
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
