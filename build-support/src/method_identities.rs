//! Puts each method's exact proto identity into tonic-build's generated code: a hidden function
//! of the server trait for `#[traced_service]`, and a request extension in every client call.
//!
//! Edits are made where tonic-build's code has the shape this module knows; any other shape
//! is an error saying what was expected and which tonic-build is supported, never a silent skip.

use proc_macro2::TokenStream;
use prost_build::{Method, Service};
use quote::{format_ident, quote};
use syn::{Expr, ImplItem, ImplItemFn, Item, ItemMod, Pat, Stmt};

/// The tonic-build release line whose generated code these edits expect, the one that the
/// `tonic-prost-build` dependency of this crate uses.
pub(crate) const SUPPORTED_TONIC_BUILD: &str = "0.14";

/// Adds `fn __tonic_traced_method_<name>() -> &'static RpcMethod` to the server trait, so
/// `<T as PaymentService>::__tonic_traced_method_process_payment()` works wherever the trait
/// is imported.
pub(crate) fn add_to_server(
    code: &str,
    service: &Service,
    runtime: &syn::Path,
) -> Result<String, String> {
    let mut file = parse(code, service, "server")?;
    let server_trait = modules(&mut file)
        .flat_map(items)
        .find_map(|item| match item {
            Item::Trait(server_trait) if server_trait.ident == service.name => Some(server_trait),
            _ => None,
        })
        .ok_or_else(|| {
            unexpected(
                service,
                "server",
                &format!("a trait `{}` in a module", service.name),
            )
        })?;
    for method in &service.methods {
        let function = format_ident!(
            "__tonic_traced_method_{}",
            method.name.trim_start_matches("r#")
        );
        let identity = identity(service, method, runtime);
        server_trait.items.push(syn::parse_quote! {
            #[doc(hidden)]
            fn #function() -> &'static #runtime::__private::RpcMethod
            where
                Self: Sized,
            {
                #identity
            }
        });
    }
    Ok(prettyplease::unparse(&file))
}

/// Adds `req.extensions_mut().insert(ClientMethod(&…))` right after tonic's own `GrpcMethod`
/// extension in every method of the generated client, and the codec's `CallLink`, through
/// which the layer lets the codec record the response messages under the call's span.
pub(crate) fn add_to_client(
    code: &str,
    service: &Service,
    runtime: &syn::Path,
) -> Result<String, String> {
    let mut file = parse(code, service, "client")?;
    let client_name = format!("{}Client", service.name);
    let mut functions: Vec<&mut ImplItemFn> = modules(&mut file)
        .flat_map(items)
        .filter_map(|item| match item {
            Item::Impl(client) if is_named(&client.self_ty, &client_name) => Some(client),
            _ => None,
        })
        .flat_map(|client| client.items.iter_mut())
        .filter_map(|item| match item {
            ImplItem::Fn(function) => Some(function),
            _ => None,
        })
        .collect();
    for method in &service.methods {
        let function = functions
            .iter_mut()
            .find(|function| function.sig.ident == method.name)
            .ok_or_else(|| {
                unexpected(
                    service,
                    "client",
                    &format!("`impl<T> {client_name}<T>` with a method `{}`", method.name),
                )
            })?;
        let position = insertion_point(&function.block.stmts).ok_or_else(|| {
            unexpected(
                service,
                "client",
                &format!(
                    "`{client_name}::{}` to contain `let codec = …;` and then \
                     `req.extensions_mut().insert(GrpcMethod::new(…));`, after which the \
                     method's identity is inserted",
                    method.name
                ),
            )
        })?;
        let identity = identity(service, method, runtime);
        let inserts: [Stmt; 2] = [
            syn::parse_quote!(req.extensions_mut().insert(#runtime::__private::ClientMethod(#identity));),
            syn::parse_quote!(req.extensions_mut().insert(codec.call_link());),
        ];
        function
            .block
            .stmts
            .splice(position + 1..position + 1, inserts);
    }
    Ok(prettyplease::unparse(&file))
}

/// `package.Service`, or `Service` without a package.
fn service_full_name(service: &Service) -> String {
    if service.package.is_empty() {
        service.proto_name.clone()
    } else {
        format!("{}.{}", service.package, service.proto_name)
    }
}

/// `&RpcMethod { … }`, a constant expression promoted to `'static`.
fn identity(service: &Service, method: &Method, runtime: &syn::Path) -> TokenStream {
    let service_name = service_full_name(service);
    let method_name = &method.proto_name;
    let full_name = format!("{service_name}/{method_name}");
    let kind = match (method.client_streaming, method.server_streaming) {
        (false, false) => format_ident!("Unary"),
        (false, true) => format_ident!("ServerStreaming"),
        (true, false) => format_ident!("ClientStreaming"),
        (true, true) => format_ident!("BidiStreaming"),
    };
    quote! {
        &#runtime::__private::RpcMethod {
            service: #service_name,
            method: #method_name,
            full_name: #full_name,
            kind: #runtime::__private::RpcKind::#kind,
        }
    }
}

/// Where the identity goes: the index of tonic's `req.extensions_mut().insert(GrpcMethod::new(…));`,
/// which must come after `let codec = …;` (the inserted `codec.call_link()` names it).
fn insertion_point(stmts: &[Stmt]) -> Option<usize> {
    let codec = stmts.iter().position(binds_codec)?;
    let grpc_method = stmts.iter().position(inserts_grpc_method)?;
    (codec < grpc_method).then_some(grpc_method)
}

/// `let codec = …;`
fn binds_codec(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Local(local) if matches!(&local.pat, Pat::Ident(pat) if pat.ident == "codec"))
}

