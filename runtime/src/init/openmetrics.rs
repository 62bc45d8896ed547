//! The OpenMetrics 1.0 text format of what the Prometheus registry gathered, with exemplars on
//! the duration buckets: what `/metrics` answers a scraper that accepts it (Prometheus does),
//! as the Prometheus text format has no place for exemplars.

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use prometheus::proto::{Metric, MetricFamily, MetricType};

use super::exemplars::{Exemplar, Exemplars};

/// The media type of [`encode`]'s output.
pub(super) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `families` in the OpenMetrics text format, each histogram bucket with its latest exemplar
/// from `exemplars`, if it has one. The OpenTelemetry exporter makes counters, gauges and
/// histograms only; families of other types are left out.
pub(super) fn encode(families: &[MetricFamily], exemplars: &Exemplars) -> String {
    let mut text = String::new();
    for family in families {
        let name = family.name();
        let (name, kind) = match family.get_field_type() {
            // The family is named without the suffix its samples have.
            MetricType::COUNTER => (name.strip_suffix("_total").unwrap_or(name), "counter"),
            MetricType::GAUGE => (name, "gauge"),
            MetricType::HISTOGRAM => (name, "histogram"),
            MetricType::SUMMARY | MetricType::UNTYPED => continue,
        };
        let _ = writeln!(text, "# TYPE {name} {kind}");
        if !family.help().is_empty() {
            let _ = writeln!(text, "# HELP {name} {}", escaped(family.help()));
        }
        for metric in family.get_metric() {
            match family.get_field_type() {
                MetricType::COUNTER => {
                    sample(&mut text, name, "_total", metric, None);
                    let _ = writeln!(text, " {}", number(metric.get_counter().get_value()));
                }
                MetricType::HISTOGRAM => histogram(&mut text, name, metric, exemplars),
                // A gauge: the other types were left out above.
                _ => {
                    sample(&mut text, name, "", metric, None);
                    let _ = writeln!(text, " {}", number(metric.get_gauge().get_value()));
                }
            }
        }
    }
    text.push_str("# EOF\n");
    text
}

/// The buckets (up to `+Inf`, which the registry may leave implicit), count and sum of one
/// histogram series.
fn histogram(text: &mut String, name: &str, metric: &Metric, exemplars: &Exemplars) {
    let labels = metric
        .get_label()
        .iter()
        .map(|label| (label.name(), label.value()));
    let series = exemplars.find(name, labels);
    let histogram = metric.get_histogram();
    let mut buckets: Vec<(f64, u64)> = histogram
        .get_bucket()
        .iter()
        .map(|bucket| (bucket.upper_bound(), bucket.cumulative_count()))
        .collect();
    if buckets.last().is_none_or(|(le, _)| *le != f64::INFINITY) {
        buckets.push((f64::INFINITY, histogram.get_sample_count()));
    }
    for (le, count) in buckets {
        sample(text, name, "_bucket", metric, Some(&number(le)));
        let _ = write!(text, " {count}");
        if let Some(exemplar) = series.as_ref().and_then(|series| series.latest(le)) {
            write_exemplar(text, &exemplar);
        }
        text.push('\n');
    }
    sample(text, name, "_count", metric, None);
    let _ = writeln!(text, " {}", histogram.get_sample_count());
    sample(text, name, "_sum", metric, None);
    let _ = writeln!(text, " {}", number(histogram.get_sample_sum()));
}

/// ` # {trace_id="…",span_id="…"} value timestamp`: 63 characters of label names and values,
/// within the 128 the format allows an exemplar.
fn write_exemplar(text: &mut String, exemplar: &Exemplar) {
    let seconds = exemplar
        .time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let _ = write!(
        text,
        " # {{trace_id=\"{}\",span_id=\"{}\"}} {} {seconds:.3}",
        exemplar.trace_id,
        exemplar.span_id,
        number(exemplar.value),
    );
}

/// A sample's name and labels, `le` last if given.
fn sample(text: &mut String, name: &str, suffix: &str, metric: &Metric, le: Option<&str>) {
    text.push_str(name);
    text.push_str(suffix);
    let labels = metric
        .get_label()
        .iter()
        .map(|label| (label.name(), escaped(label.value())));
    let le = le.map(|le| ("le", le.to_owned()));
    let mut separator = '{';
    for (label, value) in labels.chain(le) {
        let _ = write!(text, "{separator}{label}=\"{value}\"");
        separator = ',';
    }
    if separator == ',' {
        text.push('}');
    }
}

