//! The fast path of W3C Trace Context: when it is the only propagation format and the sampler
//! is parent-based, a lone `traceparent` says all there is to know about the caller, so the
//! remote context is built straight from it, without the propagator; and when it says the
//! caller did not sample, no span is started at all.

use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderMap, HeaderName};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use crate::propagation::parse_traceparent;

static ASSUMED: AtomicBool = AtomicBool::new(false);

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// Declares that the global propagator is W3C Trace Context (with or without Baggage) and the
/// sampler is parent-based, as `init()` sets them up by default. A lone valid `traceparent`
/// is then read without the propagator; calls it marks unsampled start no span and run in the
/// caller's unsampled context, which outgoing calls pass on.
pub fn assume_w3c_parent_based_sampling() {
    ASSUMED.store(true, Ordering::Relaxed);
}

/// Whether [`assume_w3c_parent_based_sampling`] was declared.
pub(crate) fn w3c_parent_based() -> bool {
    ASSUMED.load(Ordering::Relaxed)
}

/// The caller's context when the request carries exactly one valid `traceparent` and nothing
/// else to propagate (no `tracestate`, no `baggage`), and the setup allows it: what the
/// propagator would extract, without its work.
pub(crate) fn w3c_remote_context(headers: &HeaderMap) -> Option<Context> {
    if !w3c_parent_based() || headers.contains_key(TRACESTATE) || headers.contains_key(BAGGAGE) {
        return None;
    }
    let mut values = headers.get_all(TRACEPARENT).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let parent = parse_traceparent(value)?;
    let remote = SpanContext::new(
        TraceId::from(parent.trace_id),
        SpanId::from(parent.span_id),
        TraceFlags::new(parent.flags),
        true,
        TraceState::NONE,
    );
    Some(Context::new().with_remote_span_context(remote))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_a_lone_valid_traceparent_takes_the_fast_path() {
        assume_w3c_parent_based_sampling();
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let cx = w3c_remote_context(&headers(&[("traceparent", unsampled)])).unwrap();
        let span = cx.span();
        let context = span.span_context();
        assert_eq!(
            context.trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(
            context.span_id(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap()
        );
        assert!(context.is_remote() && !context.is_sampled());
        assert!(!span.is_recording());

        let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cx = w3c_remote_context(&headers(&[("traceparent", sampled)])).unwrap();
        let context = cx.span().span_context().clone();
        assert!(context.is_remote() && context.is_sampled());

        for slow in [
            headers(&[("traceparent", unsampled), ("tracestate", "a=b")]),
            headers(&[("traceparent", unsampled), ("baggage", "k=v")]),
            headers(&[("traceparent", unsampled), ("traceparent", unsampled)]),
            headers(&[("traceparent", "00-zz-00f067aa0ba902b7-00")]),
            headers(&[]),
        ] {
            assert!(w3c_remote_context(&slow).is_none(), "{slow:?}");
        }
    }
}
