//! Handlers marked `#[tracing::instrument]`. Left on the handler, the attribute would wrap the
//! traced body, and its span would start before the SERVER span's context is current: the root
//! of a trace of its own. So the body moves, with the attribute, into a helper method of an
//! inherent impl, which the traced handler calls inside the SERVER span's context; the
//! `instrument` span, created when the body first runs, becomes the SERVER span's child.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::{
    parse_quote, Attribute, FnArg, GenericParam, Generics, ImplItemFn, ItemImpl, Lifetime, Meta,
    Path, ReturnType, Type, Visibility,
};

use crate::attr::is_instrument;

/// Moves `method`'s attributes and body into a helper returning `output`, which the traced
/// `method` calls with its request: `Self::__tonic_traced_<trait>_<method>(self, request)`,
/// named after the trait too, as one type may serve two traits with a method of one name.
pub(crate) fn split_off(
    method: &mut ImplItemFn,
    output: Type,
    trait_path: &Path,
    service: &Generics,
) -> ImplItemFn {
    let name = method.sig.ident.to_string();
    let name = name.trim_start_matches("r#");
    let trait_name = trait_path
        .segments
        .last()
        .map(|segment| segment.ident.to_string().to_lowercase())
        .unwrap_or_default();
    let mut helper = method.clone();
    helper.vis = Visibility::Inherited;
    helper.sig.ident = format_ident!("__tonic_traced_{}_{}", trait_name, name);
    helper.sig.output = ReturnType::Type(Default::default(), Box::new(output));
    for attr in helper.attrs.iter_mut().filter(|attr| is_instrument(attr)) {
        name_span(attr, name);
    }
    capture_all(&mut helper, service);
    method.attrs.retain(|attr| !is_instrument(attr));
    helper
}

/// The inherent impl holding the helpers, with the service impl's generics and the
/// attributes that still apply to it (`cfg` and lint levels; not `#[async_trait]`).
pub(crate) fn helpers_impl(service: &ItemImpl, helpers: &[ImplItemFn]) -> TokenStream {
    if helpers.is_empty() {
        return TokenStream::new();
    }
    let attrs = service.attrs.iter().filter(|attr| {
        [
            "cfg", "cfg_attr", "allow", "expect", "warn", "deny", "forbid",
        ]
        .iter()
        .any(|name| attr.path().is_ident(name))
    });
    let generics = &service.generics;
    let where_clause = &generics.where_clause;
    let self_ty = &service.self_ty;
    quote! {
        #(#attrs)*
        impl #generics #self_ty #where_clause {
            #(#helpers)*
        }
    }
}

/// Names the `instrument` span after the handler, as it was before the body moved, unless
/// the attribute names it already (`name = …`, or a string literal).
fn name_span(attr: &mut Attribute, name: &str) {
    match &mut attr.meta {
        Meta::Path(path) => attr.meta = parse_quote!(#path(name = #name)),
        Meta::List(list) if !names_span(&list.tokens) => {
            let tokens = &list.tokens;
            list.tokens = quote!(name = #name, #tokens);
        }
        Meta::List(_) | Meta::NameValue(_) => {}
    }
}

/// Whether `instrument`'s arguments start one with `name` or a string literal.
fn names_span(arguments: &TokenStream) -> bool {
    let mut starts_argument = true;
    for token in arguments.clone() {
        if starts_argument {
            match &token {
                TokenTree::Ident(ident) if ident == "name" => return true,
                TokenTree::Literal(literal) if literal.to_string().starts_with('"') => return true,
                _ => {}
            }
        }
        starts_argument = match &token {
            TokenTree::Punct(punct) => punct.as_char() == ',',
            TokenTree::Group(group) => group.delimiter() == Delimiter::None && starts_argument,
            _ => false,
        };
    }
    false
}

/// A helper returning `impl Future` captures what the trait method's future captured: every
/// generic parameter and the borrow of `self`, which an `impl Trait` of an inherent method
/// does not capture by itself before the 2024 edition.
fn capture_all(helper: &mut ImplItemFn, service: &Generics) {
    let ReturnType::Type(_, output) = &mut helper.sig.output else {
        return;
    };
    let Type::ImplTrait(output) = &mut **output else {
        return;
    };
    if let Some(FnArg::Receiver(receiver)) = helper.sig.inputs.first_mut() {
        if let Some((_, lifetime @ None)) = &mut receiver.reference {
            let borrow = Lifetime::new("'__tonic_traced_self", Span::call_site());
            *lifetime = Some(borrow.clone());
            helper.sig.generics.params.insert(0, parse_quote!(#borrow));
        }
    }
    let captured = captured_params(service, &helper.sig.generics);
    output.bounds.push(parse_quote!(use<#(#captured),*>));
}

/// The generic parameters of the impl and of the method, for `use<…>`: lifetimes first.
fn captured_params(service: &Generics, method: &Generics) -> Vec<TokenStream> {
    let (lifetimes, others): (Vec<_>, Vec<_>) = service
        .params
        .iter()
        .chain(&method.params)
        .partition(|param| matches!(param, GenericParam::Lifetime(_)));
    lifetimes
        .into_iter()
        .chain(others)
        .map(|param| match param {
            GenericParam::Lifetime(param) => {
                let lifetime = &param.lifetime;
                quote!(#lifetime)
            }
            GenericParam::Type(param) => {
                let ident = &param.ident;
                quote!(#ident)
            }
            GenericParam::Const(param) => {
                let ident = &param.ident;
                quote!(#ident)
            }
        })
        .collect()
}
