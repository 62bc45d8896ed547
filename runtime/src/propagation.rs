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
        if key == "traceparent" && (values.next().is_some() || !is_valid_traceparent(first)) {
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

/// `version-traceid-parentid-flags` as W3C Trace Context defines it: lowercase hex, non-zero
/// ids, version `ff` forbidden, exactly 55 characters for version `00` and more only after a
/// `-` for later versions.
fn is_valid_traceparent(value: &str) -> bool {
    let bytes = value.as_bytes();
    let hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    let non_zero = |range: std::ops::Range<usize>| bytes[range].iter().any(|b| *b != b'0');
    if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return false;
    }
    let version_ok = hex(0..2) && &bytes[0..2] != b"ff";
    let length_ok = match &bytes[0..2] {
        b"00" => bytes.len() == 55,
        _ => bytes.len() == 55 || bytes[55] == b'-',
    };
    version_ok
        && length_ok
        && hex(3..35)
        && non_zero(3..35)
        && hex(36..52)
        && non_zero(36..52)
        && hex(53..55)
}

#[cfg(test)]
mod tests {
    use super::is_valid_traceparent;

    #[test]
    fn w3c_traceparent_rules() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_valid_traceparent(valid));
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
