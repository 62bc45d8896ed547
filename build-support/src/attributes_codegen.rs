//! Generates the `SpanAttributes` implementation of every message of a proto file.

use std::collections::HashMap;
use std::fmt::Write;

use prost_reflect::{FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};

use crate::annotations::{Annotation, Annotations, Redact};
use crate::descriptors::{all_messages, holder, shape, ExternPaths, Holder, Shape, ValueKind};
use crate::naming::{message_path, oneof_path, to_snake, to_upper_camel};

/// Generates `SpanAttributes` impls, given every annotation of the compiled protos.
pub(crate) struct AttributesCodegen<'a> {
    annotations: &'a Annotations,
    externs: &'a ExternPaths,
    /// Messages whose impl the user writes (full names).
    hand_written: &'a [String],
    /// Path of the runtime crate in generated code, `::tonic_traced` by default.
    runtime: &'a str,
    /// Whether a message records anything, by full name.
    recordable: HashMap<String, bool>,
}

impl<'a> AttributesCodegen<'a> {
    pub(crate) fn new(
        annotations: &'a Annotations,
        externs: &'a ExternPaths,
        hand_written: &'a [String],
        runtime: &'a str,
    ) -> Self {
        AttributesCodegen {
            annotations,
            externs,
            hand_written,
            runtime,
            recordable: HashMap::new(),
        }
    }

    /// The impls for the messages of `file`, to append to its package module.
    pub(crate) fn file(&mut self, file: &FileDescriptor) -> String {
        let mut code = String::new();
        for message in all_messages(file) {
            let hand_written = self
                .hand_written
                .iter()
                .any(|name| name == message.full_name());
            if !self.externs.contains(&message) && !hand_written {
                self.message(&message, &mut code);
            }
        }
        code
    }

    fn message(&mut self, message: &MessageDescriptor, code: &mut String) {
        let rt = self.runtime;
        let mut body = String::new();
        for field in message.fields() {
            if let Some(annotation) = self.annotations.get(field.full_name()) {
                body.push_str(&self.record_field(&field, annotation));
            } else if self.descends(message, &field) {
                body.push_str(&self.descend(&field));
            }
        }
        let sink = if body.is_empty() { "_sink" } else { "sink" };
        let _ = write!(
            code,
            "\nimpl {rt}::SpanAttributes for {ty} {{\n    #[allow(deprecated)]\n    fn record_attributes(&self, {sink}: &mut dyn {rt}::AttributeSink) {{\n{body}    }}\n}}\n",
            ty = message_path(message),
        );
    }

    /// `sink.record(…)` for an annotated field.
    fn record_field(&self, field: &FieldDescriptor, annotation: &Annotation) -> String {
        let rt = self.runtime;
        let key = &annotation.key;
        let place = format!("self.{}", to_snake(field.name()));
        let value = |expr: String| format!("sink.record({key:?}, {rt}::AttributeValue::{expr});");
        let kind = match shape(field) {
            Shape::Collection if annotation.redact == Redact::Present => {
                return line(value(format!("Bool(!{place}.is_empty())")));
            }
            Shape::Collection => return line(value(format!("I64({place}.len() as i64)"))),
            Shape::Single(kind) => kind,
        };
        let holder = holder(field);
        if annotation.redact == Redact::Present {
            let present = match &holder {
                Holder::Optional => format!("{place}.is_some()"),
                Holder::Oneof(oneof) => format!(
                    "matches!(&self.{}, Some({}::{}(_)))",
                    to_snake(oneof.name()),
                    oneof_path(oneof),
                    to_upper_camel(field.name())
                ),
                Holder::Plain => match kind {
                    ValueKind::String | ValueKind::Bytes => format!("!{place}.is_empty()"),
                    ValueKind::Bool => place,
                    ValueKind::Float32 | ValueKind::Float64 => format!("{place} != 0.0"),
                    ValueKind::Message(_) => "true".to_owned(),
                    _ => format!("{place} != 0"),
                },
            };
            return line(value(format!("Bool({present})")));
        }
        let expr = match (kind, annotation.redact) {
            (ValueKind::Int64, _) => "I64(*value)".to_owned(),
            (ValueKind::Int32OrUInt32, _) => "I64(i64::from(*value))".to_owned(),
            (ValueKind::UInt64, _) => "U64(*value)".to_owned(),
            (ValueKind::Float32, _) => "F64(f64::from(*value))".to_owned(),
            (ValueKind::Float64, _) => "F64(*value)".to_owned(),
            (ValueKind::Bool, _) => "Bool(*value)".to_owned(),
            (ValueKind::String, Redact::Hash) => {
                format!("Str({rt}::redact::hash(value.as_bytes()).as_str())")
            }
            (ValueKind::Bytes, Redact::Hash) => {
                format!("Str({rt}::redact::hash(&value[..]).as_str())")
            }
            (ValueKind::String | ValueKind::Bytes, Redact::Length) | (ValueKind::Bytes, _) => {
                "I64(value.len() as i64)".to_owned()
            }
            (ValueKind::String, _) => "Str(value.as_str())".to_owned(),
            (ValueKind::Enum(enum_type), _) => {
                let mut arms = String::new();
                let mut seen = Vec::new();
                for variant in enum_type.values() {
                    // With allow_alias several names share a number; the first one is used.
                    if !seen.contains(&variant.number()) {
                        seen.push(variant.number());
                        let _ = write!(
                            arms,
                            "{} => {rt}::AttributeValue::Str({:?}), ",
                            variant.number(),
                            variant.name()
                        );
                    }
                }
                return bind_value(field, &holder, &format!(
                    "sink.record({key:?}, match *value {{ {arms}unknown => {rt}::AttributeValue::I64(i64::from(unknown)) }});"
                ));
            }
            // Rejected by annotation checks unless PRESENT, handled above.
            (ValueKind::Message(_), _) => return String::new(),
        };
        bind_value(field, &holder, &value(expr))
    }

