//! The `#[traced_service]` attribute of tonic-traced, used through `tonic_traced` (which
//! re-exports it). It knows no OpenTelemetry: the code it writes calls into
//! `tonic_traced::__private`.
//!
//! ```
//! # use std::future::Future;
//! use tonic::{Request, Response, Status};
//! # // The trait as tonic-traced-build generates it (see `traced_service`).
//! # trait Ledger: Send + Sync + 'static {
//! #     fn balance(&self, request: Request<String>)
//! #         -> impl Future<Output = Result<Response<u64>, Status>> + Send;
//! #     fn health(&self, request: Request<()>)
//! #         -> impl Future<Output = Result<Response<()>, Status>> + Send;
//! #     fn __tonic_traced_method_balance() -> &'static tonic_traced::RpcMethod where Self: Sized {
//! #         &tonic_traced::RpcMethod { service: "bank.Ledger", method: "Balance",
//! #             full_name: "bank.Ledger/Balance", kind: tonic_traced::RpcKind::Unary }
//! #     }
//! #     fn __tonic_traced_method_health() -> &'static tonic_traced::RpcMethod where Self: Sized {
//! #         &tonic_traced::RpcMethod { service: "bank.Ledger", method: "Health",
//! #             full_name: "bank.Ledger/Health", kind: tonic_traced::RpcKind::Unary }
//! #     }
//! # }
//!
//! struct Books;
//!
//! // Every method traced, with per-message events instead of spans on streams…
//! #[tonic_traced::traced_service(messages = events)]
//! impl Ledger for Books {
//!     async fn balance(&self, request: Request<String>) -> Result<Response<u64>, Status> {
//!         match request.into_inner().as_str() {
//!             "acct-1" => Ok(Response::new(120)),
//!             _ => Err(Status::not_found("no such account")), // the span's status: NOT_FOUND
//!         }
//!     }
//!
//!     // … but this one.
//!     #[traced(skip)]
//!     async fn health(&self, _: Request<()>) -> Result<Response<()>, Status> {
//!         Ok(Response::new(()))
//!     }
//! }
//! # let waker = std::task::Waker::noop();
//! # let mut context = std::task::Context::from_waker(waker);
//! # let reply = std::pin::pin!(Books.balance(Request::new("acct-1".into())));
//! # let std::task::Poll::Ready(Ok(reply)) = reply.poll(&mut context) else { panic!() };
//! # assert_eq!(reply.into_inner(), 120);
//! ```
//!
//! Parse, validate, expand: `ast.rs` reads the item and `attr.rs` its options, against one
//! table of them; `valid.rs` rejects handlers and streams of the wrong shape; every misuse is
//! recorded in `ctxt.rs` and reported at once; `expand.rs` writes the traced impl.

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
use crate::ctxt::Ctxt;

/// Traces every method of a tonic service impl: one SERVER span per call named
/// `package.Service/Method`, per-message spans on streams (or events, or only counts and bytes
/// on the RPC span with `messages = totals`), the status as the semantic conventions say.
/// Handler bodies stay as written.
///
/// Options, all optional: `#[traced_service(messages = spans | events | totals | off, max_messages = N,
/// public_endpoint, service_name = "name", is_error = path::to::fn, crate = "path")]`; on a
/// method, `#[traced(skip)]`, or `#[traced(messages = …, max_messages = …)]`. Misuse is a compile error at the
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
    let parsed = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_compile_error().into(),
    };
    let cx = Ctxt::new();
    let input = Input::read(&cx, args.into(), parsed);
    valid::check(&input, &cx);
    match (cx.check(), input) {
        (
            Ok(()),
            Input {
                options,
                target: Target::Impl(service),
            },
        ) => expand::traced_service(&options, service).into(),
        (Err(error), _) => {
            let error = error.into_compile_error();
            let item = expand::untraced(item);
            quote::quote!(#error #item).into()
        }
        (Ok(()), _) => unreachable!("valid.rs rejects items other than impls"),
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
