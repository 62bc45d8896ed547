//! The B3 (Zipkin) and Jaeger propagation formats `OTEL_PROPAGATORS` may name, besides the
//! SDK's W3C Trace Context and Baggage.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

/// B3 as one `b3` header, or as the `X-B3-*` headers; both are read, one is written.
#[derive(Debug)]
pub(crate) struct B3 {
    fields: Vec<String>,
    single_header: bool,
}

impl B3 {
    /// Writes `b3: {trace}-{span}-{sampled}`.
    pub(crate) fn single() -> Self {
        B3 {
            fields: vec!["b3".to_owned()],
            single_header: true,
        }
    }

    /// Writes `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
    pub(crate) fn multi() -> Self {
        B3 {
            fields: ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]
                .map(str::to_owned)
                .to_vec(),
            single_header: false,
        }
    }
}

impl TextMapPropagator for B3 {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let sampled = if context.is_sampled() { "1" } else { "0" };
        if self.single_header {
            injector.set(
                "b3",
                format!("{}-{}-{sampled}", context.trace_id(), context.span_id()),
            );
        } else {
            injector.set("x-b3-traceid", context.trace_id().to_string());
            injector.set("x-b3-spanid", context.span_id().to_string());
            injector.set("x-b3-sampled", sampled.to_owned());
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let remote = extractor
            .get("b3")
            .and_then(b3_single)
            .or_else(|| b3_multi(extractor));
        match remote {
            Some(remote) => cx.with_remote_span_context(remote),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.fields)
    }
}

/// `{trace}-{span}[-{1|0|d}[-{parent}]]`; a sampling-only header carries no parent.
fn b3_single(value: &str) -> Option<SpanContext> {
    let mut parts = value.split('-');
    let trace_id = trace_id(parts.next()?)?;
    let span_id = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        None | Some("1") | Some("d") => true,
        Some("0") => false,
        Some(_) => return None,
    };
    if parts
        .next()
        .is_some_and(|parent| span_id_hex(parent).is_none())
        || parts.next().is_some()
    {
        return None;
    }
    Some(remote(trace_id, span_id, sampled))
}

fn b3_multi(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace_id = trace_id(extractor.get("x-b3-traceid")?)?;
    let span_id = span_id(extractor.get("x-b3-spanid")?)?;
    let debug = extractor.get("x-b3-flags") == Some("1");
    let sampled = match extractor.get("x-b3-sampled") {
        None => debug,
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => debug,
        Some(_) => return None,
    };
    Some(remote(trace_id, span_id, sampled))
}

/// Jaeger's `uber-trace-id: {trace}:{span}:{parent}:{flags}` (flags bit 1: sampled).
#[derive(Debug)]
pub(crate) struct Jaeger {
    fields: Vec<String>,
}

impl Jaeger {
    pub(crate) fn new() -> Self {
        Jaeger {
            fields: vec!["uber-trace-id".to_owned()],
        }
    }
}

impl TextMapPropagator for Jaeger {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if context.is_valid() {
            let flags = u8::from(context.is_sampled());
            injector.set(
                "uber-trace-id",
                format!("{}:{}:0:{flags}", context.trace_id(), context.span_id()),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let remote = extractor.get("uber-trace-id").and_then(|value| {
            let value = value.replace("%3A", ":").replace("%3a", ":");
            let parts: Vec<&str> = value.split(':').collect();
            let [trace, span, _parent, flags] = parts.as_slice() else {
                return None;
            };
            let flags = jaeger_flags(flags)?;
            Some(remote(
                padded_trace_id(trace)?,
                padded_span_id(span)?,
                flags & 1 == 1,
            ))
        });
        match remote {
            Some(remote) => cx.with_remote_span_context(remote),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.fields)
    }
}

fn remote(trace_id: TraceId, span_id: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace_id, span_id, flags, true, TraceState::NONE)
}

/// A B3 trace id: 16 or 32 lowercase hex digits, not all zero.
fn trace_id(hex: &str) -> Option<TraceId> {
    (matches!(hex.len(), 16 | 32) && is_lower_hex(hex))
        .then(|| padded_trace_id(hex))
        .flatten()
}

/// A B3 span id: 16 lowercase hex digits, not all zero.
fn span_id(hex: &str) -> Option<SpanId> {
    span_id_hex(hex).filter(|id| *id != SpanId::INVALID)
}

/// 16 lowercase hex digits, B3's span id syntax (the parent id may be all zero).
fn span_id_hex(hex: &str) -> Option<SpanId> {
    (hex.len() == 16 && is_lower_hex(hex))
        .then(|| padded_span_id(hex))
        .flatten()
}

/// Only the digits and letters B3 writes ids with: `0-9` and `a-f`.
fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Jaeger's flags: one byte as one or two hex digits, without a sign.
fn jaeger_flags(hex: &str) -> Option<u8> {
    let digits = (1..=2).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    digits.then(|| u8::from_str_radix(hex, 16).ok()).flatten()
}

/// Up to 32 hex digits, as Jaeger allows leading zeros to be dropped; not all zero.
fn padded_trace_id(hex: &str) -> Option<TraceId> {
    let valid = !hex.is_empty() && hex.len() <= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let id = u128::from_str_radix(hex, 16).ok().filter(|_| valid)?;
    (id != 0).then(|| TraceId::from(id))
}

