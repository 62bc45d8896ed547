//! Generates `Debug` for the messages that hold redacted fields, so that printing a message
//! (`{:?}`, `#[tracing::instrument]`, `info!(?request)`) shows a `HASH`, `LENGTH` or `PRESENT`
//! field as it is recorded, never its value.
//!
//! prost derives `Debug` for every generated type. For a message with a redacted field the
//! builder asks prost to leave that derive out (`skip_debug`), which prost applies to every
//! type nested in the message as well (its oneofs, nested messages and enums); this module
//! writes the `Debug` of each of them. Other fields print as prost prints them, enum values
//! by their proto names.

use proc_macro2::TokenStream;
use prost_reflect::{FieldDescriptor, FileDescriptor, Kind, MessageDescriptor, OneofDescriptor};
use quote::quote;

use crate::annotations::{Annotations, Redact};
use crate::attributes_codegen::int_pattern;
use crate::descriptors::{
    all_messages, enum_values, holder, shape, ExternPaths, Holder, Shape, ValueKind,
};
use crate::naming::{enum_path, field_ident, message_path, oneof_path, variant_ident};

/// Which types lose prost's `Debug` to redaction, and their generated `Debug`.
pub(crate) struct DebugCodegen<'a> {
    annotations: &'a Annotations,
    /// Path of the runtime crate in generated code.
    runtime: &'a syn::Path,
    /// Full names of the messages with a redacted field whose `Debug` prost leaves out.
    roots: Vec<String>,
    /// The user's own `skip_debug` paths: the types they match get their `Debug` from the user.
    user_skipped: &'a [String],
}

impl<'a> DebugCodegen<'a> {
    /// Plans the `Debug` of `files`' messages; with `enabled` false prost's derive stays on all.
    pub(crate) fn new(
        files: &[FileDescriptor],
        annotations: &'a Annotations,
        externs: &ExternPaths,
        user_skipped: &'a [String],
        runtime: &'a syn::Path,
        enabled: bool,
    ) -> Self {
        let mut codegen = DebugCodegen {
            annotations,
            runtime,
            roots: Vec::new(),
            user_skipped,
        };
        if enabled {
            codegen.roots = files
                .iter()
                .flat_map(all_messages)
                .filter(|message| !externs.contains(message))
                .filter(|message| !codegen.skipped_by_user(message.full_name()))
                .filter(|message| message.fields().any(|field| codegen.redacts(&field)))
                .map(|message| message.full_name().to_owned())
                .collect();
        }
        codegen
    }

    /// The paths to hand to prost's `skip_debug` (`.package.Message`).
    pub(crate) fn skip_debug_paths(&self) -> Vec<String> {
        self.roots.iter().map(|name| format!(".{name}")).collect()
    }

