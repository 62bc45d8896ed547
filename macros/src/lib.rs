//! The `#[traced_service]` attribute of tonic-traced. It knows no OpenTelemetry: the code it
//! writes calls into `tonic_traced::__private`.
//!
//! Parse, validate, expand: `ast.rs` reads the item and `attr.rs` its options, judging
//! nothing; `valid.rs` reports every misuse at once through `ctxt.rs`; `expand.rs` writes the
//! traced impl.

#![warn(missing_docs)]

mod ast;
mod attr;
mod ctxt;
mod expand;
mod instrumented;
mod streams;
mod valid;

use proc_macro::TokenStream;

use crate::ast::{Input, Target};
use crate::attr::ServiceOptions;
use crate::ctxt::Ctxt;

/// Traces every method of a tonic service impl: one SERVER span per call named
/// `package.Service/Method`, per-message spans on streams, the status as the semantic
/// conventions say. Handler bodies stay as written.
///
/// Options, all optional: `#[traced_service(messages = spans | events | off,
/// public_endpoint, service_name = "name", is_error = path::to::fn, crate = "path")]`; on a
/// method, `#[traced(skip)]` or `#[traced(messages = …)]`. Misuse is a compile error at the
/// offending tokens, every one reported at once.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
///
/// use tonic::{Request, Response, Status};
///
/// // A service trait as `tonic-traced-build` generates it: tonic's trait, plus a hidden
/// // function per method naming the RPC (usually with `#[tonic::async_trait]`).
/// trait Greeter: Send + Sync + 'static {
///     fn greet(
///         &self,
///         request: Request<String>,
///     ) -> impl Future<Output = Result<Response<String>, Status>> + Send;
///
///     #[doc(hidden)]
///     fn __tonic_traced_method_greet() -> &'static tonic_traced::RpcMethod
///     where
///         Self: Sized,
///     {
///         &tonic_traced::RpcMethod {
///             service: "hello.Greeter",
///             method: "Greet",
///             full_name: "hello.Greeter/Greet",
///             kind: tonic_traced::RpcKind::Unary,
///         }
///     }
/// }
///
/// struct Hello;
///
/// #[tonic_traced::traced_service]
/// impl Greeter for Hello {
///     async fn greet(&self, request: Request<String>) -> Result<Response<String>, Status> {
///         Ok(Response::new(format!("hello, {}", request.into_inner())))
///     }
/// }
///
/// // The handler answers as written, inside its `hello.Greeter/Greet` span (recorded by
/// // whatever tracer provider is installed; none here).
/// let reply = pin!(Hello.greet(Request::new("world".to_owned())));
/// let Poll::Ready(Ok(reply)) = reply.poll(&mut Context::from_waker(Waker::noop())) else {
///     panic!("the handler answers at once");
/// };
/// assert_eq!(reply.into_inner(), "hello, world");
/// ```
#[proc_macro_attribute]
pub fn traced_service(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: proc_macro2::TokenStream = item.into();
    let input = match Input::read(args.into(), item.clone()) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error().into(),
    };
    let cx = Ctxt::new();
    valid::check(&input, &cx);
    match (cx.check(), input) {
        (
            Ok(()),
            Input {
                options: Ok(options),
                target: Target::Impl(service),
            },
        ) => expand::traced_service(&ServiceOptions::read(&options), service).into(),
        (Err(error), _) => {
            let error = error.into_compile_error();
            let item = expand::untraced(item);
            quote::quote!(#error #item).into()
        }
        (Ok(()), _) => unreachable!("valid.rs rejects options that do not parse and non-impls"),
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