/// Up to 16 hex digits; not all zero.
fn padded_span_id(hex: &str) -> Option<SpanId> {
    let valid = !hex.is_empty() && hex.len() <= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let id = u64::from_str_radix(hex, 16).ok().filter(|_| valid)?;
    (id != 0).then(|| SpanId::from(id))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn extract(propagator: &dyn TextMapPropagator, headers: &[(&str, &str)]) -> SpanContext {
        let headers: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        propagator.extract(&headers).span().span_context().clone()
    }

    fn injected(propagator: &dyn TextMapPropagator, sampled: bool) -> HashMap<String, String> {
        let cx = Context::new().with_remote_span_context(remote(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            sampled,
        ));
        let mut headers = HashMap::new();
        propagator.inject_context(&cx, &mut headers);
        headers
    }

    #[test]
    fn b3_single_and_multi_round_trip() {
        let single = injected(&B3::single(), true);
        assert_eq!(single["b3"], format!("{TRACE}-{SPAN}-1"));
        let multi = injected(&B3::multi(), false);
        assert_eq!(multi["x-b3-traceid"], TRACE);
        assert_eq!(multi["x-b3-sampled"], "0");

        for propagator in [B3::single(), B3::multi()] {
            let from_single = extract(&propagator, &[("b3", &format!("{TRACE}-{SPAN}-1"))]);
            assert_eq!(from_single.trace_id(), TraceId::from_hex(TRACE).unwrap());
            assert!(from_single.is_sampled() && from_single.is_remote());
            let from_multi = extract(
                &propagator,
                &[
                    ("x-b3-traceid", SPAN),
                    ("x-b3-spanid", SPAN),
                    ("x-b3-sampled", "0"),
                ],
            );
            assert!(from_multi.is_valid() && !from_multi.is_sampled());
        }
    }

    #[test]
    fn b3_rejects_malformed_values() {
        for bad in [
            "",
            "0",
            "xyz-00f067aa0ba902b7-1",
            &format!("{TRACE}-0000000000000000-1"),
            &format!("{TRACE}-{SPAN}-2"),
            &format!("{TRACE}-{SPAN}-1-short"),
            &format!("{TRACE}-{SPAN}-1-{SPAN}-extra"),
        ] {
            assert!(!extract(&B3::single(), &[("b3", bad)]).is_valid(), "{bad}");
        }
    }

    #[test]
    fn b3_ids_in_upper_case_are_no_parent() {
        let upper_trace = TRACE.to_uppercase();
        let upper_span = SPAN.to_uppercase();
        let single = [
            format!("{upper_trace}-{SPAN}-1"),
            format!("{TRACE}-{upper_span}-1"),
            format!("{TRACE}-{SPAN}-1-{upper_span}"),
            // One upper-case digit is enough.
            format!("{}F-{SPAN}-1", &TRACE[..31]),
        ];
        for header in &single {
            for propagator in [B3::single(), B3::multi()] {
                assert!(
                    !extract(&propagator, &[("b3", header)]).is_valid(),
                    "{header}"
                );
            }
        }
        for (trace, span) in [(upper_trace.as_str(), SPAN), (TRACE, upper_span.as_str())] {
            let headers = [
                ("x-b3-traceid", trace),
                ("x-b3-spanid", span),
                ("x-b3-sampled", "1"),
            ];
            for propagator in [B3::single(), B3::multi()] {
                assert!(!extract(&propagator, &headers).is_valid(), "{trace} {span}");
            }
        }
        // The same ids in lower case are a parent, from either form.
        let lower = extract(
            &B3::single(),
            &[("b3", &format!("{TRACE}-{SPAN}-1-{SPAN}"))],
        );
        assert_eq!(lower.trace_id(), TraceId::from_hex(TRACE).unwrap());
        assert_eq!(lower.span_id(), SpanId::from_hex(SPAN).unwrap());
        let short_trace = &TRACE[16..];
        let lower = extract(
            &B3::multi(),
            &[("x-b3-traceid", short_trace), ("x-b3-spanid", SPAN)],
        );
        assert_eq!(
            lower.trace_id(),
            TraceId::from_hex(&format!("{:0>32}", short_trace)).unwrap()
        );
    }

    #[test]
    fn jaeger_flags_are_one_or_two_hex_digits_without_a_sign() {
        let flags = |flags: &str| {
            extract(
                &Jaeger::new(),
                &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:{flags}"))],
            )
        };
        for (value, sampled) in [
            ("1", true),
            ("01", true),
            ("0", false),
            ("00", false),
            // Bit 2 is debug, bit 1 sampled.
            ("2", false),
            ("3", true),
            ("ff", true),
            ("FE", false),
        ] {
            let context = flags(value);
            assert!(context.is_valid(), "{value}");
            assert_eq!(context.is_sampled(), sampled, "{value}");
        }
        for bad in [
            "+1", "-1", "+01", "-0", "", "001", "100", " 1", "1 ", "0x1", "g",
        ] {
            assert!(!flags(bad).is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn jaeger_round_trip_and_encoded_separators() {
        let headers = injected(&Jaeger::new(), true);
        assert_eq!(headers["uber-trace-id"], format!("{TRACE}:{SPAN}:0:1"));
        let extracted = extract(
            &Jaeger::new(),
            &[("uber-trace-id", &headers["uber-trace-id"])],
        );
        assert_eq!(extracted.span_id(), SpanId::from_hex(SPAN).unwrap());
        assert!(extracted.is_sampled());
        let short = extract(
            &Jaeger::new(),
            &[("uber-trace-id", "a3ce929d0e0e4736%3Af067aa0ba902b7%3A0%3A0")],
        );
        assert_eq!(
            short.trace_id(),
            TraceId::from_hex("0000000000000000a3ce929d0e0e4736").unwrap()
        );
        assert!(short.is_valid() && !short.is_sampled());
        for bad in ["", "1:2:3", "zz:1:0:1", "0:1:0:1", "1:0:0:1", "1:1:0:x"] {
            assert!(
                !extract(&Jaeger::new(), &[("uber-trace-id", bad)]).is_valid(),
                "{bad}"
            );
        }
    }
}
