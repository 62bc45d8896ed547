//! Reads W3C Trace Context, Baggage or any configured format from gRPC request metadata.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceFlags};
use opentelemetry::{global, Context};
use tonic::metadata::{KeyRef, MetadataMap};

/// The W3C Trace Context header of the caller's span.
pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The W3C Trace Context header of vendors' trace state.
pub(crate) const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// The W3C Baggage header.
pub(crate) const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The remote context carried by `metadata`, extracted with the global propagator onto an
/// empty context (never whatever happens to be current). Malformed headers yield no parent.
pub fn extract_remote_context(metadata: &MetadataMap) -> Context {
    global::get_text_map_propagator(|propagator| extract_with(propagator, metadata))
}

/// The remote context `propagator` finds in `metadata`, on an empty context.
fn extract_with(propagator: &dyn TextMapPropagator, metadata: &MetadataMap) -> Context {
    propagator.extract_with_context(&Context::new(), &MetadataExtractor(metadata))
}

/// How a configuration's calls read and write trace context: with its own propagator, or the
/// global one as it is at each call.
#[derive(Clone, Default)]
pub(crate) struct Propagation {
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    /// Whether the propagator reads and writes W3C Trace Context alone (with or without
    /// Baggage), so that a lone `traceparent` says all there is to know about a caller.
    pub(crate) w3c_only: bool,
}

impl Propagation {
    /// With `propagator`, which is W3C-only when the headers it uses (its `fields()`) are
    /// `traceparent`, and perhaps `tracestate` and `baggage`; without one, the global
    /// propagator, W3C-only as `declared_w3c` says.
    pub(crate) fn new(
        propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
        declared_w3c: bool,
    ) -> Self {
        let w3c_only = match &propagator {
            Some(propagator) => uses_w3c_only(propagator.as_ref()),
            None => declared_w3c,
        };
        Propagation {
            propagator,
            w3c_only,
        }
    }

    /// The remote context in `metadata`, on an empty context.
    pub(crate) fn extract(&self, metadata: &MetadataMap) -> Context {
        match &self.propagator {
            Some(propagator) => extract_with(propagator.as_ref(), metadata),
            None => extract_remote_context(metadata),
        }
    }

    /// Writes the context `cx` into `headers`, skipping values HTTP cannot carry.
    pub(crate) fn inject(&self, cx: &Context, headers: &mut HeaderMap) {
        let mut injector = HeaderInjector(headers);
        match &self.propagator {
            Some(propagator) => propagator.inject_context(cx, &mut injector),
            None => global::get_text_map_propagator(|propagator| {
                propagator.inject_context(cx, &mut injector)
            }),
        }
    }
}

impl fmt::Debug for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Propagation")
            .field("own_propagator", &self.propagator.is_some())
            .field("w3c_only", &self.w3c_only)
            .finish()
    }
}

/// Whether `propagator` uses `traceparent` and no header but `tracestate` and `baggage`.
fn uses_w3c_only(propagator: &dyn TextMapPropagator) -> bool {
    let mut traceparent = false;
    for field in propagator.fields() {
        match field {
            "traceparent" => traceparent = true,
            "tracestate" | "baggage" => {}
            _ => return false,
        }
    }
    traceparent
}

/// Writes propagation fields into request headers, skipping values HTTP cannot carry.
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Exposes ASCII metadata to propagators. A value that is not valid text is absent, and so is
/// a `traceparent` that W3C Trace Context says to ignore: sent more than once, or malformed
/// (some propagators accept short ids or trailing data that the specification rejects).
struct MetadataExtractor<'a>(&'a MetadataMap);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let headers: &HeaderMap = self.0.as_ref();
        // The W3C names are looked up without parsing them again on every request.
        let mut values = match key {
            "traceparent" => headers.get_all(&TRACEPARENT).iter(),
            "tracestate" => headers.get_all(&TRACESTATE).iter(),
            "baggage" => headers.get_all(&BAGGAGE).iter(),
            other => headers.get_all(other).iter(),
        };
        let first = values.next()?.to_str().ok()?;
        if key == "traceparent"
            && (values.next().is_some() || parse_traceparent(first.as_bytes()).is_none())
        {
            return None;
        }
        Some(first)
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|key| match key {
                KeyRef::Ascii(key) => Some(key.as_str()),
                KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

/// A `traceparent` as W3C Trace Context defines it: `version-traceid-parentid-flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traceparent {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) flags: u8,
}

/// The length of a version `00` `traceparent`, and of the part of later versions' that
/// [`parse_traceparent`] reads.
pub(crate) const TRACEPARENT_LENGTH: usize = 55;

