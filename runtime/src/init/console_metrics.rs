//! The console metric exporter: at each export (every `OTEL_METRIC_EXPORT_INTERVAL` and at
//! shutdown), where the console output goes, a table of the RPCs by side, method and status,
//! then any other metric one line per data point, then the spans the SDK dropped before export,
//! if any (the SDK's other metrics of itself are left out):
//!
//! ```text
//! metrics · payment-server
//!   server  payment.PaymentService/ProcessPayment  OK           2 calls  avg 150.95 ms  max 301.47 ms  request 24 B  response 19 B
//!   jobs.queued{queue=payments} · 3.00
//!   spans dropped before export: 120 (the batch queue was full: …)
//! ```

use std::collections::BTreeMap;
use std::fmt::{self, Display};
use std::time::Duration;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, HistogramDataPoint, Metric, MetricData, ResourceMetrics,
};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;

use super::config::{ConfigError, ConsoleOutput};
use super::console::ConsoleWriter;
use crate::status::code_name;
use crate::tracer::SCOPE_NAME;

/// The instrumentation scope of the SDK's own metrics.
const SDK_SCOPE_NAME: &str = "otel.sdk";
/// The SDK's count of the spans its processors finished with, exported or dropped.
const SPANS_PROCESSED: &str = "otel.sdk.processor.span.processed";

/// Prints cumulative metrics as plain text where the console output goes.
pub(super) struct ConsoleMetricExporter {
    out: ConsoleWriter,
}

impl ConsoleMetricExporter {
    /// Prints where `output` says; fails when its file cannot be opened for appending.
    /// Coloured on a terminal unless `no_color`.
    pub(super) fn to(output: &ConsoleOutput, no_color: bool) -> Result<Self, ConfigError> {
        Ok(ConsoleMetricExporter {
            out: ConsoleWriter::open(output, no_color)?,
        })
    }
}

impl fmt::Debug for ConsoleMetricExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsoleMetricExporter")
    }
}

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let text = render(metrics);
        if text.is_empty() {
            return Ok(());
        }
        self.out
            .write_block(&text)
            .map_err(|error| OTelSdkError::InternalFailure(format!("console metrics: {error}")))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The text of one export, empty when nothing was measured.
