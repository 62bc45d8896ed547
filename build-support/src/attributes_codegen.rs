//! Generates the `SpanAttributes` implementation of every message of a proto file.

use std::collections::HashMap;

use proc_macro2::{Literal, TokenStream};
use prost_reflect::{FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};
use quote::{format_ident, quote};

use crate::annotations::{Annotation, Annotations, Redact};
use crate::descriptors::{
    all_messages, enum_values, holder, shape, ExternPaths, Holder, Shape, ValueKind,
};
use crate::naming::{field_ident, message_path, oneof_path, variant_ident};

/// Generates `SpanAttributes` impls, given every annotation of the compiled protos.
pub(crate) struct AttributesCodegen<'a> {
    annotations: &'a Annotations,
    externs: &'a ExternPaths,
    /// Messages whose impl the user writes (full names).
    hand_written: &'a [String],
    /// Path of the runtime crate in generated code, `::tonic_traced` by default.
    runtime: &'a syn::Path,
    /// Whether a message records anything, by full name.
    recordable: HashMap<String, bool>,
}

impl<'a> AttributesCodegen<'a> {
    pub(crate) fn new(
        annotations: &'a Annotations,
        externs: &'a ExternPaths,
        hand_written: &'a [String],
        runtime: &'a syn::Path,
    ) -> Self {
        AttributesCodegen {
            annotations,
            externs,
            hand_written,
            runtime,
            recordable: HashMap::new(),
        }
    }

    /// The impls for the messages of `file`, after `other_impls` (more generated for the same
    /// file), formatted, to append to its package module.
    pub(crate) fn file(&mut self, file: &FileDescriptor, other_impls: TokenStream) -> String {
        let mut impls = other_impls;
        for message in all_messages(file) {
            let hand_written = self
                .hand_written
                .iter()
                .any(|name| name == message.full_name());
            if self.externs.contains(&message) {
                continue;
            }
            impls.extend(self.hashed_field_registrations(&message));
            if !hand_written {
                impls.extend(self.message(&message));
            }
        }
        let impls: syn::File = syn::parse2(impls).unwrap_or_else(|error| {
            panic!("tonic-traced-build bug: generated impls do not parse: {error}")
        });
        prettyplease::unparse(&impls)
    }