/// A label value or help text with `\`, `"` and line feeds escaped.
fn escaped(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// A number as OpenMetrics writes it: `+Inf`, `-Inf`, `NaN`, or with a fraction even when
/// whole (`1.0`, the canonical form `le` must have).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if value.fract() == 0.0 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use opentelemetry::trace::{SpanId, TraceId};
    use opentelemetry::KeyValue;
    use prometheus::proto::{Bucket, Counter, Gauge, Histogram, LabelPair};

    use super::*;
    use crate::{ExemplarSink, HistogramSeries};

    fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
        pairs
            .iter()
            .map(|(name, value)| {
                let mut label = LabelPair::default();
                label.set_name((*name).to_owned());
                label.set_value((*value).to_owned());
                label
            })
            .collect()
    }

    fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
        let mut family = MetricFamily::default();
        family.set_name(name.to_owned());
        family.set_help(help.to_owned());
        family.set_field_type(kind);
        family.set_metric(metrics);
        family
    }

    fn duration_histogram(method: &str, buckets: &[(f64, u64)], count: u64, sum: f64) -> Metric {
        let mut histogram = Histogram::default();
        histogram.set_bucket(
            buckets
                .iter()
                .map(|(le, count)| {
                    let mut bucket = Bucket::default();
                    bucket.set_upper_bound(*le);
                    bucket.set_cumulative_count(*count);
                    bucket
                })
                .collect(),
        );
        histogram.set_sample_count(count);
        histogram.set_sample_sum(sum);
        let mut metric = Metric::from_label(labels(&[
            ("rpc_method", method),
            ("otel_scope_name", "tonic-traced"),
        ]));
        metric.set_histogram(histogram);
        metric
    }

    #[test]
    fn families_with_exemplars_on_the_buckets_of_sampled_calls() {
        const BOUNDS: [f64; 2] = [5.0, 10.0];
        let exemplars = Exemplars::default();
        exemplars.series(&HistogramSeries {
            name: "rpc.server.duration",
            unit: "ms",
            boundaries: &BOUNDS,
            attributes: &[KeyValue::new("rpc.method", "Get")],
        });
        let get = exemplars
            .find(
                "rpc_server_duration_milliseconds",
                [("rpc_method", "Get")].into_iter(),
            )
            .unwrap();
        get.keep(Exemplar {
            value: 7.25,
            trace_id: TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736),
            span_id: SpanId::from(0x00f067aa0ba902b7),
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        });

        let mut counter = Counter::default();
        counter.set_value(3.0);
        let mut requests = Metric::from_label(labels(&[("path", "a\\b \"c\"\nd")]));
        requests.set_counter(counter);
        let mut gauge = Gauge::default();
        gauge.set_value(1.0);
        let families = [
            family(
                "requests_total",
                "Requests, \"all\" of them.\nReally.",
                MetricType::COUNTER,
                vec![requests],
            ),
            family(
                "target_info",
                "Target metadata",
                MetricType::GAUGE,
                vec![Metric::from_gauge(gauge)],
            ),
            family(
                "rpc_server_duration_milliseconds",
                "",
                MetricType::HISTOGRAM,
                vec![
                    duration_histogram("Get", &[(5.0, 1), (10.0, 2)], 3, 30.5),
                    duration_histogram("Put", &[(5.0, 0), (10.0, 0), (f64::INFINITY, 0)], 0, 0.0),
                ],
            ),
        ];

        assert_eq!(
            encode(&families, &exemplars),
            r#"# TYPE requests counter
# HELP requests Requests, \"all\" of them.\nReally.
requests_total{path="a\\b \"c\"\nd"} 3.0
# TYPE target_info gauge
# HELP target_info Target metadata
target_info 1.0
# TYPE rpc_server_duration_milliseconds histogram
rpc_server_duration_milliseconds_bucket{rpc_method="Get",otel_scope_name="tonic-traced",le="5.0"} 1
rpc_server_duration_milliseconds_bucket{rpc_method="Get",otel_scope_name="tonic-traced",le="10.0"} 2 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 7.25 1700000000.123
rpc_server_duration_milliseconds_bucket{rpc_method="Get",otel_scope_name="tonic-traced",le="+Inf"} 3
rpc_server_duration_milliseconds_count{rpc_method="Get",otel_scope_name="tonic-traced"} 3
rpc_server_duration_milliseconds_sum{rpc_method="Get",otel_scope_name="tonic-traced"} 30.5
rpc_server_duration_milliseconds_bucket{rpc_method="Put",otel_scope_name="tonic-traced",le="5.0"} 0
rpc_server_duration_milliseconds_bucket{rpc_method="Put",otel_scope_name="tonic-traced",le="10.0"} 0
rpc_server_duration_milliseconds_bucket{rpc_method="Put",otel_scope_name="tonic-traced",le="+Inf"} 0
rpc_server_duration_milliseconds_count{rpc_method="Put",otel_scope_name="tonic-traced"} 0
rpc_server_duration_milliseconds_sum{rpc_method="Put",otel_scope_name="tonic-traced"} 0.0
# EOF
"#
        );
    }

    #[test]
    fn numbers_in_canonical_form() {
        assert_eq!(number(0.0), "0.0");
        assert_eq!(number(2500.0), "2500.0");
        assert_eq!(number(0.005), "0.005");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