/// Parses a `traceparent`: lowercase hex, non-zero ids, version `ff` forbidden, exactly
/// [`TRACEPARENT_LENGTH`] characters for version `00` and more only after a `-` for later
/// versions (whose extra fields it does not read).
pub(crate) fn parse_traceparent(bytes: &[u8]) -> Option<Traceparent> {
    if bytes.len() < TRACEPARENT_LENGTH
        || bytes[2] != b'-'
        || bytes[35] != b'-'
        || bytes[52] != b'-'
    {
        return None;
    }
    let version = lower_hex(&bytes[0..2])?;
    let trace_id =
        u128::from(lower_hex_16(&bytes[3..19])?) << 64 | u128::from(lower_hex_16(&bytes[19..35])?);
    let length_ok = match version {
        0 => bytes.len() == TRACEPARENT_LENGTH,
        0xff => false,
        _ => bytes.len() == TRACEPARENT_LENGTH || bytes[TRACEPARENT_LENGTH] == b'-',
    };
    let span_id = lower_hex_16(&bytes[36..52])?;
    let flags = lower_hex(&bytes[53..55])?;
    (length_ok && trace_id != 0 && span_id != 0).then_some(Traceparent {
        trace_id,
        span_id,
        flags: flags as u8,
    })
}

/// Writes `span_context` into `headers` as the W3C Trace Context propagator would, without
/// formatting through a `String`: `traceparent`, and `tracestate` when it has entries. Nothing
/// for an invalid span context.
pub(crate) fn inject_trace_context(span_context: &SpanContext, headers: &mut HeaderMap) {
    if !span_context.is_valid() {
        return;
    }
    let mut traceparent = *b"00-00000000000000000000000000000000-0000000000000000-00";
    let flags = span_context.trace_flags() & TraceFlags::SAMPLED;
    write_lower_hex(&mut traceparent[3..35], span_context.trace_id().to_bytes());
    write_lower_hex(&mut traceparent[36..52], span_context.span_id().to_bytes());
    write_lower_hex(&mut traceparent[53..55], [flags.to_u8()]);
    headers.insert(
        TRACEPARENT,
        HeaderValue::from_bytes(&traceparent).expect("hex digits and dashes"),
    );
    let state = span_context.trace_state().header();
    if !state.is_empty() {
        if let Ok(state) = HeaderValue::try_from(state) {
            headers.insert(TRACESTATE, state);
        }
    }
}

/// Writes `bytes` as lowercase hex digits, two per byte, into `out`.
fn write_lower_hex<const N: usize>(out: &mut [u8], bytes: [u8; N]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// The value of 16 lowercase hex digits (an id, or half of one), eight at a time.
fn lower_hex_16(digits: &[u8]) -> Option<u64> {
    let (high, low) = digits.split_at(8);
    Some(u64::from(lower_hex_8(high)?) << 32 | u64::from(lower_hex_8(low)?))
}

/// The value of 8 lowercase hex digits, all checked and converted at once in one `u64` (a
/// byte per digit, the first in the lowest byte) rather than one at a time.
fn lower_hex_8(digits: &[u8]) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = ONES * 0x80;
    let chunk = u64::from_le_bytes(digits.try_into().ok()?);
    // Added to a byte below 0x80, these set its high bit from '0' on, past '9', from 'a' on,
    // past 'f'; no byte carries into the next. Bytes from 0x80 on are rejected below.
    let from_0 = chunk.wrapping_add(ONES * u64::from(0x80 - b'0'));
    let past_9 = chunk.wrapping_add(ONES * u64::from(0x7f - b'9'));
    let from_a = chunk.wrapping_add(ONES * u64::from(0x80 - b'a'));
    let past_f = chunk.wrapping_add(ONES * u64::from(0x7f - b'f'));
    let letters = from_a & !past_f & HIGH_BITS;
    let hex = (from_0 & !past_9 & HIGH_BITS) | letters;
    if chunk & HIGH_BITS != 0 || hex != HIGH_BITS {
        return None;
    }
    // A digit's value is its low nibble; a letter's, its low nibble plus 9.
    let nibbles = (chunk & (ONES * 0x0f)) + (letters >> 7) * 9;
    // Pairs of nibbles into bytes, then pairs of bytes, then the four bytes: the first digit
    // ends up in the lowest byte, so the bytes are swapped into the number's order.
    let bytes = (nibbles << 4 | nibbles >> 8) & 0x00ff_00ff_00ff_00ff;
    let pairs = (bytes | bytes >> 8) & 0x0000_ffff_0000_ffff;
    Some(((pairs | pairs >> 16) as u32).swap_bytes())
}

