//! Writes the traced impl: each handler starts a SERVER span and runs its body inside it.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{parse_quote, FnArg, Ident, ImplItem, ImplItemFn, Pat, ReturnType, Type};

use crate::ast::{hidden_span, parse_handlers, parse_service, Handler, Shape, UnwrapStreamTypes};
use crate::attr::{service_options, Messages, ServiceOptions};

pub(crate) fn traced_service(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = service_options(args)?;
    let runtime = runtime_path(&options);
    let mut service = parse_service(item)?;
    let handlers = parse_handlers(&mut service)?;

    let wrapped: HashMap<Ident, Type> = handlers
        .iter()
        .filter(|handler| !handler.options.skip)
        .filter_map(|handler| handler.stream.clone())
        .map(|name| {
            let original = service.stream_types[&name].clone();
            (name, original)
        })
        .collect();
    for handler in handlers.iter().filter(|handler| !handler.options.skip) {
        let ImplItem::Fn(method) = &mut service.item.items[handler.index] else {
            unreachable!("handlers are methods");
        };
        instrument(method, handler, &service.trait_path, &options, &wrapped)?;
    }
    for item in &mut service.item.items {
        if let ImplItem::Type(ty) = item {
            if let Some(original) = wrapped.get(&ty.ident) {
                ty.ty = parse_quote!(#runtime::TracedStream<#original>);
            }
        }
    }
    let item = &service.item;
    Ok(quote!(#item))
}

/// Rewrites one handler so its body runs inside the RPC span.
fn instrument(
    method: &mut ImplItemFn,
    handler: &Handler,
    trait_path: &syn::Path,
    options: &ServiceOptions,
    wrapped: &HashMap<Ident, Type>,
) -> syn::Result<()> {
    let span = hidden_span();
    let call = Ident::new("__tonic_traced_call", span);
    let identity_fn = format_ident!(
        "__tonic_traced_method_{}",
        method.sig.ident.to_string().trim_start_matches("r#")
    );
    let runtime = runtime_path(options);
    let method_tracing = method_tracing(options, handler);
    let drive = if handler.stream.is_some() {
        quote!(streaming)
    } else {
        quote!(unary)
    };
    let mut unwrap = UnwrapStreamTypes { originals: wrapped };
    unwrap.visit_block_mut(&mut method.block);
    let request = request_ident(method, matches!(handler.shape, Shape::AsyncFn))?;
    let start = quote_spanned! {span=>
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
    method.block = match handler.shape {
        Shape::AsyncFn => {
            let mut output = match &method.sig.output {
                ReturnType::Type(_, ty) => (**ty).clone(),
                ReturnType::Default => parse_quote!(()),
            };
            unwrap.visit_type_mut(&mut output);
            let fake_return = Ident::new("__tonic_traced_fake_return", span);
            parse_quote_spanned! {span=>
                {
                    #start
                    #call.#drive(async move {
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
                    }).await
                }
            }
        }
        Shape::ReturnsFuture { boxed } => {
            let driven = quote_spanned!(span=> #call.#drive(#body));
            let driven = if boxed {
                quote_spanned!(span=> ::std::boxed::Box::pin(#driven))
            } else {
                driven
            };
            parse_quote_spanned! {span=> { #start #driven } }
        }
    };
    Ok(())
}

/// The request parameter's name. An `async fn` whose parameter is a pattern (`_`, `mut x`
/// with a sub-pattern) gets a hidden name and binds the pattern at the start of the body.
fn request_ident(method: &mut ImplItemFn, can_rebind: bool) -> syn::Result<Ident> {
    let Some(FnArg::Typed(arg)) = method.sig.inputs.iter_mut().nth(1) else {
        unreachable!("handlers were checked to take a request");
    };
    if let Pat::Ident(ident) = &*arg.pat {
        if ident.by_ref.is_none() && ident.subpat.is_none() {
            return Ok(ident.ident.clone());
        }
    }
    if !can_rebind {
        return Err(syn::Error::new_spanned(
            &arg.pat,
            "name the request parameter, e.g. `request: Request<…>`, or write the method as \
             `async fn`: #[traced_service] reads the request before the returned future runs",
        ));
    }
    let hidden = Ident::new("__tonic_traced_request", hidden_span());
    let pattern = std::mem::replace(&mut *arg.pat, parse_quote!(#hidden));
    let body = &method.block;
    method.block = parse_quote!({ let #pattern = #hidden; #body });
    Ok(hidden)
}

/// `MethodTracing::new(…)` with the service options and the method's own.
fn method_tracing(options: &ServiceOptions, handler: &Handler) -> TokenStream {
    let runtime = runtime_path(options);
    let messages = match handler.options.messages.or(options.messages) {
        None => quote!(::core::option::Option::None),
        Some(mode) => {
            let mode = match mode {
                Messages::Spans => quote!(Spans),
                Messages::Events => quote!(Events),
                Messages::Off => quote!(Off),
            };
            quote!(::core::option::Option::Some(#runtime::MessageMode::#mode))
        }
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
            let checked = Ident::new("__tonic_traced_is_error", hidden_span());
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
        #runtime::__private::MethodTracing::new(#messages, #public_endpoint, #service_name, #is_error)
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
