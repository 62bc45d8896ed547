//! Exemplars of the duration histograms: per series and bucket, the latest sampled call's
//! duration, trace and span. Kept only for the Prometheus endpoint, whose OpenMetrics scrapes
//! carry them so a latency bucket links to a trace; the SDK's own exemplars never reach an
//! exporter (opentelemetry_sdk 0.33 keeps them to itself).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::KeyValue;

/// Series with exemplars at most: both duration histograms of every series kept bound.
const MAX_SERIES: usize = 2 * super::instruments::MAX_BOUND_SERIES;

/// One measurement of a sampled call, with the span it was made in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) value: f64,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) time: SystemTime,
}

/// The exemplars of every duration series, found by the name and labels a scrape shows.
#[derive(Debug, Default)]
pub(crate) struct Exemplars {
    series: RwLock<HashMap<SeriesName, Arc<BucketExemplars>>>,
}

/// A series as Prometheus names it: the family, then its labels sorted by name.
type SeriesName = (String, Vec<(String, String)>);

/// The latest exemplar of each bucket of one histogram series.
#[derive(Debug)]
pub(crate) struct BucketExemplars {
    bounds: &'static [f64],
    /// One per bound, then the `+Inf` bucket's.
    latest: Box<[Mutex<Option<Exemplar>>]>,
}

impl Exemplars {
    /// The buckets of the series `family`{`attributes`} of a histogram with `bounds`, kept
    /// from now on; `None` past the series limit. `family` is the name the Prometheus
    /// exporter gives the histogram; attribute keys become labels as it makes them.
    pub(crate) fn register(
        &self,
        family: String,
        attributes: &[KeyValue],
        bounds: &'static [f64],
    ) -> Option<Arc<BucketExemplars>> {
        let labels = attributes
            .iter()
            .map(|attribute| {
                let name = attribute
                    .key
                    .as_str()
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
                (name, attribute.value.as_str().into_owned())
            })
            .collect();
        let key = (family, sorted(labels));
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(buckets) = series.get(&key) {
            return Some(buckets.clone());
        }
        if series.len() >= MAX_SERIES {
            return None;
        }
        let buckets = Arc::new(BucketExemplars {
            bounds,
            latest: (0..=bounds.len()).map(|_| Mutex::new(None)).collect(),
        });
        series.insert(key, buckets.clone());
        Some(buckets)
    }

    /// The buckets of the series `family`{`labels`}, if it has exemplars; labels the
    /// exporter adds to every series (`otel_scope_*`) are ignored.
    #[cfg(feature = "prometheus")]
    pub(crate) fn series<'a>(
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

impl BucketExemplars {
    /// Makes `exemplar` the latest of the bucket its value falls in (upper bounds inclusive,
    /// as the SDK counts them).
    pub(crate) fn record(&self, exemplar: Exemplar) {
        let bucket = self.bounds.partition_point(|bound| *bound < exemplar.value);
        *self.latest[bucket]
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(exemplar);
    }

    /// The latest exemplar of the bucket whose upper bound is `le` (`+Inf` for the last).
    #[cfg(feature = "prometheus")]
    pub(crate) fn latest(&self, le: f64) -> Option<Exemplar> {
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

#[cfg(all(test, feature = "prometheus"))]
mod tests {
    use super::*;

    fn exemplar(value: f64, span: u64) -> Exemplar {
        Exemplar {
            value,
            trace_id: TraceId::from(7),
            span_id: SpanId::from(span),
            time: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn each_bucket_keeps_its_latest_exemplar() {
        let exemplars = Exemplars::default();
        let attributes = [
            KeyValue::new("rpc.method", "Get"),
            KeyValue::new("rpc.grpc.status_code", 0),
        ];
        let buckets = exemplars
            .register(
                "rpc_server_duration_milliseconds".to_owned(),
                &attributes,
                &[1.0, 5.0],
            )
            .unwrap();
        buckets.record(exemplar(0.5, 1));
        buckets.record(exemplar(1.0, 2)); // upper bound inclusive
        buckets.record(exemplar(3.0, 3));
        buckets.record(exemplar(9.0, 4));

        let scraped = [
            ("rpc_method", "Get"),
            ("otel_scope_name", "tonic-traced"),
            ("rpc_grpc_status_code", "0"),
        ];
        let found = exemplars
            .series("rpc_server_duration_milliseconds", scraped.into_iter())
            .expect("the series, whatever the order of its labels");
        assert_eq!(found.latest(1.0), Some(exemplar(1.0, 2)));
        assert_eq!(found.latest(5.0), Some(exemplar(3.0, 3)));
        assert_eq!(found.latest(f64::INFINITY), Some(exemplar(9.0, 4)));
        assert_eq!(found.latest(2.0), None, "no such bucket");
        assert!(exemplars
            .series(
                "rpc_server_duration_milliseconds",
                scraped[..2].iter().copied()
            )
            .is_none());
        assert!(exemplars
            .series("rpc_client_duration_milliseconds", scraped.into_iter())
            .is_none());
    }
}