fn render(metrics: &ResourceMetrics) -> String {
    let mut lines = Vec::new();
    let mut dropped_spans = 0;
    for scope in metrics.scope_metrics() {
        if scope.scope().name() == SDK_SCOPE_NAME {
            dropped_spans += scope.metrics().map(spans_dropped).sum::<u64>();
        } else if scope.scope().name() == SCOPE_NAME {
            let by_name: BTreeMap<&str, &Metric> = scope.metrics().map(|m| (m.name(), m)).collect();
            lines.extend(rpc_lines(&by_name, "server"));
            lines.extend(rpc_lines(&by_name, "client"));
        } else {
            let mut others = Vec::new();
            for metric in scope.metrics() {
                match metric.data() {
                    AggregatedMetrics::F64(data) => point_lines(&mut others, metric, data),
                    AggregatedMetrics::U64(data) => point_lines(&mut others, metric, data),
                    AggregatedMetrics::I64(data) => point_lines(&mut others, metric, data),
                }
            }
            others.sort();
            lines.extend(others);
        }
    }
    if dropped_spans > 0 {
        lines.push(format!(
            "  spans dropped before export: {dropped_spans} (the batch queue was full: raise \
             OTEL_BSP_MAX_QUEUE_SIZE, or see why the collector does not keep up)"
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let service = metrics
        .resource()
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .map_or_else(|| "unknown_service".to_owned(), |name| name.to_string());
    format!("\nmetrics · {service}\n{}\n", lines.join("\n"))
}

/// The spans a batch span processor dropped from its full queue, from the SDK's
/// `otel.sdk.processor.span.processed` (its points with `error.type` = `queue_full`); 0 for
/// any other metric.
fn spans_dropped(metric: &Metric) -> u64 {
    if metric.name() != SPANS_PROCESSED {
        return 0;
    }
    let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() else {
        return 0;
    };
    sum.data_points()
        .filter(|point| {
            point.attributes().any(|attribute| {
                attribute.key.as_str() == "error.type" && attribute.value.as_str() == "queue_full"
            })
        })
        .map(|point| point.value())
        .sum()
}

/// One line per method and status of one side, from its duration histogram (the old
/// conventions' when both are there) and the byte histograms with the same attributes.
fn rpc_lines(metrics: &BTreeMap<&str, &Metric>, side: &str) -> Vec<String> {
    let (duration, to_ms) = match metrics.get(format!("rpc.{side}.duration").as_str()) {
        Some(metric) => (metric, 1.0),
        None => match metrics.get(format!("rpc.{side}.call.duration").as_str()) {
            Some(metric) => (metric, 1000.0),
            None => return Vec::new(),
        },
    };
    let bytes = |direction: &str, attributes: &[String]| {
        let metric = metrics.get(format!("rpc.{side}.{direction}.size").as_str())?;
        let AggregatedMetrics::U64(MetricData::Histogram(histogram)) = metric.data() else {
            return None;
        };
        let point = histogram
            .data_points()
            .find(|point| sorted(point.attributes()) == attributes)?;
        Some(format!(
            "  {direction} {} B",
            point.sum() / point.count().max(1)
        ))
    };
    let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = duration.data() else {
        return Vec::new();
    };
    let mut rows: Vec<(String, String, &HistogramDataPoint<f64>)> = histogram
        .data_points()
        .map(|point| {
            let (method, status) = call_labels(point.attributes());
            (method, status, point)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
    rows.into_iter()
        .map(|(method, status, point)| {
            let calls = point.count();
            let attributes = sorted(point.attributes());
            format!(
                "  {side:<6}  {method:<width$}  {status:<18} {calls:>5} {}  avg {:>8.2} ms  max {:>8.2} ms{}{}",
                if calls == 1 { "call " } else { "calls" },
                point.sum() * to_ms / calls.max(1) as f64,
                point.max().unwrap_or_default() * to_ms,
                bytes("request", &attributes).unwrap_or_default(),
                bytes("response", &attributes).unwrap_or_default(),
            )
        })
        .collect()
}

/// `service/method` and the status name, from either convention's attributes.
fn call_labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> (String, String) {
    let (mut service, mut method, mut status) = (None, String::new(), String::new());
    for attribute in attributes {
        match (attribute.key.as_str(), &attribute.value) {
            ("rpc.service", value) => service = Some(value.to_string()),
            ("rpc.method", value) => method = value.to_string(),
            ("rpc.grpc.status_code", Value::I64(code)) => {
                status = code_name(tonic::Code::from(*code as i32)).to_owned();
            }
            ("rpc.status_code", value) => status = value.to_string(),
            _ => {}
        }
    }
    match service {
        Some(service) => (format!("{service}/{method}"), status),
        None => (method, status),
    }
}

fn sorted<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Vec<String> {
    let mut pairs: Vec<String> = attributes
        .map(|attribute| format!("{}={}", attribute.key, attribute.value))
        .collect();
    pairs.sort();
    pairs
}

/// A line per data point of a metric from another scope, e.g. the application's own.
fn point_lines<T: Display + Copy>(lines: &mut Vec<String>, metric: &Metric, data: &MetricData<T>) {
    let mut line = |attributes: Vec<String>, values: String| {
        lines.push(format!(
            "  {}{{{}}} · {values}",
            metric.name(),
            attributes.join(",")
        ));
    };
    match data {
        MetricData::Histogram(histogram) => {
            for point in histogram.data_points() {
                let values = format!("count {} · sum {:.2}", point.count(), point.sum());
                line(sorted(point.attributes()), values);
            }
        }
        MetricData::ExponentialHistogram(histogram) => {
            for point in histogram.data_points() {
                let values = format!("count {} · sum {:.2}", point.count(), point.sum());
                line(sorted(point.attributes()), values);
            }
        }
        MetricData::Sum(sum) => {
            for point in sum.data_points() {
                line(sorted(point.attributes()), format!("{:.2}", point.value()));
            }
        }
        MetricData::Gauge(gauge) => {
            for point in gauge.data_points() {
                line(sorted(point.attributes()), format!("{:.2}", point.value()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::*;

    /// What the console prints once the SDK's span counter, recorded under its own scope and
    /// attributes, has counted `exported` spans exported and `dropped` dropped.
    fn rendered(exported: u64, dropped: u64) -> String {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let counter = provider
            .meter(SDK_SCOPE_NAME)
            .u64_counter(SPANS_PROCESSED)
            .build();
        let component = [
            KeyValue::new("otel.component.type", "batching_span_processor"),
            KeyValue::new("otel.component.name", "batching_span_processor/0"),
        ];
        counter.add(exported, &component);
        let mut dropped_attributes = component.to_vec();
        dropped_attributes.push(KeyValue::new("error.type", "queue_full"));
        if dropped > 0 {
            counter.add(dropped, &dropped_attributes);
        }
        provider.force_flush().unwrap();
        let metrics = exporter.get_finished_metrics().unwrap();
        render(metrics.last().expect("an export"))
    }

    #[test]
    fn spans_dropped_from_a_full_queue_are_a_line_of_their_own() {
        let text = rendered(250, 17);
        assert!(
            text.contains("\n  spans dropped before export: 17 (the batch queue was full: raise OTEL_BSP_MAX_QUEUE_SIZE"),
            "{text}"
        );
        assert!(!text.contains(SPANS_PROCESSED), "{text}");
    }

    #[test]
    fn spans_all_exported_print_nothing() {
        assert_eq!(rendered(250, 0), "");
    }
}
