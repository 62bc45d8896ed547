//! The console metric exporter: at each export (every `OTEL_METRIC_EXPORT_INTERVAL` and at
//! shutdown), one line per data point, e.g.
//!
//! ```text
//! metrics · payment-server
//!   rpc.server.duration (ms) rpc.service=payment.PaymentService rpc.method=ProcessPayment rpc.grpc.status_code=0 · count 3 · sum 12.4 · min 1.1 · max 8.9
//! ```

use std::fmt::{self, Display, Write as _};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;

/// Prints cumulative metrics as plain text lines on standard output.
pub(super) struct ConsoleMetricExporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl ConsoleMetricExporter {
    pub(super) fn new() -> Self {
        ConsoleMetricExporter {
            out: Mutex::new(Box::new(std::io::stdout())),
        }
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
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
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

/// The text of one export: a header naming the service, then a line per data point; empty
/// when nothing was measured.
fn render(metrics: &ResourceMetrics) -> String {
    let mut lines = String::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            match metric.data() {
                AggregatedMetrics::F64(data) => data_lines(&mut lines, metric, data),
                AggregatedMetrics::U64(data) => data_lines(&mut lines, metric, data),
                AggregatedMetrics::I64(data) => data_lines(&mut lines, metric, data),
            }
        }
    }
    if lines.is_empty() {
        return lines;
    }
    let service = metrics
        .resource()
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .map(|name| name.to_string())
        .unwrap_or_else(|| "unknown_service".to_owned());
    format!("\nmetrics · {service}\n{lines}")
}

fn data_lines<T: Display + Copy>(lines: &mut String, metric: &Metric, data: &MetricData<T>) {
    let name = match metric.unit() {
        "" => metric.name().to_owned(),
        unit => format!("{} ({unit})", metric.name()),
    };
    let mut line = |attributes: &mut dyn Iterator<Item = &KeyValue>, values: String| {
        let _ = writeln!(lines, "  {name}{} · {values}", labels(attributes));
    };
    match data {
        MetricData::Histogram(histogram) => {
            for point in histogram.data_points() {
                let mut values = format!("count {} · sum {:.2}", point.count(), point.sum());
                if let (Some(min), Some(max)) = (point.min(), point.max()) {
                    let _ = write!(values, " · min {min:.2} · max {max:.2}");
                }
                line(&mut point.attributes(), values);
            }
        }
        MetricData::Sum(sum) => {
            for point in sum.data_points() {
                line(&mut point.attributes(), format!("{:.2}", point.value()));
            }
        }
        MetricData::Gauge(gauge) => {
            for point in gauge.data_points() {
                line(&mut point.attributes(), format!("{:.2}", point.value()));
            }
        }
        MetricData::ExponentialHistogram(histogram) => {
            for point in histogram.data_points() {
                let values = format!("count {} · sum {:.2}", point.count(), point.sum());
                line(&mut point.attributes(), values);
            }
        }
    }
}

fn labels(attributes: &mut dyn Iterator<Item = &KeyValue>) -> String {
    attributes.fold(String::new(), |mut text, attribute| {
        let _ = write!(text, " {}={}", attribute.key, attribute.value);
        text
    })
}
