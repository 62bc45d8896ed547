//! Writes the traced impl: each handler starts a SERVER span and runs its body inside it.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{
    parse_quote, FnArg, Generics, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, ReturnType, Type,
};

use crate::ast::{Method, Service, Shape, Stream, Written};
use crate::attr::{is_traced, Messages, ServiceOptions};
use crate::instrumented::{helpers_impl, split_off};
use crate::streams::{check_spelled, ReplaceResponse, UnwrapStreamTypes};

/// The traced impl of a service that `valid.rs` accepted, and the inherent impl of the
/// helpers its `#[instrument]`ed handlers call, if any.
pub(crate) fn traced_service(options: &ServiceOptions, service: Service) -> TokenStream {
    let Service { mut item, methods } = service;
    let stream_types: HashMap<Ident, Type> = item
        .items
        .iter()
        .filter_map(|item| match item {
            ImplItem::Type(ty) => Some((ty.ident.clone(), ty.ty.clone())),
            _ => None,
        })
        .collect();
    let wrapped: HashMap<Ident, Type> = methods
        .iter()
        .filter(|method| !method.options.skip)
        .filter_map(|method| method.stream.as_ref())
        .map(|stream| (stream.name.clone(), stream_types[&stream.name].clone()))
        .collect();
    let expansion = Expansion {
        options,
        runtime: runtime_path(options),
        trait_path: item
            .trait_
            .as_ref()
            .expect("valid.rs accepts trait impls only")
            .1
            .clone(),
        generics: item.generics.clone(),
        stream_types: &stream_types,
        wrapped: &wrapped,
    };
    let mut helpers = Vec::new();
    for method in &methods {
        let ImplItem::Fn(method_fn) = &mut item.items[method.index] else {
            unreachable!("methods are read from fn items");
        };
        method_fn.attrs.retain(|attr| !is_traced(attr));
        if !method.options.skip {
            helpers.extend(expansion.handler(method_fn, method));
        }
    }
    let runtime = &expansion.runtime;
    for item in &mut item.items {
        if let ImplItem::Type(ty) = item {
            if let Some(original) = wrapped.get(&ty.ident) {
                ty.ty = parse_quote!(#runtime::TracedStream<#original>);
            }
        }
    }
    let helpers = helpers_impl(&item, &helpers);
    quote!(#item #helpers)
}

/// The item as written, less the `#[traced]` attributes of its methods: what is left in
/// place of a service that could not be traced, so its uses still resolve and the errors
/// are the only ones reported.
pub(crate) fn untraced(item: TokenStream) -> TokenStream {
    let Ok(mut item) = syn::parse2::<ItemImpl>(item.clone()) else {
        return item;
    };
    for item in &mut item.items {
        let attrs = match item {
            ImplItem::Fn(method) => &mut method.attrs,
            ImplItem::Type(ty) => &mut ty.attrs,
            ImplItem::Const(constant) => &mut constant.attrs,
            ImplItem::Macro(mac) => &mut mac.attrs,
            _ => continue,
        };
        attrs.retain(|attr| !is_traced(attr));
    }
    quote!(#item)
}

/// What every handler of one impl is traced with.
struct Expansion<'a> {
    options: &'a ServiceOptions,
    runtime: syn::Path,
    trait_path: syn::Path,
    /// The impl's generics, which the helpers share.
    generics: Generics,
    /// Every associated type, as declared.
    stream_types: &'a HashMap<Ident, Type>,
    /// The associated types about to become `TracedStream<…>`, as declared.
    wrapped: &'a HashMap<Ident, Type>,
}

impl Expansion<'_> {
    /// Rewrites one handler so its body runs inside the RPC span; returns the helper that
    /// holds the body of an `#[instrument]`ed handler from now on.
    fn handler(&self, method: &mut ImplItemFn, handler: &Method) -> Option<ImplItemFn> {
        let span = Span::mixed_site();
        let call = Ident::new("__tonic_traced_call", span);
        let identity_fn = format_ident!(
            "__tonic_traced_method_{}",
            method.sig.ident.to_string().trim_start_matches("r#")
        );
        let runtime = &self.runtime;
        let trait_path = &self.trait_path;
        let method_tracing = method_tracing(self.options, handler);
        // The kind as far as the handler's type shows it: a response stream (the associated
        // type tonic declares for it, or a boxed stream where default stubs declare none) or
        // one message, for unary and client-streaming RPCs.
        let drive = if handler.stream.is_some() || handler.boxed_stream.is_some() {
            quote!(streaming)
        } else {
            quote!(unary)
        };
        let output = self.body_output(method, handler);
        let check = self.spelled_stream(method, handler);
        UnwrapStreamTypes {
            declared: self.wrapped,
        }
        .visit_block_mut(&mut method.block);
        let helper = handler.instrumented.then(|| {
            let mut helper = split_off(method, output.clone(), &self.trait_path, &self.generics);
            // An inherent impl does not see the trait's associated types.
            UnwrapStreamTypes {
                declared: self.stream_types,
            }
            .visit_impl_item_fn_mut(&mut helper);
            helper
        });
        let request = request_ident(method);
        let start = quote_spanned! {span=>
            #check
            static __TONIC_TRACED_METHOD: #runtime::__private::MethodTracing = #method_tracing;
            let #call = #runtime::__private::ServerCall::start(
                &__TONIC_TRACED_METHOD,
                <Self as #trait_path>::#identity_fn(),
                &#request,
            );
        };
        let body = &method.block;
        // The body's statements, not its block: a block holding one expression would draw an
        // `unused_braces` warning pointing at the user's code.
        let stmts = &body.stmts;
        let future = match (&helper, &handler.shape) {
            (Some(helper), _) => {
                let helper = &helper.sig.ident;
                quote!(Self::#helper(self, #request))
            }
            (None, Shape::AsyncFn) => {
                let fake_return = Ident::new("__tonic_traced_fake_return", span);
                quote_spanned! {span=>
                    async move {
                        #[allow(
                            unknown_lints,
                            unreachable_code,
                            clippy::diverging_sub_expression,
                            clippy::empty_loop,
                            clippy::let_unit_value,
                            clippy::needless_return,
                            clippy::unreachable
                        )]
                        if false {
                            let #fake_return: #output = loop {};
                            return #fake_return;
                        }
                        #(#stmts)*
                    }
                }
            }
            (None, Shape::ReturnsFuture { .. }) => quote!(#body),
        };
        if let Some(spelled) = &handler.boxed_stream {
            method.block = boxed_stream_block(&handler.shape, start, &call, future, spelled);
            return helper;
        }
        method.block = match handler.shape {
            Shape::AsyncFn => parse_quote_spanned! {span=>
                { #start #call.#drive(#future).await }
            },
            Shape::ReturnsFuture { boxed: true } => parse_quote_spanned! {span=>
                { #start ::std::boxed::Box::pin(#call.#drive(#future)) }
            },
            Shape::ReturnsFuture { boxed: false } => parse_quote_spanned! {span=>
                { #start #call.#drive(#future) }
            },
        };
        helper
    }

    /// What the body returns, read from the signature as written: the stream as declared,
    /// where the signature is about to name the traced one.
    fn body_output(&self, method: &ImplItemFn, handler: &Method) -> Type {
        let mut output = match &method.sig.output {
            ReturnType::Type(_, ty) => (**ty).clone(),
            ReturnType::Default => parse_quote!(()),
        };
        if let Some(Stream {
            name,
            written: Written::Spelled(spelled),
        }) = &handler.stream
        {
            ReplaceResponse::new(spelled, self.stream_types[name].clone())
                .visit_type_mut(&mut output);
        }
        UnwrapStreamTypes {
            declared: self.wrapped,
        }
        .visit_type_mut(&mut output);
        output
    }

    /// For a stream type spelled out in the return type: the signature made to name
    /// `Self::Name`, the body the declared type, and the check that they are the same.
    fn spelled_stream(&self, method: &mut ImplItemFn, handler: &Method) -> TokenStream {
        let Some(Stream {
            name,
            written: Written::Spelled(spelled),
        }) = &handler.stream
        else {
            return TokenStream::new();
        };
        let declared = &self.stream_types[name];
        ReplaceResponse::new(spelled, declared.clone()).visit_block_mut(&mut method.block);
        ReplaceResponse::new(spelled, parse_quote!(Self::#name))
            .visit_return_type_mut(&mut method.sig.output);
        let mut checked = (**spelled).clone();
        UnwrapStreamTypes {
            declared: self.stream_types,
        }
        .visit_type_mut(&mut checked);
        check_spelled(&method.sig.ident, name, &checked, declared)
    }
}

/// The body of a handler whose response is a boxed stream (`BoxStream<T>`, as a trait with
/// default stubs declares it): the stream is traced as an associated stream type is, and the
/// traced stream boxed again as the type `spelled` in the signature, so the signature stays.
fn boxed_stream_block(
    shape: &Shape,
    start: TokenStream,
    call: &Ident,
    future: TokenStream,
    spelled: &Type,
) -> syn::Block {
    let span = Span::mixed_site();
    let reply = Ident::new("__tonic_traced_reply", span);
    let response = Ident::new("__tonic_traced_response", span);
    let stream = Ident::new("__tonic_traced_stream", span);
    let rebox = |traced: TokenStream| {
        quote_spanned! {span=>
            ::core::result::Result::map(#traced, |#response| {
                #response.map(|#stream| -> #spelled { ::std::boxed::Box::pin(#stream) })
            })
        }
    };
    match shape {
        Shape::AsyncFn => {
            let traced = rebox(quote_spanned!(span=> #call.streaming(#future).await));
            parse_quote_spanned! {span=> { #start #traced } }
        }
        Shape::ReturnsFuture { boxed } => {
            let traced = rebox(quote_spanned!(span=> #reply.await));
            let reboxed = quote_spanned! {span=> async move { #traced } };
            let reboxed = if *boxed {
                quote_spanned!(span=> ::std::boxed::Box::pin(#reboxed))
            } else {
                reboxed
            };
            parse_quote_spanned! {span=>
                {
                    #start
                    let #reply = #call.streaming(#future);
                    #reboxed
                }
            }
        }
    }
}

/// The request parameter's name. An `async fn` whose parameter is a pattern (`_`, `mut x`
/// with a sub-pattern) gets a hidden name and binds the pattern at the start of the body
/// (`valid.rs` rejects patterns in methods that return a future).
fn request_ident(method: &mut ImplItemFn) -> Ident {
    let Some(FnArg::Typed(arg)) = method.sig.inputs.iter_mut().nth(1) else {
        unreachable!("valid.rs checks that handlers take a request");
    };
    if let Pat::Ident(ident) = &*arg.pat {
        if ident.by_ref.is_none() && ident.subpat.is_none() {
            return ident.ident.clone();
        }
    }
    let hidden = Ident::new("__tonic_traced_request", Span::mixed_site());
    let pattern = std::mem::replace(&mut *arg.pat, parse_quote!(#hidden));
    let body = &method.block;
    method.block = parse_quote!({ let #pattern = #hidden; #body });
    hidden
}

/// `MethodTracing::new(…)` with the service options and the method's own.
fn method_tracing(options: &ServiceOptions, handler: &Method) -> TokenStream {
    let runtime = runtime_path(options);
    let messages = match handler.options.messages.or(options.messages) {
        None => quote!(::core::option::Option::None),
        Some(mode) => {
            let mode = match mode {
                Messages::Spans => quote!(Spans),
                Messages::Events => quote!(Events),
                Messages::Totals => quote!(Totals),
                Messages::Off => quote!(Off),
            };
            quote!(::core::option::Option::Some(#runtime::MessageMode::#mode))
        }
    };
    let max_messages = match handler
        .options
        .max_messages
        .as_ref()
        .or(options.max_messages.as_ref())
    {
        Some(count) => quote!(::core::option::Option::Some(#count)),
        None => quote!(::core::option::Option::None),
    };
    let public_endpoint = options.public_endpoint;
    let service_name = match &options.service_name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let is_error = match &options.is_error {
        // Checked against its type where the user wrote it, so a wrong function is reported
        // at the path rather than inside the runtime.
        Some(path) => {
            let span = syn::spanned::Spanned::span(path);
            let checked = Ident::new("__tonic_traced_is_error", Span::mixed_site());
            quote_spanned! {span=>
                {
                    let #checked: fn(#runtime::__private::Code) -> bool = #path;
                    #checked
                }
            }
        }
        None => quote!(#runtime::__private::is_server_error),
    };
    quote! {
        #runtime::__private::MethodTracing::new(
            #messages,
            #max_messages,
            #public_endpoint,
            #service_name,
            #is_error,
        )
    }
}

/// The runtime crate's path: `::tonic_traced` unless `crate = "…"` says otherwise.
fn runtime_path(options: &ServiceOptions) -> syn::Path {
    options
        .runtime
        .clone()
        .unwrap_or_else(|| parse_quote!(::tonic_traced))
}

/// `parse_quote!` with every generated token at `span`.
macro_rules! parse_quote_spanned {
    ($span:expr=> $($tt:tt)*) => {
        syn::parse2(quote_spanned!($span=> $($tt)*)).expect("generated code parses")
    };
}
use parse_quote_spanned;
