//! The response streams of streaming handlers, in the expansion: the associated stream types
//! become `TracedStream<…>` of the type they declare, so the code that handles the declared
//! type is rewritten to keep its meaning, and a stream type spelled out in a return type is
//! checked to be the declared one.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    GenericArgument, Ident, PathArguments, ReturnType, TraitBoundModifier, Type, TypeParamBound,
};

use crate::ast::{response_argument, self_associated, ungroup};

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

/// Replaces `T` in every `Response<T>` whose `T` is written as `spelled` (see [`same_type`]).
pub(crate) struct ReplaceResponse<'a> {
    spelled: &'a Type,
    with: Type,
}

impl<'a> ReplaceResponse<'a> {
    pub(crate) fn new(spelled: &'a Type, with: Type) -> Self {
        ReplaceResponse { spelled, with }
    }
}

impl VisitMut for ReplaceResponse<'_> {
    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        let spelled = response_argument(segment).is_some_and(|ty| same_type(ty, self.spelled));
        if let (true, PathArguments::AngleBracketed(arguments)) = (spelled, &mut segment.arguments)
        {
            arguments.args[0] = GenericArgument::Type(self.with.clone());
            return;
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }
}

/// Whether `a` and `b` are written as the same type, as far as a stream type can be written:
/// paths segment by segment as far as both are written (`codegen::BoxStream<pb::Note>` is
/// `BoxStream<Note>`, as a `use` would make it; see [`same_path`]), trait objects and `impl Trait` by their
/// bounds, references, tuples and slices by what they hold; parentheses do not count. Types
/// no stream can be (arrays, function pointers, macros) are never the same.
fn same_type(a: &Type, b: &Type) -> bool {
    match (ungroup(a), ungroup(b)) {
        (Type::Path(a), Type::Path(b)) => {
            let qself_same = match (&a.qself, &b.qself) {
                (None, None) => true,
                (Some(a), Some(b)) => a.position == b.position && same_type(&a.ty, &b.ty),
                _ => false,
            };
            qself_same && same_path(&a.path, &b.path)
        }
        (Type::TraitObject(a), Type::TraitObject(b)) => same_bounds(&a.bounds, &b.bounds),
        (Type::ImplTrait(a), Type::ImplTrait(b)) => same_bounds(&a.bounds, &b.bounds),
        (Type::Reference(a), Type::Reference(b)) => {
            a.mutability.is_some() == b.mutability.is_some()
                && a.lifetime.as_ref().map(|l| &l.ident) == b.lifetime.as_ref().map(|l| &l.ident)
                && same_type(&a.elem, &b.elem)
        }
        (Type::Tuple(a), Type::Tuple(b)) => pairwise(&a.elems, &b.elems, same_type),
        (Type::Slice(a), Type::Slice(b)) => same_type(&a.elem, &b.elem),
        (Type::Never(_), Type::Never(_)) => true,
        _ => false,
    }
}

/// Whether two paths are the same as far as both are written, from their last segment back
/// (`tonic::codegen::BoxStream` is `BoxStream`; `Self::Notes` is not `pb::Notes`): each
/// segment the same name with the same generic arguments.
fn same_path(a: &syn::Path, b: &syn::Path) -> bool {
    let segments = a.segments.iter().rev().zip(b.segments.iter().rev());
    segments
        .into_iter()
        .all(|(a, b)| a.ident == b.ident && same_arguments(&a.arguments, &b.arguments))
}

/// Whether the generic arguments of two path segments are the same.
fn same_arguments(a: &PathArguments, b: &PathArguments) -> bool {
    match (a, b) {
        (PathArguments::None, PathArguments::None) => true,
        (PathArguments::AngleBracketed(a), PathArguments::AngleBracketed(b)) => {
            pairwise(&a.args, &b.args, same_argument)
        }
        (PathArguments::Parenthesized(a), PathArguments::Parenthesized(b)) => {
            pairwise(&a.inputs, &b.inputs, same_type)
                && match (&a.output, &b.output) {
                    (ReturnType::Default, ReturnType::Default) => true,
                    (ReturnType::Type(_, a), ReturnType::Type(_, b)) => same_type(a, b),
                    _ => false,
                }
        }
        _ => false,
    }
}

