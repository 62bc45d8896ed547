//! The hook through which sampled calls leave exemplars of their durations: the trace and
//! span a measurement was made in, so a latency bucket links to a trace. The SDK keeps its own
//! exemplars from exporters (opentelemetry_sdk 0.33), so an endpoint that shows them, as
//! `init()`'s Prometheus endpoint does, keeps its own through this hook.

use std::fmt;
use std::sync::Arc;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::KeyValue;

/// Receives the duration series of the RPC metrics; see
/// [`Config::exemplars`](crate::Config::exemplars).
pub trait ExemplarSink: Send + Sync + fmt::Debug {
    /// Called once per duration histogram series, when its first call is recorded: where the
    /// sampled measurements of `series` go, or `None` to keep none of them.
    fn series(&self, series: &HistogramSeries<'_>) -> Option<Arc<dyn ExemplarSeries>>;
}

/// Receives the sampled measurements of one histogram series.
pub trait ExemplarSeries: Send + Sync + fmt::Debug {
    /// A sampled call measured `value` (in the histogram's unit) in span `span_id` of trace
    /// `trace_id`.
    fn record(&self, value: f64, trace_id: TraceId, span_id: SpanId);
}

/// One series of a duration histogram, as the SDK records it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct HistogramSeries<'a> {
    /// The instrument's name, as created (`rpc.server.duration`, `rpc.client.call.duration`).
    pub name: &'a str,
    /// The instrument's unit (`ms`, `s`).
    pub unit: &'static str,
    /// The upper bounds of its buckets, the last bucket (`+Inf`) left out.
    pub boundaries: &'static [f64],
    /// The series' attributes.
    pub attributes: &'a [KeyValue],
}