/// `req.extensions_mut().insert(GrpcMethod::new(…));`
fn inserts_grpc_method(stmt: &Stmt) -> bool {
    let Stmt::Expr(Expr::MethodCall(insert), Some(_)) = stmt else {
        return false;
    };
    let Expr::MethodCall(extensions) = &*insert.receiver else {
        return false;
    };
    let new_grpc_method = match insert.args.first() {
        Some(Expr::Call(call)) if insert.args.len() == 1 => {
            matches!(&*call.func, Expr::Path(func) if ends_with(&func.path, &["GrpcMethod", "new"]))
        }
        _ => false,
    };
    insert.method == "insert"
        && extensions.method == "extensions_mut"
        && matches!(&*extensions.receiver, Expr::Path(req) if req.path.is_ident("req"))
        && new_grpc_method
}

/// Whether the last segments of `path` are `suffix`.
fn ends_with(path: &syn::Path, suffix: &[&str]) -> bool {
    let skip = path.segments.len().checked_sub(suffix.len());
    skip.is_some_and(|skip| {
        path.segments
            .iter()
            .skip(skip)
            .zip(suffix)
            .all(|(segment, name)| segment.ident == name)
    })
}

/// The problem when tonic-build's code is not what these edits expect.
fn unexpected(service: &Service, side: &str, expected: &str) -> String {
    format!(
        "tonic-build's {side} code for service `{service}` does not have the shape \
         tonic-traced-build edits: expected {expected}. tonic-traced-build {version} supports the \
         code of tonic-build {SUPPORTED_TONIC_BUILD} (as used by tonic-prost-build \
         {SUPPORTED_TONIC_BUILD}); build with that version (`cargo tree -i tonic-build` shows \
         which one is used), or report the version you use at {repository}/issues",
        service = service_full_name(service),
        version = env!("CARGO_PKG_VERSION"),
        repository = env!("CARGO_PKG_REPOSITORY"),
    )
}

fn parse(code: &str, service: &Service, side: &str) -> Result<syn::File, String> {
    syn::parse_file(code)
        .map_err(|error| unexpected(service, side, &format!("Rust that parses ({error})")))
}

fn modules(file: &mut syn::File) -> impl Iterator<Item = &mut ItemMod> {
    file.items.iter_mut().filter_map(|item| match item {
        Item::Mod(module) => Some(module),
        _ => None,
    })
}

fn items(module: &mut ItemMod) -> impl Iterator<Item = &mut Item> {
    module
        .content
        .iter_mut()
        .flat_map(|(_, items)| items.iter_mut())
}

