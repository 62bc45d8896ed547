//! The fast path of W3C Trace Context: when it is the only propagation format and the sampler
//! is parent-based, a lone `traceparent` says all there is to know about the caller, so the
//! remote context is built straight from it, without the propagator; and when it says the
//! caller did not sample, no span is started at all.

use http::{HeaderMap, HeaderName};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use crate::propagation::parse_traceparent;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The caller's context when the request carries exactly one valid `traceparent` and nothing
/// else to propagate (no `tracestate`, no `baggage`): what the W3C propagator would extract,
/// without its work. Only for a configuration that declared W3C propagation with
/// parent-based sampling.
pub(crate) fn w3c_remote_context(headers: &HeaderMap) -> Option<Context> {
    if headers.contains_key(TRACESTATE) || headers.contains_key(BAGGAGE) {
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
        // Only the sampled bit is defined; the propagator keeps no other either.
        TraceFlags::new(parent.flags) & TraceFlags::SAMPLED,
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

    #[test]
    fn flags_other_than_sampled_are_dropped_as_the_propagator_drops_them() {
        use opentelemetry::propagation::TextMapPropagator;
        use opentelemetry_sdk::propagation::TraceContextPropagator;
        use std::collections::HashMap;

        for flags in ["00", "01", "02", "03", "fe", "ff"] {
            let traceparent =
                format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
            let mut fast = HeaderMap::new();
            fast.insert(TRACEPARENT, traceparent.parse().unwrap());
            let fast = w3c_remote_context(&fast).unwrap();
            let carrier = HashMap::from([("traceparent".to_owned(), traceparent)]);
            let slow = TraceContextPropagator::new().extract(&carrier);
            assert_eq!(
                fast.span().span_context(),
                slow.span().span_context(),
                "flags {flags}"
            );
            assert!(fast.span().span_context().trace_flags().to_u8() <= 1);
        }
    }
}
