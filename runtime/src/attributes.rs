//! The trait generated message types implement to put their annotated fields on a span.

use opentelemetry::KeyValue;

use crate::attribute_value::AttributeValue;
use crate::call_sink::{put, CallSink};
use crate::hashing::HashedValue;
use crate::limits::DEFAULT_ATTRIBUTE_VALUE_LENGTH;

/// Receives the attributes a [`SpanAttributes`] implementation records.
///
/// Keys are `&'static str` taken from the proto options at build time, so recording never
/// allocates a key.
pub trait AttributeSink {
    /// Records one attribute. A key recorded twice keeps its last value.
    fn record(&mut self, key: &'static str, value: AttributeValue<'_>);

    /// The `HASH` of a field value, as the sink's configuration keys it; by default
    /// [`redact::hash`](crate::redact::hash), under the installed configuration's key.
    fn hash(&self, value: &[u8]) -> HashedValue {
        crate::redact::hash(value)
    }
}

/// A message whose annotated fields can become span attributes.
///
/// Implemented by code that `tonic-traced-build` generates for every message. Callers decide
/// whether a span is recorded before calling [`SpanAttributes::record_attributes`]; an
/// unsampled call site never calls it, so an unsampled RPC reads no field.
pub trait SpanAttributes {
    /// Records this message's annotated fields, including those of nested messages reached
    /// through its fields.
    fn record_attributes(&self, sink: &mut dyn AttributeSink);
}

/// `google.protobuf.Empty` is generated as `()` by tonic; it has no fields to record.
impl SpanAttributes for () {
    fn record_attributes(&self, _sink: &mut dyn AttributeSink) {}
}

/// Request and response types tonic maps the well-known `google.protobuf` wrapper and value
/// types to: they have no annotated fields.
macro_rules! no_annotated_fields {
    ($($ty:ty),* $(,)?) => {$(
        impl SpanAttributes for $ty {
            fn record_attributes(&self, _sink: &mut dyn AttributeSink) {}
        }
    )*};
}

no_annotated_fields!(
    bool,
    i32,
    i64,
    u32,
    u64,
    f32,
    f64,
    String,
    Vec<u8>,
    prost::bytes::Bytes,
    prost_types::Any,
    prost_types::Duration,
    prost_types::FieldMask,
    prost_types::ListValue,
    prost_types::Struct,
    prost_types::Timestamp,
    prost_types::Value,
);

/// prost boxes recursive and `boxed(…)` fields; their attributes are the inner message's.
impl<T: SpanAttributes + ?Sized> SpanAttributes for Box<T> {
    fn record_attributes(&self, sink: &mut dyn AttributeSink) {
        (**self).record_attributes(sink);
    }
}

/// Collects OpenTelemetry key-values, ready for `Span::set_attributes` or a span builder. A key
/// recorded again (through two nested messages) replaces its earlier value. Strings are cut to
/// [`DEFAULT_ATTRIBUTE_VALUE_LENGTH`] characters (a traced call cuts them to its configured
/// limit instead).
impl AttributeSink for Vec<KeyValue> {
    fn record(&mut self, key: &'static str, value: AttributeValue<'_>) {
        put(self, key, value, DEFAULT_ATTRIBUTE_VALUE_LENGTH);
    }
}

/// The sink of a traced call: values cut and hashed as the call's configuration says.
impl AttributeSink for CallSink<'_> {
    fn record(&mut self, key: &'static str, value: AttributeValue<'_>) {
        CallSink::record(self, key, value);
    }

    fn hash(&self, value: &[u8]) -> HashedValue {
        CallSink::hash(self, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Value;

    #[test]
    fn a_key_recorded_twice_keeps_the_last_value() {
        let mut sink = Vec::new();
        sink.record("address.city", AttributeValue::Str("Porto"));
        sink.record("other", AttributeValue::Bool(true));
        sink.record("address.city", AttributeValue::Str("Lisbon"));
        assert_eq!(
            sink,
            vec![
                KeyValue::new("address.city", "Lisbon"),
                KeyValue::new("other", true)
            ]
        );
    }

    #[test]
    fn vec_sink_keeps_order_and_static_keys() {
        let mut sink = Vec::new();
        sink.record("a.b", AttributeValue::Str("x"));
        sink.record("c", AttributeValue::F64(1.5));
        assert_eq!(
            sink,
            vec![KeyValue::new("a.b", "x"), KeyValue::new("c", 1.5)]
        );
    }

    #[test]
    fn strings_are_cut_to_the_limit() {
        let huge = "€".repeat(2 * crate::DEFAULT_ATTRIBUTE_VALUE_LENGTH);
        let mut sink = Vec::new();
        sink.record("payment.currency", AttributeValue::Str(&huge));
        let Value::String(kept) = &sink[0].value else {
            panic!("a string: {sink:?}");
        };
        assert_eq!(
            kept.as_str().chars().count(),
            crate::DEFAULT_ATTRIBUTE_VALUE_LENGTH
        );
    }
}
