//! The annotated fields on an RPC span: the request's, then those of the response (of unary and
//! client-streaming calls) whose keys the request did not already set. The request's value is
//! kept when both annotate one key: it is what the call was asked to do, and it is on the span
//! from the start. Message spans and events keep each message's own values.

use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue};

use crate::{AttributeSink, AttributeValue, SpanAttributes};

/// The keys of the fields recorded on one RPC span so far: held by the server's call, and in
/// the context of a client call, whose request and response are seen by different parts.
#[derive(Debug, Default)]
pub(crate) struct RecordedFields(Mutex<Vec<Key>>);

impl RecordedFields {
    /// Adds a record to the context of a recording client RPC span.
    pub(crate) fn attach(cx: Context) -> Context {
        if !cx.span().is_recording() {
            return cx;
        }
        cx.with_value(RecordedFields::default())
    }

    /// Keeps in `attributes` only the fields whose keys are not recorded yet, and notes them.
    pub(crate) fn keep_new(&self, attributes: &mut Vec<KeyValue>) {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        attributes.retain(|attribute| !keys.contains(&attribute.key));
        keys.extend(attributes.iter().map(|attribute| attribute.key.clone()));
    }

    /// Adds to `attributes` the fields of `message` whose keys are not recorded yet, and notes
    /// them. The others' values are not even converted.
    pub(crate) fn record_new(&self, message: &dyn SpanAttributes, attributes: &mut Vec<KeyValue>) {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let earlier = keys.len();
        message.record_attributes(&mut NewFields {
            keys: &mut keys,
            earlier,
            attributes,
        });
    }
}

/// Passes on the fields whose keys no earlier message recorded, and notes their keys.
struct NewFields<'a> {
    keys: &'a mut Vec<Key>,
    /// How many of `keys` earlier messages recorded.
    earlier: usize,
    attributes: &'a mut Vec<KeyValue>,
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
        self.attributes.record(key, value);
    }
}

/// Records `message`'s annotated fields on the RPC span of `cx`, when it is recording, except
/// those `recorded` already has (the context's record when `None`).
pub(crate) fn record_message_fields(
    cx: &Context,
    recorded: Option<&RecordedFields>,
    message: &dyn SpanAttributes,
) {
    if !cx.span().is_recording() {
        return;
    }
    let mut attributes = Vec::new();
    match recorded.or_else(|| cx.get::<RecordedFields>()) {
        Some(recorded) => recorded.record_new(message, &mut attributes),
        None => message.record_attributes(&mut attributes),
    }
    if !attributes.is_empty() {
        cx.span().set_attributes(attributes);
    }
}

/// Records `attributes`, a message's annotated fields, on the RPC span of `cx`, except those
/// whose keys an earlier message set there (as `recorded`, or the context's record, says).
pub(crate) fn record_fields(
    cx: &Context,
    recorded: Option<&RecordedFields>,
    mut attributes: Vec<KeyValue>,
) {
    if attributes.is_empty() {
        return;
    }
    if let Some(recorded) = recorded.or_else(|| cx.get::<RecordedFields>()) {
        recorded.keep_new(&mut attributes);
    }
    cx.span().set_attributes(attributes);
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
        let recorded = RecordedFields::default();
        let mut request = Vec::new();
        recorded.record_new(&Fields(&[("a", "1"), ("b", "2"), ("a", "3")]), &mut request);
        assert_eq!(request, [KeyValue::new("a", "3"), KeyValue::new("b", "2")]);
        let mut response = Vec::new();
        recorded.record_new(
            &Fields(&[("b", "4"), ("c", "5"), ("c", "6")]),
            &mut response,
        );
        assert_eq!(response, [KeyValue::new("c", "6")]);
        let mut none_new = Vec::new();
        recorded.record_new(&Fields(&[("a", "7"), ("c", "8")]), &mut none_new);
        assert!(none_new.is_empty());
    }
}
