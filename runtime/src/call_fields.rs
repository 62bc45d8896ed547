//! The annotated fields on an RPC span: the request's, then those of the response (of unary and
//! client-streaming calls) whose keys the request did not already set. The request's value is
//! kept when both annotate one key: it is what the call was asked to do, and it is on the span
//! from the start. Message spans and events keep each message's own values.

use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue};

use crate::call_sink::CallSink;
use crate::field_values::FieldValues;
use crate::redact::HashedValue;
use crate::{AttributeSink, AttributeValue, SpanAttributes};

/// The keys of the fields recorded on one RPC span so far: held by the server's call, and by
/// a generated client's call, whose request and response are seen by different parts.
#[derive(Debug, Default)]
pub(crate) struct RecordedFields(Mutex<Vec<Key>>);

impl RecordedFields {
    /// Keeps in `attributes` only the fields whose keys are not recorded yet, and notes them.
    pub(crate) fn keep_new(&self, attributes: &mut Vec<KeyValue>) {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        attributes.retain(|attribute| !keys.contains(&attribute.key));
        keys.extend(attributes.iter().map(|attribute| attribute.key.clone()));
    }

    /// Adds to `sink` the fields of `message` whose keys are not recorded yet, and notes
    /// them. The others' values are not even converted.
    pub(crate) fn record_new(&self, message: &dyn SpanAttributes, sink: CallSink<'_>) {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = keys.len();
        message.record_attributes(&mut NewFields {
            keys: &mut keys,
            earlier,
            sink,
        });
    }
}

/// Passes on the fields whose keys no earlier message recorded, and notes their keys.
struct NewFields<'a> {
    keys: &'a mut Vec<Key>,
    /// How many of `keys` earlier messages recorded.
    earlier: usize,
    sink: CallSink<'a>,
}

impl AttributeSink for NewFields<'_> {
    fn record(&mut self, key: &'static str, value: AttributeValue<'_>) {
        let (earlier, this_message) = self.keys.split_at(self.earlier);
        if earlier.iter().any(|recorded| recorded.as_str() == key) {
            return;
        }
        if !this_message.iter().any(|recorded| recorded.as_str() == key) {
            self.keys.push(Key::from_static_str(key));
        }
        self.sink.record(key, value);
    }

    fn hash(&self, value: &[u8]) -> HashedValue {
        self.sink.hash(value)
    }
}

/// Records `message`'s annotated fields on the RPC span of `cx`, when it is recording, except
/// those `recorded` already has.
pub(crate) fn record_message_fields(
    cx: &Context,
    recorded: &RecordedFields,
    message: &dyn SpanAttributes,
    values: &FieldValues,
) {
    if !cx.span().is_recording() {
        return;
    }
    let mut attributes = Vec::new();
    let sink = CallSink {
        attributes: &mut attributes,
        values,
    };
    recorded.record_new(message, sink);
    if !attributes.is_empty() {
        cx.span().set_attributes(attributes);
    }
}

/// Records `attributes`, a message's annotated fields, on the RPC span of `cx`, except those
/// whose keys an earlier message set there.
pub(crate) fn record_fields(
    cx: &Context,
    recorded: &RecordedFields,
    mut attributes: Vec<KeyValue>,
) {
    recorded.keep_new(&mut attributes);
    if !attributes.is_empty() {
        cx.span().set_attributes(attributes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message with these string fields.
    struct Fields(&'static [(&'static str, &'static str)]);

    impl SpanAttributes for Fields {
        fn record_attributes(&self, sink: &mut dyn AttributeSink) {
            for (key, value) in self.0 {
                sink.record(key, AttributeValue::Str(value));
            }
        }
    }

    #[test]
    fn later_messages_add_only_new_keys_and_each_keeps_its_last_value() {
        let values = FieldValues {
            length_limit: 1,
            hash_key: None,
        };
        let recorded = RecordedFields::default();
        let record = |fields, attributes: &mut Vec<KeyValue>| {
            let sink = CallSink {
                attributes,
                values: &values,
            };
            recorded.record_new(&Fields(fields), sink);
        };
        let mut request = Vec::new();
        record(&[("a", "1"), ("b", "2"), ("a", "3x")], &mut request);
        // Cut to the call's limit of one character.
        assert_eq!(request, [KeyValue::new("a", "3"), KeyValue::new("b", "2")]);
        let mut response = Vec::new();
        record(&[("b", "4"), ("c", "5"), ("c", "6")], &mut response);
        assert_eq!(response, [KeyValue::new("c", "6")]);
        let mut none_new = Vec::new();
        record(&[("a", "7"), ("c", "8")], &mut none_new);
        assert!(none_new.is_empty());
    }
}
