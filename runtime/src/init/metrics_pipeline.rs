//! Turns the metrics part of a `TelemetryConfig` into the meter provider the RPC metrics
//! record into: OTLP and console exporters pushed periodically, Prometheus scraped.

use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::SdkMeterProvider;
#[cfg(any(feature = "console", feature = "otlp"))]
use opentelemetry_sdk::metrics::{exporter::PushMetricExporter, PeriodicReader};
use opentelemetry_sdk::Resource;

#[cfg(any(feature = "console", feature = "otlp"))]
use super::config::MetricsConfig;
use super::config::{name_of, ConfigError, MetricsExporter, TelemetryConfig, METRICS_EXPORTERS};
#[cfg(feature = "console")]
use super::console_metrics::ConsoleMetricExporter;
#[cfg(feature = "prometheus")]
use super::exemplars::Exemplars;
use super::export_failures::Ledger;
#[cfg(feature = "otlp")]
use super::export_failures::ReportedOnce;
#[cfg(feature = "otlp")]
use super::otlp;
#[cfg(feature = "prometheus")]
use super::prometheus_endpoint::PrometheusEndpoint;
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
/// A console exporter prints where `config` says, coloured on a terminal unless `NO_COLOR`.
///
/// The console exporter comes first, as with traces, so that a collector that does not answer
/// cannot hold up the console's table at shutdown.
pub(super) fn build(
    config: &TelemetryConfig,
    resource: Resource,
) -> Result<Option<MetricsPipeline>, ConfigError> {
    let metrics = &config.metrics;
    let exporters = &metrics.exporters;
    if exporters.is_empty() {
        return Ok(None);
    }
    if let Some(left_out) = exporters.iter().find(|exporter| !compiled_in(**exporter)) {
        let name = name_of(METRICS_EXPORTERS, left_out);
        return Err(ConfigError::not_compiled_in(
            "OTEL_METRICS_EXPORTER",
            name,
            name,
        ));
    }
    let builder = SdkMeterProvider::builder().with_resource(resource);
    #[cfg(feature = "console")]
    let builder = if exporters.contains(&MetricsExporter::Console) {
        let exporter = ConsoleMetricExporter::to(&config.console_output, config.no_color)?;
        builder.with_reader(periodic(exporter, metrics))
    } else {
        builder
    };
    #[cfg(feature = "otlp")]
    let (builder, ledgers) = if exporters.contains(&MetricsExporter::Otlp) {
        let timeout = metrics.otlp.timeout.min(metrics.export_timeout);
        let exporter = otlp::metric_exporter(&metrics.otlp, timeout)?;
        let ledger = Ledger::new("metrics", &metrics.otlp.endpoint);
        let reader = periodic(ReportedOnce::new(exporter, ledger.clone()), metrics);
        (builder.with_reader(reader), vec![ledger])
    } else {
        (builder, Vec::new())
    };
    #[cfg(not(feature = "otlp"))]
    let ledgers = Vec::new();
    #[cfg(feature = "prometheus")]
    let (builder, prometheus, exemplars) = if exporters.contains(&MetricsExporter::Prometheus) {
        let registry = prometheus::Registry::new();
        let reader = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .build()
            .map_err(|error| {
                ConfigError::new(format!("could not set up the Prometheus exporter: {error}"))
            })?;
        // Only the scrape endpoint shows exemplars: calls keep them for it alone.
        let kept = Arc::<Exemplars>::default();
        let endpoint = PrometheusEndpoint::serve(&metrics.prometheus, registry, kept.clone())?;
        let kept: Arc<dyn ExemplarSink> = kept;
        (builder.with_reader(reader), Some(endpoint), Some(kept))
    } else {
        (builder, None, None)
    };
    #[cfg(not(feature = "prometheus"))]
    let exemplars = None;
    Ok(Some(MetricsPipeline {
        provider: builder.build(),
        #[cfg(feature = "prometheus")]
        prometheus,
        exemplars,
        ledgers,
    }))
}

/// Whether this build has `exporter`.
fn compiled_in(exporter: MetricsExporter) -> bool {
    match exporter {
        MetricsExporter::Otlp => cfg!(feature = "otlp"),
        MetricsExporter::Prometheus => cfg!(feature = "prometheus"),
        MetricsExporter::Console => cfg!(feature = "console"),
    }
}

/// A reader pushing to `exporter` at the configured interval.
#[cfg(any(feature = "console", feature = "otlp"))]
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
