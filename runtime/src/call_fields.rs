//! The annotated fields on an RPC span: the request's, then those of the response (of unary and
//! client-streaming calls) whose keys the request did not already set. The request's value is
//! kept when both annotate one key: it is what the call was asked to do, and it is on the span
//! from the start. Message spans and events keep each message's own values.

use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue};

use crate::SpanAttributes;

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
    message.record_attributes(&mut attributes);
    record_fields(cx, recorded, attributes);
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
