//! gRPC metadata as span attributes, for the keys the user chose: under
//! `rpc.grpc.{request,response}.metadata.<key>` (old conventions) and
//! `rpc.{request,response}.metadata.<key>` (stable), both with `rpc/dup`; each a string array
//! of the key's values. Response metadata covers headers and trailers alike. `-bin` values are
//! recorded as sent, base64. `authorization` and `cookie` are recorded only when allowed
//! explicitly.

use http::{HeaderMap, HeaderName};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Array, Context, Key, KeyValue, StringValue, Value};

use crate::field_values::FieldValues;
use crate::semconv::SemconvMode;

/// Keys recorded only with [`crate::Config::capture_sensitive_metadata`].
const SENSITIVE: [&str; 3] = ["authorization", "cookie", "set-cookie"];

/// Which way the metadata went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Request,
    Response,
}

/// One metadata key to record, with its attribute keys made once.
#[derive(Debug, Clone)]
pub(crate) struct CapturedKey {
    header: HeaderName,
    keys: Vec<Key>,
}

/// The metadata keys one side records each way.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetadataCapture {
    request: Vec<CapturedKey>,
    response: Vec<CapturedKey>,
}

impl MetadataCapture {
    /// The keys `request` and `response` (any case) in the attribute names of `semconv`;
    /// invalid header names are left out, and so are sensitive keys unless `sensitive`.
    pub(crate) fn new(
        request: &[String],
        response: &[String],
        semconv: SemconvMode,
        sensitive: bool,
    ) -> Self {
        let captured = |names: &[String], direction: Direction| {
            let mut captured: Vec<CapturedKey> = Vec::new();
            for name in names {
                let name = name.trim().to_ascii_lowercase();
                let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                    continue;
                };
                let duplicate = captured.iter().any(|key| key.header == header);
                if duplicate || (!sensitive && SENSITIVE.contains(&name.as_str())) {
                    continue;
                }
                let keys = attribute_keys(&name, direction, semconv);
                captured.push(CapturedKey { header, keys });
            }
            captured
        };
        MetadataCapture {
            request: captured(request, Direction::Request),
            response: captured(response, Direction::Response),
        }
    }

    /// Whether nothing is captured either way.
    pub(crate) fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    /// Records the chosen keys of `metadata`, sent or received `direction`, on the span of
    /// `cx` when it is recording; values cut to the length limit of `values`.
    pub(crate) fn record(
        &self,
        cx: &Context,
        direction: Direction,
        metadata: &HeaderMap,
        values: &FieldValues,
    ) {
        let captured = match direction {
            Direction::Request => &self.request,
            Direction::Response => &self.response,
        };
        if captured.is_empty() || !cx.span().is_recording() {
            return;
        }
        let mut attributes = Vec::new();
        for key in captured {
            let values: Vec<StringValue> = metadata
                .get_all(&key.header)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(|value| StringValue::from(values.limited(value).to_owned()))
                .collect();
            if values.is_empty() {
                continue;
            }
            let value = Value::Array(Array::String(values));
            attributes.extend(
                key.keys
                    .iter()
                    .map(|attribute| KeyValue::new(attribute.clone(), value.clone())),
            );
        }
        cx.span().set_attributes(attributes);
    }
}

/// The attribute names of metadata key `name` in `semconv`.
fn attribute_keys(name: &str, direction: Direction, semconv: SemconvMode) -> Vec<Key> {
    let way = match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    };
    let mut keys = Vec::new();
    if semconv.old {
        keys.push(Key::from(format!("rpc.grpc.{way}.metadata.{name}")));
    }
    if semconv.stable {
        keys.push(Key::from(format!("rpc.{way}.metadata.{name}")));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_mode_lower_case_and_sensitive_keys_left_out() {
        let names = |capture: &[CapturedKey]| -> Vec<Vec<String>> {
            capture
                .iter()
                .map(|key| key.keys.iter().map(|k| k.as_str().to_owned()).collect())
                .collect()
        };
        let chosen = [
            "X-Tenant".to_owned(),
            "authorization".to_owned(),
            "bad key".to_owned(),
        ];
        let capture = MetadataCapture::new(&chosen, &chosen, SemconvMode::DUP, false);
        assert_eq!(
            names(&capture.request),
            [[
                "rpc.grpc.request.metadata.x-tenant",
                "rpc.request.metadata.x-tenant"
            ]]
        );
        assert_eq!(
            names(&capture.response),
            [[
                "rpc.grpc.response.metadata.x-tenant",
                "rpc.response.metadata.x-tenant"
            ]]
        );
        let allowed = MetadataCapture::new(&chosen, &[], SemconvMode::STABLE, true);
        assert_eq!(
            names(&allowed.request),
            [
                ["rpc.request.metadata.x-tenant"],
                ["rpc.request.metadata.authorization"]
            ]
        );
    }
}
