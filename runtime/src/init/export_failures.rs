//! Export failures reported once, not once per batch: with the collector down, the first failed
//! export of spans or metrics is a warning, later ones are counted, and shutdown reports the
//! totals. A shutdown that gives up waiting for a collector that does not answer warns once
//! with what was not exported. (The batch span processor itself warns once when its queue
//! overflows, gives the dropped count at shutdown, and counts the drops in the SDK's
//! `otel.sdk.processor.span.processed`, which `init()`'s metrics exporters show.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
#[cfg(feature = "otlp")]
use std::{fmt::Display, sync::Arc};

#[cfg(feature = "otlp")]
use opentelemetry::Context;
#[cfg(feature = "otlp")]
use opentelemetry_sdk::error::OTelSdkResult;
#[cfg(feature = "otlp")]
use opentelemetry_sdk::metrics::{
    data::ResourceMetrics, exporter::PushMetricExporter, Temporality,
};
#[cfg(feature = "otlp")]
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
#[cfg(feature = "otlp")]
use opentelemetry_sdk::Resource;

/// What became of one signal's items on their way to one destination.
#[derive(Debug)]
pub(super) struct Ledger {
    signal: &'static str,
    destination: String,
    /// Items handed to the pipeline: spans as they end, metrics as an export starts.
    received: AtomicU64,
    exported: AtomicU64,
    failed_exports: AtomicU64,
    failed_items: AtomicU64,
    totals_reported: AtomicBool,
}

impl Ledger {
    #[cfg(feature = "otlp")]
    /// An empty ledger for `signal` (`spans`, `metrics`) sent to `destination`.
    pub(super) fn new(signal: &'static str, destination: &str) -> Arc<Self> {
        Arc::new(Ledger {
            signal,
            destination: destination.to_owned(),
            received: AtomicU64::new(0),
            exported: AtomicU64::new(0),
            failed_exports: AtomicU64::new(0),
            failed_items: AtomicU64::new(0),
            totals_reported: AtomicBool::new(false),
        })
    }

    /// Counts `items` handed to the pipeline.
    #[cfg(feature = "otlp")]
    fn received(&self, items: u64) {
        self.received.fetch_add(items, Ordering::Relaxed);
    }

    /// Counts `items` exported.
    #[cfg(feature = "otlp")]
    fn exported(&self, items: u64) {
        self.exported.fetch_add(items, Ordering::Relaxed);
    }

    #[cfg(feature = "otlp")]
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

    /// Warns with the totals, if anything failed; once, however often it is called.
    fn report_totals(&self) {
        let exports = self.failed_exports.load(Ordering::Relaxed);
        if exports > 0 && !self.totals_reported.swap(true, Ordering::Relaxed) {
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

    /// Items received but neither exported nor counted as failed: queued, in flight, or
    /// dropped from a full queue.
    pub(super) fn unfinished(&self) -> u64 {
        let settled =
            self.exported.load(Ordering::Relaxed) + self.failed_items.load(Ordering::Relaxed);
        self.received
            .load(Ordering::Relaxed)
            .saturating_sub(settled)
    }

    /// Warns that shutdown stopped waiting after `waited` with items [unfinished](Self::unfinished),
    /// then with the failure totals.
    pub(super) fn report_unfinished(&self, waited: Duration) {
        tracing::warn!(
            target: "tonic_traced",
            "{} {} not exported: the collector at {} did not answer within {:.1} s of \
             shutdown (the count includes any dropped from a full queue)",
            self.unfinished(),
            self.signal,
            self.destination,
            waited.as_secs_f64()
        );
        self.report_totals();
    }
}

#[cfg(feature = "otlp")]
/// Wraps the exporter that sends one signal to its ledger's destination.
#[derive(Debug)]
pub(super) struct ReportedOnce<E> {
    inner: E,
    ledger: Arc<Ledger>,
}

#[cfg(feature = "otlp")]
impl<E> ReportedOnce<E> {
    /// `inner`, keeping its accounts in `ledger`.
    pub(super) fn new(inner: E, ledger: Arc<Ledger>) -> Self {
        ReportedOnce { inner, ledger }
    }
}

#[cfg(feature = "otlp")]
impl<E: SpanExporter> SpanExporter for ReportedOnce<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        match self.inner.export(batch).await {
            Ok(()) => {
                self.ledger.exported(spans);
                Ok(())
            }
            Err(error) => self.ledger.failed(spans, error),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.ledger.report_totals();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(feature = "otlp")]
impl<E: PushMetricExporter> PushMetricExporter for ReportedOnce<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let count = metrics.scope_metrics().map(|scope| scope.metrics().count());
        let count = count.sum::<usize>() as u64;
        self.ledger.received(count);
        match self.inner.export(metrics).await {
            Ok(()) => {
                self.ledger.exported(count);
                Ok(())
            }
            Err(error) => self.ledger.failed(count, error),
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.ledger.report_totals();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

#[cfg(feature = "otlp")]
/// Wraps a span processor to count the spans handed to it in the ledger of its exporter.
#[derive(Debug)]
pub(super) struct Counted<P> {
    inner: P,
    ledger: Arc<Ledger>,
}

#[cfg(feature = "otlp")]
impl<P> Counted<P> {
    /// `inner`, counting into `ledger`.
    pub(super) fn new(inner: P, ledger: Arc<Ledger>) -> Self {
        Counted { inner, ledger }
    }
}

#[cfg(feature = "otlp")]
impl<P: SpanProcessor> SpanProcessor for Counted<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.ledger.received(1);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
