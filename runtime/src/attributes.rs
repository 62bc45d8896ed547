//! The trait generated message types implement to put their annotated fields on a span.

use opentelemetry::{Key, KeyValue, StringValue, Value};

use crate::field_values::FieldValues;
use crate::limits::{truncate, DEFAULT_ATTRIBUTE_VALUE_LENGTH};
use crate::redact::HashedValue;

/// One attribute value, borrowed from the message it was read from.
///
/// Conversion into an owned OpenTelemetry value happens in the [`AttributeSink`], so a sink
/// that drops values pays nothing for them.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AttributeValue<'a> {
    /// `bool` fields and `PRESENT` redaction.
    Bool(bool),
    /// Signed integers, `uint32`, lengths and counts.
    I64(i64),
    /// `uint64` and `fixed64`, which may not fit an `i64`.
    U64(u64),
    /// `float` and `double`.
    F64(f64),
    /// Strings, enum value names and hashes.
    Str(&'a str),
}

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
pub(crate) struct CallSink<'a> {
    pub(crate) attributes: &'a mut Vec<KeyValue>,
    pub(crate) values: &'a FieldValues,
}

impl AttributeSink for CallSink<'_> {
    fn record(&mut self, key: &'static str, value: AttributeValue<'_>) {
        put(self.attributes, key, value, self.values.length_limit);
    }

    fn hash(&self, value: &[u8]) -> HashedValue {
        self.values.hash(value)
    }
}

/// Puts `key` = `value` in `attributes`, replacing an earlier value of the key; a string cut
/// to `length_limit` characters.
fn put(
    attributes: &mut Vec<KeyValue>,
    key: &'static str,
    value: AttributeValue<'_>,
    length_limit: usize,
) {
    let value = match value {
        AttributeValue::Str(text) => AttributeValue::Str(truncate(text, length_limit)),
        other => other,
    };
    let key = Key::from_static_str(key);
    match attributes.iter_mut().find(|recorded| recorded.key == key) {
        Some(recorded) => recorded.value = value.to_otel(),
        None => attributes.push(KeyValue::new(key, value.to_otel())),
    }
}

impl AttributeValue<'_> {
    /// Converts to an OpenTelemetry value. A `u64` beyond `i64::MAX` becomes its decimal
    /// string, since OpenTelemetry has no unsigned integer type.
    pub fn to_otel(self) -> Value {
        match self {
            AttributeValue::Bool(value) => Value::Bool(value),
            AttributeValue::I64(value) => Value::I64(value),
            AttributeValue::U64(value) => match i64::try_from(value) {
                Ok(value) => Value::I64(value),
                Err(_) => Value::String(StringValue::from(value.to_string())),
            },
            AttributeValue::F64(value) => Value::F64(value),
            AttributeValue::Str(value) => Value::String(StringValue::from(value.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_beyond_i64_becomes_a_decimal_string() {
        assert_eq!(AttributeValue::U64(7).to_otel(), Value::I64(7));
        assert_eq!(
            AttributeValue::U64(u64::MAX).to_otel(),
            Value::String("18446744073709551615".into())
        );
    }

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
