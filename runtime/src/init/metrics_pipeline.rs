//! Turns the metrics part of a `TelemetryConfig` into the meter provider the RPC metrics
//! record into: OTLP and console exporters pushed periodically, Prometheus scraped.

use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;

use super::config::{
    name_of, ConfigError, ConsoleOutput, MetricsConfig, MetricsExporter, METRICS_EXPORTERS,
};
#[cfg(feature = "console")]
use super::console_metrics::ConsoleMetricExporter;
use super::export_failures::Ledger;
#[cfg(feature = "otlp")]
use super::export_failures::ReportedOnce;
#[cfg(feature = "otlp")]
use super::otlp;
#[cfg(feature = "prometheus")]
use super::prometheus_endpoint::PrometheusEndpoint;
#[cfg(feature = "prometheus")]
use super::exemplars::Exemplars;
use crate::ExemplarSink;

/// The meter provider, with the Prometheus exporter its scrape endpoint and the exemplars it
/// shows, and with the OTLP exporter the ledger of what it sent.
#[derive(Debug)]
pub(super) struct MetricsPipeline {
    pub(super) provider: SdkMeterProvider,
    #[cfg(feature = "prometheus")]
    prometheus: Option<PrometheusEndpoint>,
    /// Where calls leave the exemplars the scrape endpoint shows.
    pub(super) exemplars: Option<Arc<dyn ExemplarSink>>,
    /// What became of the metrics sent to the collector, for the shutdown warning.
    pub(super) ledgers: Vec<Arc<Ledger>>,
}

/// Builds the meter provider `config` describes; `None` for `OTEL_METRICS_EXPORTER=none`.
/// A console exporter prints to `console_output`, coloured on a terminal unless `no_color`.
pub(super) fn build(
    config: &MetricsConfig,
    console_output: &ConsoleOutput,
    no_color: bool,
    resource: Resource,
) -> Result<Option<MetricsPipeline>, ConfigError> {
    if config.exporters.is_empty() {
        return Ok(None);
    }
    let mut builder = SdkMeterProvider::builder().with_resource(resource);
    #[cfg(feature = "prometheus")]
    let mut prometheus = None;
    #[cfg_attr(not(feature = "otlp"), allow(unused_mut))]
    let mut ledgers = Vec::new();
    #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))]
    let mut exemplars = None;
    for exporter in &config.exporters {
        builder = match exporter {
            #[cfg(feature = "otlp")]
            MetricsExporter::Otlp => {
                let timeout = config.otlp.timeout.min(config.export_timeout);
                let exporter = otlp::metric_exporter(&config.otlp, timeout)?;
                let ledger = Ledger::new("metrics", &config.otlp.endpoint);
                ledgers.push(ledger.clone());
                builder.with_reader(periodic(ReportedOnce::new(exporter, ledger), config))
            }
            #[cfg(feature = "console")]
            MetricsExporter::Console => {
                let exporter = ConsoleMetricExporter::to(console_output, no_color)?;
                builder.with_reader(periodic(exporter, config))
            }
            #[cfg(feature = "prometheus")]
            MetricsExporter::Prometheus => {
                let registry = prometheus::Registry::new();
                let reader = opentelemetry_prometheus::exporter()
                    .with_registry(registry.clone())
                    .build()
                    .map_err(|error| {
                        ConfigError::new(format!(
                            "could not set up the Prometheus exporter: {error}"
                        ))
                    })?;
                // Only the scrape endpoint shows exemplars: calls keep them for it alone.
                let kept = Arc::<Exemplars>::default();
                prometheus = Some(PrometheusEndpoint::serve(
                    &config.prometheus,
                    registry,
                    kept.clone(),
                )?);
                exemplars = Some(kept as Arc<dyn ExemplarSink>);
                builder.with_reader(reader)
            }
            #[allow(unreachable_patterns)]
            left_out => {
                let name = name_of(METRICS_EXPORTERS, left_out);
                return Err(ConfigError::not_compiled_in(
                    "OTEL_METRICS_EXPORTER",
                    name,
                    name,
                ));
            }
        };
    }
    Ok(Some(MetricsPipeline {
        provider: builder.build(),
        #[cfg(feature = "prometheus")]
        prometheus,
        exemplars,
        ledgers,
    }))
}

/// A reader pushing to `exporter` at the configured interval.
#[cfg_attr(not(any(feature = "console", feature = "otlp")), allow(dead_code))]
fn periodic<E: PushMetricExporter>(exporter: E, config: &MetricsConfig) -> PeriodicReader<E> {
    PeriodicReader::builder(exporter)
        .with_interval(config.export_interval)
        .build()
}

impl MetricsPipeline {
    /// Stops the scrape endpoint, exports what the push exporters have not, and shuts the
    /// provider down.
    pub(super) fn shutdown(self) -> OTelSdkResult {
        #[cfg(feature = "prometheus")]
        drop(self.prometheus);
        self.provider.shutdown()
    }
}
