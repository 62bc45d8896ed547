//! Turns a [`TelemetryConfig`] into the global tracer provider and propagator.

use std::sync::Arc;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::{global, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter,
};
use opentelemetry_sdk::Resource;

use super::config::{
    BatchConfig, ConfigError, Propagator, Sampler, TelemetryConfig, TracesExporter,
};
use super::console::ConsoleExporter;
use super::export_failures::{Counted, Ledger, ReportedOnce};
use super::otlp;
use super::propagators::{Jaeger, B3};

/// The installed tracer provider and the ledgers of its OTLP exporters.
#[derive(Debug)]
pub(super) struct TracesPipeline {
    /// The global tracer provider.
    pub(super) provider: SdkTracerProvider,
    /// What became of the spans sent to each collector, for the shutdown warning.
    pub(super) ledgers: Vec<Arc<Ledger>>,
}

/// Installs the global propagator and tracer provider the configuration describes; `None`
/// when `OTEL_SDK_DISABLED` is true (the no-op defaults stay in place).
///
/// Console processors come first: the provider shuts its processors down one after the other,
/// so a collector that does not answer cannot hold up the console's output.
pub(super) fn install(
    config: &TelemetryConfig,
    fallback_service_name: Option<&str>,
) -> Result<Option<TracesPipeline>, ConfigError> {
    if config.sdk_disabled {
        return Ok(None);
    }
    config.semconv.install();
    let propagator = propagator(&config.propagators);
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(sampler(config.traces.sampler))
        .with_resource(resource(config, fallback_service_name));
    let mut ledgers = Vec::new();
    let mut exporters = config.traces.exporters.clone();
    exporters.sort_by_key(|exporter| *exporter != TracesExporter::Console);
    for exporter in exporters {
        builder = match exporter {
            TracesExporter::Console => {
                builder.with_span_processor(batch(ConsoleExporter::new(), &config.traces.batch))
            }
            TracesExporter::Otlp => {
                let otlp = &config.traces.otlp;
                // One export may take the OTLP timeout or OTEL_BSP_EXPORT_TIMEOUT, the shorter.
                let timeout = otlp.timeout.min(config.traces.batch.export_timeout);
                let exporter = otlp::span_exporter(otlp, timeout)?;
                let ledger = Ledger::new("spans", &otlp.endpoint);
                ledgers.push(ledger.clone());
                let processor = batch(
                    ReportedOnce::new(exporter, ledger.clone()),
                    &config.traces.batch,
                );
                builder.with_span_processor(Counted::new(processor, ledger))
            }
        };
    }
    let provider = builder.build();
    if takes_unsampled_fast_path(config) {
        crate::assume_w3c_parent_based_sampling();
    }
    global::set_text_map_propagator(propagator);
    global::set_tracer_provider(provider.clone());
    crate::use_tracer_provider(&provider);
    Ok(Some(TracesPipeline { provider, ledgers }))
}

/// W3C propagation and a parent-based sampler: an unsampled `traceparent` decides it all.
fn takes_unsampled_fast_path(config: &TelemetryConfig) -> bool {
    let w3c = config.propagators.contains(&Propagator::TraceContext)
        && config
            .propagators
            .iter()
            .all(|p| matches!(p, Propagator::TraceContext | Propagator::Baggage));
    let parent_based = matches!(
        config.traces.sampler,
        Sampler::ParentBasedAlwaysOn
            | Sampler::ParentBasedAlwaysOff
            | Sampler::ParentBasedTraceIdRatio(_)
    );
    w3c && parent_based
}

fn propagator(names: &[Propagator]) -> TextMapCompositePropagator {
    let propagators = names
        .iter()
        .map(|name| -> Box<dyn TextMapPropagator + Send + Sync> {
            match name {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
                Propagator::B3 => Box::new(B3::single()),
                Propagator::B3Multi => Box::new(B3::multi()),
                Propagator::Jaeger => Box::new(Jaeger::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(propagators)
}

fn sampler(sampler: Sampler) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as Sdk;
    let parent_based = |root: Sdk| Sdk::ParentBased(Box::new(root));
    match sampler {
        Sampler::AlwaysOn => Sdk::AlwaysOn,
        Sampler::AlwaysOff => Sdk::AlwaysOff,
        Sampler::TraceIdRatio(ratio) => Sdk::TraceIdRatioBased(ratio),
        Sampler::ParentBasedAlwaysOn => parent_based(Sdk::AlwaysOn),
        Sampler::ParentBasedAlwaysOff => parent_based(Sdk::AlwaysOff),
        Sampler::ParentBasedTraceIdRatio(ratio) => parent_based(Sdk::TraceIdRatioBased(ratio)),
    }
}

/// `service.name` from the environment, else the code's default, else `unknown_service`, the
/// other `OTEL_RESOURCE_ATTRIBUTES`, and the SDK's `telemetry.sdk.*`.
pub(super) fn resource(config: &TelemetryConfig, fallback_service_name: Option<&str>) -> Resource {
    let service_name = config
        .service_name
        .as_deref()
        .or(fallback_service_name)
        .unwrap_or("unknown_service")
        .to_owned();
    let attributes = config
        .resource_attributes
        .iter()
        .map(|(key, value)| KeyValue::new(key.clone(), value.clone()));
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_service_name(service_name)
        .with_attributes(attributes)
        .build()
}

fn batch<E: SpanExporter + 'static>(exporter: E, config: &BatchConfig) -> BatchSpanProcessor {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(config.max_queue_size)
        .with_max_export_batch_size(config.max_export_batch_size)
        .with_scheduled_delay(config.schedule_delay)
        .build();
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build()
}