/// Whether two generic arguments are the same: types, lifetimes, `Item = T` and `Item: Bound`.
fn same_argument(a: &GenericArgument, b: &GenericArgument) -> bool {
    match (a, b) {
        (GenericArgument::Type(a), GenericArgument::Type(b)) => same_type(a, b),
        (GenericArgument::Lifetime(a), GenericArgument::Lifetime(b)) => a.ident == b.ident,
        (GenericArgument::AssocType(a), GenericArgument::AssocType(b)) => {
            a.ident == b.ident
                && a.generics.is_none()
                && b.generics.is_none()
                && same_type(&a.ty, &b.ty)
        }
        (GenericArgument::Constraint(a), GenericArgument::Constraint(b)) => {
            a.ident == b.ident && same_bounds(&a.bounds, &b.bounds)
        }
        _ => false,
    }
}

/// Whether two lists of bounds are the same, in the same order.
fn same_bounds<P>(a: &Punctuated<TypeParamBound, P>, b: &Punctuated<TypeParamBound, P>) -> bool {
    pairwise(a, b, |a, b| match (a, b) {
        (TypeParamBound::Trait(a), TypeParamBound::Trait(b)) => {
            matches!(
                (&a.modifier, &b.modifier),
                (TraitBoundModifier::None, TraitBoundModifier::None)
                    | (TraitBoundModifier::Maybe(_), TraitBoundModifier::Maybe(_))
            ) && a.lifetimes.is_none()
                && b.lifetimes.is_none()
                && same_path(&a.path, &b.path)
        }
        (TypeParamBound::Lifetime(a), TypeParamBound::Lifetime(b)) => a.ident == b.ident,
        _ => false,
    })
}

/// Whether two lists have the same length and `same` holds of each pair.
fn pairwise<T, P>(
    a: &Punctuated<T, P>,
    b: &Punctuated<T, P>,
    same: impl Fn(&T, &T) -> bool,
) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
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

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    #[test]
    fn types_are_the_same_as_far_as_both_paths_are_written() {
        let same: [(Type, Type); 6] = [
            (parse_quote!(Notes), parse_quote!(Notes)),
            (parse_quote!(pb::Notes), parse_quote!(Notes)),
            (
                parse_quote!(tonic::codegen::BoxStream<pb::Note>),
                parse_quote!(BoxStream<Note>),
            ),
            (
                parse_quote!(Pin<Box<dyn Stream<Item = Result<Note, Status>> + Send + 'static>>),
                parse_quote!(
                    std::pin::Pin<
                        Box<(dyn futures::Stream<Item = Result<Note, Status>> + Send + 'static)>,
                    >
                ),
            ),
            (parse_quote!((Notes)), parse_quote!(Notes)),
            (parse_quote!(&'a [Note]), parse_quote!(&'a [Note])),
        ];
        for (a, b) in &same {
            assert!(
                same_type(a, b),
                "{} and {}",
                quote::quote!(#a),
                quote::quote!(#b)
            );
        }
        let different: [(Type, Type); 6] = [
            (parse_quote!(Notes), parse_quote!(Replies)),
            (parse_quote!(Self::Notes), parse_quote!(pb::Notes)),
            (
                parse_quote!(BoxStream<Note>),
                parse_quote!(BoxStream<Reply>),
            ),
            (parse_quote!(BoxStream<Note>), parse_quote!(BoxStream)),
            (
                parse_quote!(Pin<Box<dyn Stream<Item = Note> + Send>>),
                parse_quote!(Pin<Box<dyn Stream<Item = Note>>>),
            ),
            (parse_quote!([Note; 2]), parse_quote!([Note; 2])),
        ];
        for (a, b) in &different {
            assert!(
                !same_type(a, b),
                "{} and {}",
                quote::quote!(#a),
                quote::quote!(#b)
            );
        }
    }
}
