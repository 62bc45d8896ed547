//! The `#[traced_service]` attribute of tonic-traced. It knows no OpenTelemetry: the code it
//! writes calls into `tonic_traced::__private`.

#![warn(missing_docs)]

mod ast;
mod attr;
mod expand;

use proc_macro::TokenStream;

/// Traces every method of a tonic service impl: one SERVER span per call named
/// `package.Service/Method`, per-message spans on streams, the status as the semantic
/// conventions say. Handler bodies stay as written.
///
/// Options, all optional: `#[traced_service(messages = spans | events | off,
/// public_endpoint, service_name = "name", is_error = path::to::fn)]`; on a method,
/// `#[traced(skip)]` or `#[traced(messages = …)]`.
#[proc_macro_attribute]
pub fn traced_service(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: proc_macro2::TokenStream = item.into();
    match expand::traced_service(args.into(), item.clone()) {
        Ok(traced) => traced.into(),
        Err(error) => {
            // The item, untraced, goes on after the error, so its uses still resolve and the
            // error is the only one reported.
            let error = error.into_compile_error();
            let item = ast::untraced(item);
            quote::quote!(#error #item).into()
        }
    }
}

/// Per-method options; only meaningful on a method of a `#[traced_service]` impl, which
/// removes it. Anywhere else it is an error.
#[proc_macro_attribute]
pub fn traced(_args: TokenStream, item: TokenStream) -> TokenStream {
    let item: proc_macro2::TokenStream = item.into();
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[traced] belongs on a method of an impl marked #[traced_service]; \
         add #[traced_service] to the impl, or remove #[traced]",
    )
    .into_compile_error();
    quote::quote!(#error #item).into()
}
