//! The SDK every tracing mode of the load comparison uses: a parent-based always-on sampler and
//! the SDK's `BatchSpanProcessor` with its default configuration (a 2048-span queue, batches of
//! 512, or what the `OTEL_BSP_*` variables say), exporting to an exporter that discards spans
//! and counts them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};

/// Batches whose spans are all described in [`SpanCounter::shapes`]; later batches are only
/// counted.
const DESCRIBED_BATCHES: u64 = 64;

/// An exporter that discards spans and counts them. The spans of its first batches are also
/// described, one line per span name, so a run can show what each mode records.
#[derive(Clone, Default, Debug)]
pub struct SpanCounter {
    exported: Arc<AtomicU64>,
    batches: Arc<AtomicU64>,
    shapes: Arc<Mutex<BTreeMap<String, String>>>,
}

impl SpanCounter {
    /// Spans exported so far.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// One line per span name seen in the first batches: kind, whether it has a parent, and
    /// its attributes.
    pub fn shapes(&self) -> Vec<String> {
        self.shapes
            .lock()
            .expect("no panic while describing")
            .values()
            .cloned()
            .collect()
    }
}

impl SpanExporter for SpanCounter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        if self.batches.fetch_add(1, Ordering::Relaxed) < DESCRIBED_BATCHES {
            let mut shapes = self.shapes.lock().expect("no panic while describing");
            for span in &batch {
                if !shapes.contains_key(span.name.as_ref()) {
                    shapes.insert(span.name.to_string(), describe(span));
                }
            }
        }
        Ok(())
    }
}

/// `name [KIND] parent=… status=…: key=value …`
fn describe(span: &SpanData) -> String {
    let mut line = format!(
        "{} [{:?}] remote-parent={} status={:?}:",
        span.name, span.span_kind, span.parent_span_is_remote, span.status
    );
    for attribute in &span.attributes {
        let _ = write!(line, " {}={}", attribute.key, attribute.value);
    }
    line
}

/// A provider with the parent-based always-on sampler and a default batch span processor
/// exporting to `exporter`.
pub fn tracer_provider(exporter: SpanCounter) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .build()
}