    /// Registers each `HASH` field of `message`, so that setup can tell that a hash key is
    /// needed.
    fn hashed_field_registrations(&self, message: &MessageDescriptor) -> TokenStream {
        let rt = self.runtime;
        message
            .fields()
            .filter(|field| {
                self.annotations
                    .get(field.full_name())
                    .is_some_and(|annotation| annotation.redact == Redact::Hash)
            })
            .map(|field| {
                let full_name = field.full_name();
                quote! {
                    #rt::__private::inventory::submit! {
                        #rt::__private::HashedField { full_name: #full_name }
                    }
                }
            })
            .collect()
    }

    fn message(&mut self, message: &MessageDescriptor) -> TokenStream {
        let rt = self.runtime;
        let mut body = TokenStream::new();
        for field in message.fields() {
            // A message field marked PRESENT records its presence and, like any message
            // field, the annotated fields inside it.
            if let Some(annotation) = self.annotations.get(field.full_name()) {
                body.extend(self.record_field(&field, annotation));
            }
            if self.descends(message, &field) {
                body.extend(self.descend(&field));
            }
        }
        let sink = if body.is_empty() {
            format_ident!("_sink")
        } else {
            format_ident!("sink")
        };
        let ty = message_path(message);
        quote! {
            impl #rt::SpanAttributes for #ty {
                #[allow(deprecated)]
                fn record_attributes(&self, #sink: &mut dyn #rt::AttributeSink) {
                    #body
                }
            }
        }
    }

    /// `sink.record(…)` for an annotated field.
    fn record_field(&self, field: &FieldDescriptor, annotation: &Annotation) -> TokenStream {
        let rt = self.runtime;
        let key = &annotation.key;
        let name = field_ident(field.name());
        let place = quote!(self.#name);
        let record = |value: TokenStream| quote!(sink.record(#key, #rt::AttributeValue::#value););
        let kind = match shape(field) {
            Shape::Collection if annotation.redact == Redact::Present => {
                return record(quote!(Bool(!#place.is_empty())));
            }
            Shape::Collection => return record(quote!(I64(#place.len() as i64))),
            Shape::Single(kind) => kind,
        };
        let holder = holder(field);
        if annotation.redact == Redact::Present {
            let present = match &holder {
                Holder::Optional => quote!(#place.is_some()),
                Holder::Oneof(oneof) => {
                    let (path, variant) = (oneof_path(oneof), variant_ident(field.name()));
                    let oneof = field_ident(oneof.name());
                    quote!(matches!(&self.#oneof, Some(#path::#variant(_))))
                }
                Holder::Plain => match kind {
                    ValueKind::String | ValueKind::Bytes => quote!(!#place.is_empty()),
                    ValueKind::Bool => place,
                    ValueKind::Float32 | ValueKind::Float64 => quote!(#place != 0.0),
                    ValueKind::Message(_) => quote!(true),
                    _ => quote!(#place != 0),
                },
            };
            return record(quote!(Bool(#present)));
        }
        let value = match (kind, annotation.redact) {
            (ValueKind::Int64, _) => quote!(I64(*value)),
            (ValueKind::Int32OrUInt32, _) => quote!(I64(i64::from(*value))),
            (ValueKind::UInt64, _) => quote!(U64(*value)),
            (ValueKind::Float32, _) => quote!(F64(f64::from(*value))),
            (ValueKind::Float64, _) => quote!(F64(*value)),
            (ValueKind::Bool, _) => quote!(Bool(*value)),
            (ValueKind::String, Redact::Hash) => {
                quote!(Str(#rt::redact::hash(value.as_bytes()).as_str()))
            }
            (ValueKind::Bytes, Redact::Hash) => quote!(Str(#rt::redact::hash(&value[..]).as_str())),
            (ValueKind::String | ValueKind::Bytes, Redact::Length) | (ValueKind::Bytes, _) => {
                quote!(I64(value.len() as i64))
            }
            (ValueKind::String, _) => match annotation.max_length {
                Some(length) => {
                    let length = length as usize;
                    quote!(Str(#rt::__private::truncate(value.as_str(), #length)))
                }
                None => quote!(Str(value.as_str())),
            },
            (ValueKind::Enum(enum_type), _) => {
                let mut arms = TokenStream::new();
                for (number, name) in enum_values(&enum_type) {
                    let number = int_pattern(number);
                    arms.extend(quote!(#number => #rt::AttributeValue::Str(#name),));
                }
                let statement = quote! {
                    sink.record(#key, match *value {
                        #arms
                        unknown => #rt::AttributeValue::I64(i64::from(unknown)),
                    });
                };
                return bind_value(field, &holder, statement);
            }
            // Rejected by annotation checks unless PRESENT, handled above.
            (ValueKind::Message(_), _) => return TokenStream::new(),
        };
        bind_value(field, &holder, record(value))
    }

    /// Records a nested message's attributes through a field that holds it.
    fn descend(&self, field: &FieldDescriptor) -> TokenStream {
        let rt = self.runtime;
        let call = quote!(#rt::SpanAttributes::record_attributes(value, sink););
        bind_value(field, &holder(field), call)
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
fn bind_value(field: &FieldDescriptor, holder: &Holder, statement: TokenStream) -> TokenStream {
    let name = field_ident(field.name());
    match holder {
        Holder::Plain => quote!({ let value = &self.#name; #statement }),
        Holder::Optional => quote!(if let Some(value) = &self.#name { #statement }),
        Holder::Oneof(oneof) => {
            let (path, variant) = (oneof_path(oneof), variant_ident(field.name()));
            let oneof = field_ident(oneof.name());
            quote!(if let Some(#path::#variant(value)) = &self.#oneof { #statement })
        }
    }
}

/// An `i32` match pattern without a type suffix (`3`, `-1`).
pub(crate) fn int_pattern(number: i32) -> TokenStream {
    let magnitude = Literal::u32_unsuffixed(number.unsigned_abs());
    if number < 0 {
        quote!(-#magnitude)
    } else {
        quote!(#magnitude)
    }
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