    /// Records a nested message's attributes through a field that holds it.
    fn descend(&self, field: &FieldDescriptor) -> String {
        let call = format!(
            "{}::SpanAttributes::record_attributes(value, sink);",
            self.runtime
        );
        bind_value(field, &holder(field), &call)
    }

    /// A singular message field is descended into when its type is generated here, records
    /// something, and cannot lead back to `message` (so recursive types never loop).
    fn descends(&mut self, message: &MessageDescriptor, field: &FieldDescriptor) -> bool {
        match nested_message(field) {
            Some(nested) => {
                !self.externs.contains(&nested)
                    && !reaches(&nested, message)
                    && self.records_anything(&nested)
            }
            None => false,
        }
    }

    fn records_anything(&mut self, message: &MessageDescriptor) -> bool {
        if let Some(known) = self.recordable.get(message.full_name()) {
            return *known;
        }
        // Descent edges form no cycle (see `descends`), so this recursion ends.
        self.recordable
            .insert(message.full_name().to_owned(), false);
        let records = message.fields().any(|field| {
            self.annotations.contains_key(field.full_name()) || self.descends(message, &field)
        });
        self.recordable
            .insert(message.full_name().to_owned(), records);
        records
    }
}

/// Wraps `statement` so that `value` is a reference to the field's value, if it is set.
fn bind_value(field: &FieldDescriptor, holder: &Holder, statement: &str) -> String {
    let place = format!("self.{}", to_snake(field.name()));
    match holder {
        Holder::Plain => line(format!("{{ let value = &{place}; {statement} }}")),
        Holder::Optional => line(format!("if let Some(value) = &{place} {{ {statement} }}")),
        Holder::Oneof(oneof) => line(format!(
            "if let Some({}::{}(value)) = &self.{} {{ {statement} }}",
            oneof_path(oneof),
            to_upper_camel(field.name()),
            to_snake(oneof.name())
        )),
    }
}

fn line(statement: String) -> String {
    format!("        {statement}\n")
}

/// The message type of a singular message field.
fn nested_message(field: &FieldDescriptor) -> Option<MessageDescriptor> {
    match (field.kind(), field.is_list() || field.is_map()) {
        (Kind::Message(message), false) => Some(message),
        _ => None,
    }
}

/// Whether `goal` can be reached from `start` through singular message fields.
fn reaches(start: &MessageDescriptor, goal: &MessageDescriptor) -> bool {
    let mut visited = vec![start.full_name().to_owned()];
    let mut pending = vec![start.clone()];
    while let Some(message) = pending.pop() {
        if message.full_name() == goal.full_name() {
            return true;
        }
        for nested in message.fields().filter_map(|field| nested_message(&field)) {
            if !visited.iter().any(|name| name == nested.full_name()) {
                visited.push(nested.full_name().to_owned());
                pending.push(nested);
            }
        }
    }
    false
}
