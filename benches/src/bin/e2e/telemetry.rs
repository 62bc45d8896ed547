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

/// An exporter that discards spans and counts them. It also describes the first span of each
/// name, so a run can show what each mode records.
#[derive(Clone, Default, Debug)]
pub struct SpanCounter {
    exported: Arc<AtomicU64>,
    shapes: Arc<Mutex<BTreeMap<String, String>>>,
}

impl SpanCounter {
    /// Spans exported so far.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// One line per span name: kind, whether its parent is remote, status and attributes.
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
        // Looked up only where the name changes within a batch: a few times per batch.
        let mut shapes = self.shapes.lock().expect("no panic while describing");
        let mut previous = "";
        for span in &batch {
            if span.name != previous {
                previous = &span.name;
                if !shapes.contains_key(previous) {
                    shapes.insert(previous.to_owned(), describe(span));
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
