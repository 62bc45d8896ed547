//! The response streams of streaming handlers, in the expansion: the associated stream types
//! become `TracedStream<…>` of the type they declare, so the code that handles the declared
//! type is rewritten to keep its meaning, and a stream type spelled out in a return type is
//! checked to be the declared one.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, Ident, PathArguments, Type};

use crate::ast::{response_argument, self_associated};

/// Replaces `Self::Name` with the type declared for `Name`, for code that handles the stream
/// as written while `Self::Name` becomes the traced stream.
pub(crate) struct UnwrapStreamTypes<'a> {
    pub(crate) declared: &'a HashMap<Ident, Type>,
}

impl VisitMut for UnwrapStreamTypes<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            if let Some(declared) = self_associated(path).and_then(|name| self.declared.get(name)) {
                *ty = declared.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// Replaces `T` in every `Response<T>` whose `T` is written as `spelled`.
pub(crate) struct ReplaceResponse {
    spelled: String,
    with: Type,
}

impl ReplaceResponse {
    pub(crate) fn new(spelled: &Type, with: Type) -> Self {
        ReplaceResponse {
            spelled: quote!(#spelled).to_string(),
            with,
        }
    }
}

impl VisitMut for ReplaceResponse {
    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        let spelled =
            response_argument(segment).is_some_and(|ty| quote!(#ty).to_string() == self.spelled);
        if let (true, PathArguments::AngleBracketed(arguments)) = (spelled, &mut segment.arguments)
        {
            arguments.args[0] = GenericArgument::Type(self.with.clone());
            return;
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }
}

/// A statement that compiles only if `spelled`, the stream type `method` returns, is the type
/// `type Name = declared;` declares; otherwise the error is at `spelled` and says so.
pub(crate) fn check_spelled(
    method: &Ident,
    name: &Ident,
    spelled: &Type,
    declared: &Type,
) -> TokenStream {
    let method = method.to_string();
    let method = method.trim_start_matches("r#");
    let message =
        format!("`{{Self}}` is not the stream type of `{method}`: `type {name}` is `{{Declared}}`");
    let label = format!("write `Self::{name}` here, or the type `{name}` declares");
    let at = Span::mixed_site().located_at(spelled.span());
    quote_spanned! {at=>
        {
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            trait __TonicTracedStreamType<Declared> {}
            impl<T> __TonicTracedStreamType<T> for T {}
            fn __tonic_traced_check<Spelled: __TonicTracedStreamType<Declared>, Declared>() {}
            __tonic_traced_check::<#spelled, #declared>();
        }
    }
}
