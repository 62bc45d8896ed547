//! Where a traced call collects the attributes of its spans: annotated fields and the
//! application's hooks, cut and hashed as the call's configuration says.

use opentelemetry::{Key, KeyValue};

use crate::attribute_value::AttributeValue;
use crate::field_values::FieldValues;
use crate::hashing::HashedValue;
use crate::limits::truncate;

/// The attributes of one span of a traced call, as they are collected: a key recorded again
/// replaces its earlier value, strings are cut to the configured length, and
/// [`hash`](Self::hash) uses the configured key.
pub struct CallSink<'a> {
    pub(crate) attributes: &'a mut Vec<KeyValue>,
    pub(crate) values: &'a FieldValues,
}

impl CallSink<'_> {
    /// Records one attribute; a key recorded twice keeps its last value.
    pub fn record(&mut self, key: &'static str, value: AttributeValue<'_>) {
        put(self.attributes, key, value, self.values.length_limit);
    }

    /// The `HASH` of `value` under the configured key, to record an identifier that must not
    /// appear raw.
    pub fn hash(&self, value: &[u8]) -> HashedValue {
        self.values.hash(value)
    }
}

/// Puts `key` = `value` in `attributes`, replacing an earlier value of the key; a string cut
/// to `length_limit` characters.
pub(crate) fn put(
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
