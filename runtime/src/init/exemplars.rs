//! The Prometheus endpoint's exemplars of the duration histograms: per series and bucket, the
//! latest sampled call's duration, trace and span, kept through the core's
//! [`ExemplarSink`] hook under the names the Prometheus exporter gives the series, so that
//! OpenMetrics scrapes can show them (the SDK's own exemplars never reach an exporter).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use crate::{ExemplarSeries, ExemplarSink, HistogramSeries};

/// Series with exemplars at most: both duration histograms of as many series as the SDK keeps
/// per instrument (2000).
const MAX_SERIES: usize = 4000;

/// One measurement of a sampled call, with the span it was made in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Exemplar {
    pub(super) value: f64,
    pub(super) trace_id: TraceId,
    pub(super) span_id: SpanId,
    pub(super) time: SystemTime,
}

/// The exemplars of every duration series, found by the name and labels a scrape shows.
#[derive(Debug, Default)]
pub(super) struct Exemplars {
    series: RwLock<HashMap<SeriesName, Arc<BucketExemplars>>>,
}

/// A series as Prometheus names it: the family, then its labels sorted by name.
type SeriesName = (String, Vec<(String, String)>);

/// The latest exemplar of each bucket of one histogram series.
#[derive(Debug)]
pub(super) struct BucketExemplars {
    bounds: &'static [f64],
    /// One per bound, then the `+Inf` bucket's.
    latest: Box<[Mutex<Option<Exemplar>>]>,
}

impl ExemplarSink for Exemplars {
    /// Keeps the buckets of `series` from now on, under the family name the Prometheus
    /// exporter gives its histogram and with its attribute keys made labels the same way;
    /// `None` past the series limit.
    fn series(&self, series: &HistogramSeries<'_>) -> Option<Arc<dyn ExemplarSeries>> {
        let labels = series
            .attributes
            .iter()
            .map(|attribute| {
                (
                    prometheus_name(attribute.key.as_str()),
                    attribute.value.as_str().into_owned(),
                )
            })
            .collect();
        let key = (family(series.name, series.unit), sorted(labels));
        let mut all = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(buckets) = all.get(&key) {
            return Some(buckets.clone());
        }
        if all.len() >= MAX_SERIES {
            return None;
        }
        let buckets = Arc::new(BucketExemplars {
            bounds: series.boundaries,
            latest: (0..=series.boundaries.len())
                .map(|_| Mutex::new(None))
                .collect(),
        });
        all.insert(key, buckets.clone());
        Some(buckets)
    }
}

/// The name the Prometheus exporter gives a histogram: dots and other characters as `_`, then
/// the unit's word (`ms` and `s` are the units of the duration histograms).
fn family(name: &str, unit: &str) -> String {
    let unit = match unit {
        "ms" => "_milliseconds",
        "s" => "_seconds",
        _ => "",
    };
    format!("{}{unit}", prometheus_name(name))
}

/// An OpenTelemetry name as a Prometheus name or label: other characters than ASCII letters,
/// digits and `_` become `_`.
fn prometheus_name(name: &str) -> String {
    name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
}

impl Exemplars {
    /// The buckets of the series `family`{`labels`}, if it has exemplars; labels the
    /// exporter adds to every series (`otel_scope_*`) are ignored.
    pub(super) fn find<'a>(
        &self,
        family: &str,
        labels: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Option<Arc<BucketExemplars>> {
        let labels = labels
            .filter(|(name, _)| !name.starts_with("otel_scope_"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let key = (family.to_owned(), sorted(labels));
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        series.get(&key).cloned()
    }
}

fn sorted(mut labels: Vec<(String, String)>) -> Vec<(String, String)> {
    labels.sort();
    labels
}

impl ExemplarSeries for BucketExemplars {
    /// Makes the measurement the latest exemplar of the bucket its value falls in (upper
    /// bounds inclusive, as the SDK counts them).
    fn record(&self, value: f64, trace_id: TraceId, span_id: SpanId) {
        self.keep(Exemplar {
            value,
            trace_id,
            span_id,
            time: SystemTime::now(),
        });
    }
}

impl BucketExemplars {
    /// Makes `exemplar` the latest of the bucket its value falls in.
    pub(super) fn keep(&self, exemplar: Exemplar) {
        let bucket = self.bounds.partition_point(|bound| *bound < exemplar.value);
        *self.latest[bucket]
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(exemplar);
    }

    /// The latest exemplar of the bucket whose upper bound is `le` (`+Inf` for the last).
    pub(super) fn latest(&self, le: f64) -> Option<Exemplar> {
        let bucket = if le == f64::INFINITY {
            self.bounds.len()
        } else {
            self.bounds.iter().position(|bound| *bound == le)?
        };
        *self.latest[bucket]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;

    /// The value and span of the latest exemplar of the bucket `le`.
    fn latest(buckets: &BucketExemplars, le: f64) -> Option<(f64, SpanId)> {
        buckets
            .latest(le)
            .map(|exemplar| (exemplar.value, exemplar.span_id))
    }

    #[test]
    fn each_bucket_keeps_its_latest_exemplar_under_the_prometheus_name() {
        let exemplars = Exemplars::default();
        let attributes = [
            KeyValue::new("rpc.method", "Get"),
            KeyValue::new("rpc.grpc.status_code", 0),
        ];
        let series = exemplars
            .series(&HistogramSeries {
                name: "rpc.server.duration",
                unit: "ms",
                boundaries: &[1.0, 5.0],
                attributes: &attributes,
            })
            .unwrap();
        let trace = TraceId::from(7);
        for (value, span) in [(0.5, 1), (1.0, 2), (3.0, 3), (9.0, 4)] {
            series.record(value, trace, SpanId::from(span));
        }

        let scraped = [
            ("rpc_method", "Get"),
            ("otel_scope_name", "tonic-traced"),
            ("rpc_grpc_status_code", "0"),
        ];
        let found = exemplars
            .find("rpc_server_duration_milliseconds", scraped.into_iter())
            .expect("the series, whatever the order of its labels");
        // Upper bounds are inclusive.
        assert_eq!(latest(&found, 1.0), Some((1.0, SpanId::from(2))));
        assert_eq!(latest(&found, 5.0), Some((3.0, SpanId::from(3))));
        assert_eq!(latest(&found, f64::INFINITY), Some((9.0, SpanId::from(4))));
        assert_eq!(latest(&found, 2.0), None, "no such bucket");
        assert!(exemplars
            .find(
                "rpc_server_duration_milliseconds",
                scraped[..2].iter().copied()
            )
            .is_none());
        assert!(exemplars
            .find("rpc_client_duration_milliseconds", scraped.into_iter())
            .is_none());
    }
}
