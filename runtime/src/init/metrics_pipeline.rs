//! Turns the metrics part of a [`TelemetryConfig`] into the global meter provider the RPC
//! metrics record into: OTLP and console exporters pushed periodically, Prometheus scraped.

use std::sync::Arc;

use opentelemetry::global;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;

use super::config::{ConfigError, MetricsConfig, MetricsExporter};
use super::console_metrics::ConsoleMetricExporter;
use super::export_failures::{Ledger, ReportedOnce};
use super::otlp;
use super::prometheus_endpoint::PrometheusEndpoint;
use crate::metrics::exemplars::Exemplars;

/// The installed meter provider, with the Prometheus exporter its scrape endpoint, and with
/// the OTLP exporter the ledger of what it sent.
#[derive(Debug)]
pub(super) struct MetricsPipeline {
    provider: SdkMeterProvider,
    prometheus: Option<PrometheusEndpoint>,
    /// What became of the metrics sent to the collector, for the shutdown warning.
    pub(super) ledgers: Vec<Arc<Ledger>>,
}

/// Installs the global meter provider `config` describes; `None` for `OTEL_METRICS_EXPORTER=none`.
pub(super) fn install(
    config: &MetricsConfig,
    resource: Resource,
) -> Result<Option<MetricsPipeline>, ConfigError> {
    if config.exporters.is_empty() {
        return Ok(None);
    }
    let mut builder = SdkMeterProvider::builder().with_resource(resource);
    let mut prometheus = None;
    let mut ledgers = Vec::new();
    let mut exemplars = None;
    for exporter in &config.exporters {
        builder = match exporter {
            MetricsExporter::Otlp => {
                let timeout = config.otlp.timeout.min(config.export_timeout);
                let exporter = otlp::metric_exporter(&config.otlp, timeout)?;
                let ledger = Ledger::new("metrics", &config.otlp.endpoint);
                ledgers.push(ledger.clone());
                builder.with_reader(periodic(ReportedOnce::new(exporter, ledger), config))
            }
            MetricsExporter::Console => {
                builder.with_reader(periodic(ConsoleMetricExporter::new(), config))
            }
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
                exemplars = Some(kept);
                builder.with_reader(reader)
            }
        };
    }
    let provider = builder.build();
    global::set_meter_provider(provider.clone());
    crate::metrics::use_meter_provider(&provider, exemplars);
    Ok(Some(MetricsPipeline {
        provider,
        prometheus,
        ledgers,
    }))
}

fn periodic<E: PushMetricExporter>(exporter: E, config: &MetricsConfig) -> PeriodicReader<E> {
    PeriodicReader::builder(exporter)
        .with_interval(config.export_interval)
        .build()
}

impl MetricsPipeline {
    /// Stops the scrape endpoint, exports what the push exporters have not, and shuts the
    /// provider down.
    pub(super) fn shutdown(self) -> OTelSdkResult {
        drop(self.prometheus);
        self.provider.shutdown()
    }
}
