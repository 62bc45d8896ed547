//! The fast path of W3C Trace Context: when it is the only propagation format and the sampler
//! is parent-based, a lone `traceparent` says all there is to know about the caller, so the
//! remote context is built straight from it, without the propagator; and when it says the
//! caller did not sample, no span is started at all.

use http::HeaderValue;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use crate::propagation::{parse_traceparent, TRACEPARENT_LENGTH};

/// The caller's context from `traceparent`, when it is valid and the request's only
/// propagation header (one `traceparent`, no `tracestate`, no `baggage`; see
/// `server::headers`): what the W3C propagator would extract, without its work. Only for a
/// configuration that declared W3C propagation with parent-based sampling.
pub(crate) fn w3c_remote_context(traceparent: &HeaderValue) -> Option<Context> {
    // The parser checks every byte it reads; past them (a later version's fields), the value
    // must still be text, as the propagator asks of it.
    if traceparent.len() > TRACEPARENT_LENGTH && traceparent.to_str().is_err() {
        return None;
    }
    let parent = parse_traceparent(traceparent.as_bytes())?;
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

    fn remote(traceparent: &[u8]) -> Option<Context> {
        w3c_remote_context(&HeaderValue::from_bytes(traceparent).unwrap())
    }

    #[test]
    fn a_valid_traceparent_is_the_remote_parent() {
        let unsampled = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let cx = remote(unsampled).unwrap();
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

        let sampled = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cx = remote(sampled).unwrap();
        let span_context = cx.span().span_context().clone();
        assert!(span_context.is_remote() && span_context.is_sampled());

        let later_version = b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-next";
        assert!(remote(later_version).is_some());
        for invalid in [
            &b"00-zz-00f067aa0ba902b7-00"[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-",
            // What the propagator never sees: a value that is not text.
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\xff",
            b"",
        ] {
            assert!(remote(invalid).is_none(), "{invalid:?}");
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
            let fast = remote(traceparent.as_bytes()).unwrap();
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
