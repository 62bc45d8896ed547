//! The console metric exporter: at each export (every `OTEL_METRIC_EXPORT_INTERVAL` and at
//! shutdown), where the console output goes, a table of the RPCs by side, method and status,
//! then any other metric one line per data point:
//!
//! ```text
//! metrics · payment-server
//!   server  payment.PaymentService/ProcessPayment  OK           2 calls  avg 150.95 ms  max 301.47 ms  request 24 B  response 19 B
//!   jobs.queued{queue=payments} · 3.00
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
    for scope in metrics.scope_metrics() {
        if scope.scope().name() == SCOPE_NAME {
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
    if lines.is_empty() {
        return String::new();
    }
    let service = metrics
        .resource()
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .map_or_else(|| "unknown_service".to_owned(), |name| name.to_string());
    format!("\nmetrics · {service}\n{}\n", lines.join("\n"))
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
