//! The annotated fields on an RPC span: the request's, then those of the response (of unary and
//! client-streaming calls) whose keys the request did not already set. The request's value is
//! kept when both annotate one key: it is what the call was asked to do, and it is on the span
//! from the start. Message spans and events keep each message's own values.

use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue};

use crate::SpanAttributes;

/// The keys of the fields recorded on one RPC span so far.
#[derive(Debug, Default)]
pub(crate) struct RecordedFields(Mutex<Vec<Key>>);

impl RecordedFields {
    /// Adds the record of a recording RPC span to its context.
    pub(crate) fn attach(cx: Context) -> Context {
        if !cx.span().is_recording() {
            return cx;
        }
        cx.with_value(RecordedFields::default())
    }
}

/// Records `message`'s annotated fields on the RPC span of `cx`, when it is recording.
pub(crate) fn record_message_fields(cx: &Context, message: &dyn SpanAttributes) {
    if !cx.span().is_recording() {
        return;
    }
    let mut attributes = Vec::new();
    message.record_attributes(&mut attributes);
    record_fields(cx, attributes);
}

/// Records `attributes`, a message's annotated fields, on the RPC span of `cx`, except those
/// whose keys an earlier message set there.
pub(crate) fn record_fields(cx: &Context, mut attributes: Vec<KeyValue>) {
    if attributes.is_empty() {
        return;
    }
    if let Some(recorded) = cx.get::<RecordedFields>() {
        let mut keys = recorded.0.lock().unwrap_or_else(PoisonError::into_inner);
        attributes.retain(|attribute| !keys.contains(&attribute.key));
        keys.extend(attributes.iter().map(|attribute| attribute.key.clone()));
    }
    cx.span().set_attributes(attributes);
}
