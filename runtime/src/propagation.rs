//! Reads W3C Trace Context, Baggage or any configured format from gRPC request metadata.

use http::{HeaderMap, HeaderName};
use opentelemetry::propagation::Extractor;
use opentelemetry::{global, Context};
use tonic::metadata::{KeyRef, MetadataMap};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The remote context carried by `metadata`, extracted with the global propagator onto an
/// empty context (never whatever happens to be current). Malformed headers yield no parent.
pub fn extract_remote_context(metadata: &MetadataMap) -> Context {
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), &MetadataExtractor(metadata))
    })
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
        if key == "traceparent" && (values.next().is_some() || parse_traceparent(first).is_none()) {
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

/// Parses a `traceparent`: lowercase hex, non-zero ids, version `ff` forbidden, exactly 55
/// characters for version `00` and more only after a `-` for later versions.
pub(crate) fn parse_traceparent(value: &str) -> Option<Traceparent> {
    let bytes = value.as_bytes();
    if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let version = lower_hex(&bytes[0..2])?;
    let length_ok = match version {
        0 => bytes.len() == 55,
        0xff => false,
        _ => bytes.len() == 55 || bytes[55] == b'-',
    };
    let trace_id = lower_hex(&bytes[3..35])?;
    let span_id = lower_hex(&bytes[36..52])?;
    let flags = lower_hex(&bytes[53..55])?;
    (length_ok && trace_id != 0 && span_id != 0).then_some(Traceparent {
        trace_id,
        span_id: span_id as u64,
        flags: flags as u8,
    })
}

/// The value of up to 32 lowercase hex digits.
fn lower_hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |value, digit| {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        Some(value << 4 | u128::from(nibble))
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_traceparent, Traceparent};

    fn is_valid_traceparent(value: &str) -> bool {
        parse_traceparent(value).is_some()
    }

    #[test]
    fn w3c_traceparent_rules() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(valid),
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
}