/// The value of each byte as a lowercase hex digit, or `INVALID`.
const HEX_VALUES: [u8; 256] = {
    let mut values = [INVALID; 256];
    let mut digit = 0;
    while digit < 16 {
        values[b"0123456789abcdef"[digit] as usize] = digit as u8;
        digit += 1;
    }
    values
};
const INVALID: u8 = 0xff;

/// The value of a few lowercase hex digits (a version, flags): one table lookup per digit.
fn lower_hex(digits: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    let mut invalid = 0u8;
    for &digit in digits {
        let nibble = HEX_VALUES[usize::from(digit)];
        invalid |= nibble & 0xf0;
        value = value << 4 | u64::from(nibble & 0x0f);
    }
    (invalid == 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::{inject_trace_context, parse_traceparent, Traceparent};
    use http::HeaderMap;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    fn is_valid_traceparent(value: &str) -> bool {
        parse_traceparent(value.as_bytes()).is_some()
    }

    #[test]
    fn w3c_traceparent_rules() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(valid.as_bytes()),
            Some(Traceparent {
                trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
                span_id: 0x00f067aa0ba902b7,
                flags: 1,
            })
        );
        assert!(is_valid_traceparent(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"
        ));
        for invalid in [
            "",
            "00-4bf92f3577b34da6-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(!is_valid_traceparent(invalid), "{invalid}");
        }
    }

    #[test]
    fn hex_eight_digits_at_a_time_reads_as_one_at_a_time() {
        use super::{lower_hex, lower_hex_16, lower_hex_8};

        let valid = *b"09afbe18";
        assert_eq!(lower_hex_8(&valid), Some(0x09afbe18));
        assert_eq!(
            lower_hex_16(b"ffffffff00000000"),
            Some(0xffff_ffff_0000_0000)
        );
        // Every byte in every position, the others valid.
        for position in 0..8 {
            for byte in 0..=u8::MAX {
                let mut digits = valid;
                digits[position] = byte;
                assert_eq!(
                    lower_hex_8(&digits),
                    lower_hex(&digits).map(|value| value as u32),
                    "{digits:?}"
                );
            }
        }
    }

    #[test]
    fn w3c_only_follows_from_the_headers_a_propagator_uses() {
        use super::uses_w3c_only;
        use opentelemetry::propagation::TextMapCompositePropagator;
        use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

        let w3c = TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]);
        assert!(uses_w3c_only(&w3c));
        assert!(uses_w3c_only(&TraceContextPropagator::new()));
        assert!(!uses_w3c_only(&BaggagePropagator::new()));
        assert!(!uses_w3c_only(&TextMapCompositePropagator::new(vec![])));
        let with_b3 = TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(B3Like(vec!["b3".to_owned()])),
        ]);
        assert!(!uses_w3c_only(&with_b3));
    }

    /// A propagator that uses headers of its own.
    #[derive(Debug)]
    struct B3Like(Vec<String>);

    impl opentelemetry::propagation::TextMapPropagator for B3Like {
        fn inject_context(
            &self,
            _cx: &opentelemetry::Context,
            _injector: &mut dyn opentelemetry::propagation::Injector,
        ) {
        }

        fn extract_with_context(
            &self,
            cx: &opentelemetry::Context,
            _extractor: &dyn opentelemetry::propagation::Extractor,
        ) -> opentelemetry::Context {
            cx.clone()
        }

        fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
            opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.0)
        }
    }

    #[test]
    fn injects_what_the_w3c_propagator_writes() {
        use opentelemetry::propagation::TextMapPropagator;
        use opentelemetry::trace::TraceContextExt;
        use opentelemetry_sdk::propagation::TraceContextPropagator;

        let state = TraceState::from_key_value([("vendor", "value")]).unwrap();
        for (flags, state) in [
            (TraceFlags::SAMPLED, TraceState::NONE),
            (TraceFlags::new(0x02), state.clone()),
            (TraceFlags::new(0x03), state),
        ] {
            let span_context = SpanContext::new(
                TraceId::from(0x0af7651916cd43dd8448eb211c80319c),
                SpanId::from(0x00f067aa0ba902b7),
                flags,
                true,
                state,
            );
            let mut direct = HeaderMap::new();
            inject_trace_context(&span_context, &mut direct);
            let mut expected = std::collections::HashMap::new();
            let cx = opentelemetry::Context::new().with_remote_span_context(span_context);
            TraceContextPropagator::new().inject_context(&cx, &mut expected);
            expected.retain(|_, value: &mut String| !value.is_empty());
            let direct: std::collections::HashMap<String, String> = direct
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            assert_eq!(direct, expected);
        }
        let mut headers = HeaderMap::new();
        inject_trace_context(&SpanContext::empty_context(), &mut headers);
        assert!(headers.is_empty());
    }
}