    /// The `Debug` impls of `file`'s types whose derive prost leaves out for redaction.
    pub(crate) fn file(&self, file: &FileDescriptor) -> TokenStream {
        let mut impls = TokenStream::new();
        for message in all_messages(file) {
            let name = message.full_name();
            if !self.under_root(name) || self.skipped_by_user(name) {
                continue;
            }
            impls.extend(self.message(&message));
            for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
                impls.extend(self.oneof(&oneof));
            }
            for enum_type in message.child_enums() {
                if !self.skipped_by_user(enum_type.full_name()) {
                    let ty = enum_path(&enum_type);
                    impls.extend(debug_impl(&ty, quote!(f.write_str(self.as_str_name()))));
                }
            }
        }
        impls
    }

    fn redacts(&self, field: &FieldDescriptor) -> bool {
        self.annotations
            .get(field.full_name())
            .is_some_and(|annotation| annotation.redact != Redact::None)
    }

    fn redaction(&self, field: &FieldDescriptor) -> Redact {
        self.annotations
            .get(field.full_name())
            .map_or(Redact::None, |annotation| annotation.redact)
    }

    /// Whether `name` is a root or nested in one (prost's `skip_debug` matches by prefix).
    fn under_root(&self, name: &str) -> bool {
        self.roots.iter().any(|root| {
            name == root || (name.starts_with(root.as_str()) && name[root.len()..].starts_with('.'))
        })
    }

    /// Whether one of the user's `skip_debug` paths matches the type `name`, as prost matches
    /// paths: the full `.`-prefixed name, one of its prefixes, one of its suffixes, or `.`.
    fn skipped_by_user(&self, name: &str) -> bool {
        let full = format!(".{name}");
        let mut candidates = vec![full.clone(), ".".to_owned()];
        let mut prefix = full.as_str();
        while let Some((shorter, _)) = prefix.rsplit_once('.') {
            if !shorter.is_empty() {
                candidates.push(shorter.to_owned());
            }
            prefix = shorter;
        }
        let mut suffix = &full[1..];
        loop {
            candidates.push(suffix.to_owned());
            match suffix.split_once('.') {
                Some((_, rest)) => suffix = rest,
                None => break,
            }
        }
        self.user_skipped
            .iter()
            .any(|path| candidates.iter().any(|candidate| candidate == path))
    }

    /// `Debug` of a message: its fields in declaration order, then its oneofs, as prost has it.
    fn message(&self, message: &MessageDescriptor) -> TokenStream {
        let ty = message_path(message);
        let name = ty.segments.last().map(|segment| segment.ident.to_string());
        let mut fields = TokenStream::new();
        for field in message.fields() {
            if matches!(holder(&field), Holder::Oneof(_)) {
                continue;
            }
            let ident = field_ident(field.name());
            let label = ident.to_string();
            let value = self.field_value(&field, quote!(self.#ident));
            fields.extend(quote!(debug.field(#label, &#value);));
        }
        for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
            let ident = field_ident(oneof.name());
            let label = ident.to_string();
            fields.extend(quote!(debug.field(#label, &self.#ident);));
        }
        debug_impl(
            &ty,
            quote! {
                let mut debug = f.debug_struct(#name);
                #fields
                debug.finish()
            },
        )
    }

    /// `Debug` of a oneof's enum: `Variant(value)`, the value redacted where its field is.
    fn oneof(&self, oneof: &OneofDescriptor) -> TokenStream {
        let ty = oneof_path(oneof);
        let arms = oneof.fields().map(|field| {
            let variant = variant_ident(field.name());
            let label = variant.to_string();
            let redact = self.redaction(&field);
            let binding = if redact == Redact::Present {
                quote!(_)
            } else {
                quote!(value)
            };
            let value = match (redact, shape(&field)) {
                (Redact::Present, _) => self.present(quote!(true)),
                (Redact::None, Shape::Single(ValueKind::Enum(_))) => {
                    self.enum_field(&field, quote!(value))
                }
                (Redact::None, _) => quote!(value),
                (redact, _) => self.redacted_value(&field, redact, quote!(value)),
            };
            quote!(Self::#variant(#binding) => f.debug_tuple(#label).field(&#value).finish(),)
        });
        debug_impl(&ty, quote!(match self { #(#arms)* }))
    }

    /// What a message's `Debug` shows for one field held at `place` (not in a oneof).
    fn field_value(&self, field: &FieldDescriptor, place: TokenStream) -> TokenStream {
        let redact = self.redaction(field);
        let kind = match shape(field) {
            Shape::Collection if redact == Redact::Present => {
                return self.present(quote!(!#place.is_empty()));
            }
            Shape::Collection if field.is_list() && matches!(field.kind(), Kind::Enum(_)) => {
                return self.enum_field(field, quote!(&#place));
            }
            Shape::Collection => return quote!(#place),
            Shape::Single(kind) => kind,
        };
        let optional = matches!(holder(field), Holder::Optional);
        match redact {
            Redact::None if matches!(kind, ValueKind::Enum(_)) => {
                self.enum_field(field, quote!(&#place))
            }
            Redact::None => quote!(#place),
            Redact::Present if optional => self.present(quote!(#place.is_some())),
            Redact::Present => {
                let present = match kind {
                    ValueKind::String | ValueKind::Bytes => quote!(!#place.is_empty()),
                    ValueKind::Bool => quote!(#place),
                    ValueKind::Float32 | ValueKind::Float64 => quote!(#place != 0.0),
                    ValueKind::Message(_) => quote!(true),
                    _ => quote!(#place != 0),
                };
                self.present(present)
            }
            _ if optional => {
                let value = self.redacted_value(field, redact, quote!(value));
                quote!(#place.as_ref().map(|value| #value))
            }
            _ => self.redacted_value(field, redact, place),
        }
    }

    /// `HASH` or `LENGTH` of the string or bytes `value` (a reference).
    fn redacted_value(
        &self,
        field: &FieldDescriptor,
        redact: Redact,
        value: TokenStream,
    ) -> TokenStream {
        let rt = self.runtime;
        match (redact, field.kind()) {
            (Redact::Hash, Kind::String) => {
                quote!(#rt::__private::Redacted::Hash((#value).as_bytes()))
            }
            (Redact::Hash, _) => quote!(#rt::__private::Redacted::Hash(&(#value)[..])),
            _ => quote!(#rt::__private::Redacted::Length((#value).len())),
        }
    }

    /// `PRESENT(…)` of the bool expression `present`.
    fn present(&self, present: TokenStream) -> TokenStream {
        let rt = self.runtime;
        quote!(#rt::__private::Redacted::Present(#present))
    }

    /// An enum field's value (`&i32`, `&Option<i32>` or `&Vec<i32>`) shown by proto names.
    fn enum_field(&self, field: &FieldDescriptor, value: TokenStream) -> TokenStream {
        let rt = self.runtime;
        let Kind::Enum(enum_type) = field.kind() else {
            return value;
        };
        let arms = enum_values(&enum_type).into_iter().map(|(number, name)| {
            let number = int_pattern(number);
            quote!(#number => Some(#name),)
        });
        quote! {
            #rt::__private::EnumField::new(#value, |number| match number {
                #(#arms)*
                _ => None,
            })
        }
    }
}

/// `impl Debug for ty` with `body` as `fmt`'s body (`self` and `f` in scope).
fn debug_impl(ty: &syn::Path, body: TokenStream) -> TokenStream {
    quote! {
        #[allow(deprecated)]
        impl ::core::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #body
            }
        }
    }
}
