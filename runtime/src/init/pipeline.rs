//! Turns a [`TelemetryConfig`] into a tracer provider and a propagator.

use std::sync::Arc;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::SdkTracerProvider;
#[cfg(feature = "otlp")]
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SpanExporter};
use opentelemetry_sdk::Resource;

#[cfg(feature = "otlp")]
use super::config::BatchConfig;
#[cfg(not(feature = "propagators"))]
use super::config::PROPAGATORS;
use super::config::{
    name_of, ConfigError, Propagator, Sampler, TelemetryConfig, TracesExporter, TRACES_EXPORTERS,
};
#[cfg(feature = "console")]
use super::console::ConsoleProcessor;
use super::export_failures::Ledger;
#[cfg(feature = "otlp")]
use super::export_failures::{Counted, ReportedOnce};
#[cfg(feature = "otlp")]
use super::otlp;
#[cfg(feature = "propagators")]
use super::propagators::{Jaeger, B3};

/// The tracer provider and the ledgers of its OTLP exporters.
#[derive(Debug)]
pub(super) struct TracesPipeline {
    /// The tracer provider.
    pub(super) provider: SdkTracerProvider,
    /// What became of the spans sent to each collector, for the shutdown warning.
    pub(super) ledgers: Vec<Arc<Ledger>>,
}

/// Builds the tracer provider the configuration describes; `None` when `OTEL_SDK_DISABLED` is
/// true. Nothing is made global yet.
///
/// The console processor comes first: the provider shuts its processors down one after the
/// other, so a collector that does not answer cannot hold up the console's output.
pub(super) fn build(
    config: &TelemetryConfig,
    fallback_service_name: Option<&str>,
) -> Result<Option<TracesPipeline>, ConfigError> {
    if config.sdk_disabled {
        return Ok(None);
    }
    let exporters = &config.traces.exporters;
    if let Some(left_out) = exporters.iter().find(|exporter| !compiled_in(**exporter)) {
        let name = name_of(TRACES_EXPORTERS, left_out);
        return Err(ConfigError::not_compiled_in(
            "OTEL_TRACES_EXPORTER",
            name,
            name,
        ));
    }
    let builder = SdkTracerProvider::builder()
        .with_sampler(sampler(config.traces.sampler))
        .with_resource(resource(config, fallback_service_name));
    #[cfg(feature = "console")]
    let builder = if exporters.contains(&TracesExporter::Console) {
        builder.with_span_processor(ConsoleProcessor::configured(
            &config.console_output,
            config.no_color,
        )?)
    } else {
        builder
    };
    #[cfg(feature = "otlp")]
    let (builder, ledgers) = if exporters.contains(&TracesExporter::Otlp) {
        let otlp = &config.traces.otlp;
        // One export may take the OTLP timeout or OTEL_BSP_EXPORT_TIMEOUT, the shorter.
        let timeout = otlp.timeout.min(config.traces.batch.export_timeout);
        let exporter = otlp::span_exporter(otlp, timeout)?;
        let ledger = Ledger::new("spans", &otlp.endpoint);
        let processor = batch(
            ReportedOnce::new(exporter, ledger.clone()),
            &config.traces.batch,
        );
        let counted = Counted::new(processor, ledger.clone());
        (builder.with_span_processor(counted), vec![ledger])
    } else {
        (builder, Vec::new())
    };
    #[cfg(not(feature = "otlp"))]
    let ledgers = Vec::new();
    Ok(Some(TracesPipeline {
        provider: builder.build(),
        ledgers,
    }))
}

/// Whether this build has `exporter`.
fn compiled_in(exporter: TracesExporter) -> bool {
    match exporter {
        TracesExporter::Console => cfg!(feature = "console"),
        TracesExporter::Otlp => cfg!(feature = "otlp"),
    }
}

/// Whether the sampler follows the caller's sampled flag.
pub(super) fn is_parent_based(sampler: &Sampler) -> bool {
    matches!(
        sampler,
        Sampler::ParentBasedAlwaysOn
            | Sampler::ParentBasedAlwaysOff
            | Sampler::ParentBasedTraceIdRatio(_)
    )
}

/// The composite propagator of `names`; an error for a format this build leaves out.
pub(super) fn propagator(names: &[Propagator]) -> Result<TextMapCompositePropagator, ConfigError> {
    let propagators = names
        .iter()
        .map(
            |name| -> Result<Box<dyn TextMapPropagator + Send + Sync>, ConfigError> {
                Ok(match name {
                    Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                    Propagator::Baggage => Box::new(BaggagePropagator::new()),
                    #[cfg(feature = "propagators")]
                    Propagator::B3 => Box::new(B3::single()),
                    #[cfg(feature = "propagators")]
                    Propagator::B3Multi => Box::new(B3::multi()),
                    #[cfg(feature = "propagators")]
                    Propagator::Jaeger => Box::new(Jaeger::new()),
                    #[cfg(not(feature = "propagators"))]
                    left_out @ (Propagator::B3 | Propagator::B3Multi | Propagator::Jaeger) => {
                        return Err(ConfigError::not_compiled_in(
                            "OTEL_PROPAGATORS",
                            name_of(PROPAGATORS, left_out),
                            "propagators",
                        ))
                    }
                })
            },
        )
        .collect::<Result<_, _>>()?;
    Ok(TextMapCompositePropagator::new(propagators))
}

/// The SDK's sampler for `sampler`.
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

/// A batch processor exporting with `exporter`, as `OTEL_BSP_*` configure it.
#[cfg(feature = "otlp")]
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