fn is_named(ty: &syn::Type, name: &str) -> bool {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `service Greeter { rpc Greet(Hi) returns (stream Hi); }` in package `hello`.
    pub(crate) fn greeter() -> Service {
        Service {
            name: "Greeter".into(),
            proto_name: "Greeter".into(),
            package: "hello".into(),
            comments: Default::default(),
            options: Default::default(),
            methods: vec![Method {
                name: "greet".into(),
                proto_name: "Greet".into(),
                comments: Default::default(),
                input_type: "Hi".into(),
                output_type: "Hi".into(),
                input_proto_type: ".hello.Hi".into(),
                output_proto_type: ".hello.Hi".into(),
                options: Default::default(),
                client_streaming: false,
                server_streaming: true,
            }],
        }
    }

    fn runtime() -> syn::Path {
        syn::parse_quote!(::tonic_traced)
    }

    /// What the tonic-build in use generates for `greeter()`.
    fn tonic_code(client: bool) -> String {
        let mut code = String::new();
        tonic_prost_build::configure()
            .build_client(client)
            .build_server(!client)
            .service_generator()
            .generate(greeter(), &mut code);
        code
    }

    fn position(code: &str, needle: &str) -> usize {
        code.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{code}"))
    }

    #[test]
    fn client_identity_follows_tonics_grpc_method() {
        let code = add_to_client(&tonic_code(true), &greeter(), &runtime()).unwrap();
        let grpc_method = position(&code, "req.extensions_mut().insert(GrpcMethod::new(");
        let identity = position(&code, "::tonic_traced::__private::ClientMethod(");
        let call_link = position(&code, "req.extensions_mut().insert(codec.call_link());");
        let call = position(&code, "self.inner.server_streaming(req, path, codec)");
        assert!(grpc_method < identity && identity < call_link && call_link < call);
        assert!(
            code.contains("full_name: \"hello.Greeter/Greet\""),
            "{code}"
        );
        assert!(code.contains("::tonic_traced::__private::RpcKind::ServerStreaming"));
    }

    #[test]
    fn server_trait_gets_the_identity() {
        let code = add_to_server(&tonic_code(false), &greeter(), &runtime()).unwrap();
        assert!(
            code.contains(
                "fn __tonic_traced_method_greet() -> &'static ::tonic_traced::__private::RpcMethod"
            ),
            "{code}"
        );
    }

    #[test]
    fn client_without_grpc_method_is_an_error() {
        // As if tonic-build named the method through another extension.
        let code = tonic_code(true).replace(
            "req.extensions_mut().insert(GrpcMethod::new(",
            "req.extensions_mut().insert(MethodName::new(",
        );
        let problem = add_to_client(&code, &greeter(), &runtime()).unwrap_err();
        assert_eq!(
            problem,
            format!(
                "tonic-build's client code for service `hello.Greeter` does not have the shape \
                 tonic-traced-build edits: expected `GreeterClient::greet` to contain `let codec \
                 = …;` and then `req.extensions_mut().insert(GrpcMethod::new(…));`, after which \
                 the method's identity is inserted. tonic-traced-build {} supports the code of \
                 tonic-build 0.14 (as used by tonic-prost-build 0.14); build with that version \
                 (`cargo tree -i tonic-build` shows which one is used), or report the version \
                 you use at https://github.com/tonic-traced/tonic-traced/issues",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn client_codec_after_grpc_method_is_an_error() {
        let code = "pub mod greeter_client {
            impl<T> GreeterClient<T> {
                pub async fn greet(&mut self) {
                    let mut req = request.into_request();
                    req.extensions_mut().insert(GrpcMethod::new(\"hello.Greeter\", \"Greet\"));
                    let codec = Codec::default();
                    self.inner.unary(req, path, codec).await
                }
            }
        }";
        let problem = add_to_client(code, &greeter(), &runtime()).unwrap_err();
        assert!(
            problem
                .contains("expected `GreeterClient::greet` to contain `let codec = …;` and then"),
            "{problem}"
        );
    }

    #[test]
    fn client_without_the_method_is_an_error() {
        let code = tonic_code(true).replace("pub async fn greet(", "pub async fn say_hi(");
        let problem = add_to_client(&code, &greeter(), &runtime()).unwrap_err();
        assert!(
            problem.contains(
                "client code for service `hello.Greeter` does not have the shape \
                 tonic-traced-build edits: expected `impl<T> GreeterClient<T>` with a method \
                 `greet`."
            ),
            "{problem}"
        );
    }

    #[test]
    fn server_without_the_trait_is_an_error() {
        let code = tonic_code(false).replace("pub trait Greeter:", "pub trait GreeterService:");
        let problem = add_to_server(&code, &greeter(), &runtime()).unwrap_err();
        assert!(
            problem.starts_with(
                "tonic-build's server code for service `hello.Greeter` does not have the shape \
                 tonic-traced-build edits: expected a trait `Greeter` in a module. \
                 tonic-traced-build"
            ),
            "{problem}"
        );
    }

    #[test]
    fn supported_version_is_the_one_depended_on() {
        let manifest = include_str!("../../Cargo.toml");
        let requirement = manifest
            .lines()
            .find_map(|line| line.strip_prefix("tonic-prost-build = "))
            .expect("the workspace depends on tonic-prost-build");
        assert_eq!(requirement, format!("\"{SUPPORTED_TONIC_BUILD}\""));
    }
}
