//! Gives each method's exact proto identity to the code that traces it: a hidden function of
//! the server trait for `#[traced_service]`, and for clients a registration under the names
//! tonic's client code puts on every request (`GrpcMethod`), where the client layer finds it.
//!
//! The server trait is edited, and the client code checked, where tonic-build's code has the
//! shape this module knows; any other shape is an error saying what was expected and which
//! tonic-build is supported, never a silent skip.

use proc_macro2::TokenStream;
use prost_build::{Method, Service};
use quote::{format_ident, quote};
use syn::{Expr, ImplItem, ImplItemFn, Item, ItemMod, Stmt};

/// The tonic-build release line whose generated code these edits expect, the one that the
/// `tonic-prost-build` dependency of this crate uses.
pub(crate) const SUPPORTED_TONIC_BUILD: &str = "0.14";

/// Adds `fn __tonic_traced_method_<name>() -> &'static RpcMethod` to the server trait, so
/// `<T as PaymentService>::__tonic_traced_method_process_payment()` works wherever the trait
/// is imported.
pub(crate) fn add_to_server(
    file: &mut syn::File,
    service: &Service,
    runtime: &syn::Path,
) -> Result<(), String> {
    let server_trait = modules(file)
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
    Ok(())
}

/// Registers each method of the generated client (`inventory::submit!` of a `ClientMethod`)
/// under the names tonic's code gives the method in `GrpcMethod`, which the client layer reads
/// from every request; tonic's code itself is kept as it is. Those names are checked here, so
/// that a tonic-build whose client code names methods otherwise fails the build rather than
/// leaving its calls unidentified.
pub(crate) fn register_client(
    code: &str,
    service: &Service,
    runtime: &syn::Path,
) -> Result<String, String> {
    let mut file = parse(code, service, "client")?;
    let client_name = format!("{}Client", service.name);
    let functions: Vec<&ImplItemFn> = modules(&mut file)
        .flat_map(items)
        .filter_map(|item| match item {
            Item::Impl(client) if is_named(&client.self_ty, &client_name) => Some(&*client),
            _ => None,
        })
        .flat_map(|client| client.items.iter())
        .filter_map(|item| match item {
            ImplItem::Fn(function) => Some(function),
            _ => None,
        })
        .collect();
    let service_name = service_full_name(service);
    let mut registrations = TokenStream::new();
    for method in &service.methods {
        let function = functions
            .iter()
            .find(|function| function.sig.ident == method.name)
            .ok_or_else(|| {
                unexpected(
                    service,
                    "client",
                    &format!("`impl<T> {client_name}<T>` with a method `{}`", method.name),
                )
            })?;
        let names = function.block.stmts.iter().find_map(grpc_method_names);
        if names != Some((service_name.clone(), method.proto_name.clone())) {
            return Err(unexpected(
                service,
                "client",
                &format!(
                    "`{client_name}::{}` to contain `req.extensions_mut().insert(\
                     GrpcMethod::new(\"{service_name}\", \"{}\"));`, the names the method is \
                     registered under",
                    method.name, method.proto_name
                ),
            ));
        }
        let identity = identity(service, method, runtime);
        registrations.extend(quote! {
            #runtime::__private::inventory::submit! {
                #runtime::__private::ClientMethod(#identity)
            }
        });
    }
    let registrations: syn::File = syn::parse2(registrations)
        .map_err(|error| format!("tonic-traced-build made code that does not parse: {error}"))?;
    Ok(format!("{code}\n{}", prettyplease::unparse(&registrations)))
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

/// The service and method names of tonic's `req.extensions_mut().insert(GrpcMethod::new(…));`,
/// when `stmt` is that statement and names them with string literals.
fn grpc_method_names(stmt: &Stmt) -> Option<(String, String)> {
    let Stmt::Expr(Expr::MethodCall(insert), Some(_)) = stmt else {
        return None;
    };
    let Expr::MethodCall(extensions) = &*insert.receiver else {
        return None;
    };
    let is_insert = insert.method == "insert"
        && extensions.method == "extensions_mut"
        && matches!(&*extensions.receiver, Expr::Path(req) if req.path.is_ident("req"));
    let Some(Expr::Call(call)) = insert
        .args
        .first()
        .filter(|_| is_insert && insert.args.len() == 1)
    else {
        return None;
    };
    let new_grpc_method =
        matches!(&*call.func, Expr::Path(func) if ends_with(&func.path, &["GrpcMethod", "new"]));
    let literal = |arg: &Expr| match arg {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    };
    match (new_grpc_method, call.args.len()) {
        (true, 2) => Some((literal(&call.args[0])?, literal(&call.args[1])?)),
        _ => None,
    }
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
pub(crate) fn unexpected(service: &Service, side: &str, expected: &str) -> String {
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

/// tonic-build's `side` code for `service`, parsed.
pub(crate) fn parse(code: &str, service: &Service, side: &str) -> Result<syn::File, String> {
    syn::parse_file(code)
        .map_err(|error| unexpected(service, side, &format!("Rust that parses ({error})")))
}

/// The modules of `file`, where tonic-build puts each client and server.
pub(crate) fn modules(file: &mut syn::File) -> impl Iterator<Item = &mut ItemMod> {
    file.items.iter_mut().filter_map(|item| match item {
        Item::Mod(module) => Some(module),
        _ => None,
    })
}

/// The items of `module`.
pub(crate) fn items(module: &mut ItemMod) -> impl Iterator<Item = &mut Item> {
    module
        .content
        .iter_mut()
        .flat_map(|(_, items)| items.iter_mut())
}

/// Whether `ty` is a path whose last segment is `name`.
pub(crate) fn is_named(ty: &syn::Type, name: &str) -> bool {
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

    pub(crate) fn runtime() -> syn::Path {
        syn::parse_quote!(::tonic_traced)
    }

    /// `code` with the identities added to its server trait.
    fn server_code(code: &str) -> Result<String, String> {
        let mut file = parse(code, &greeter(), "server")?;
        add_to_server(&mut file, &greeter(), &runtime())?;
        Ok(prettyplease::unparse(&file))
    }

    /// What the tonic-build in use generates for `greeter()`.
    pub(crate) fn tonic_code(client: bool) -> String {
        let mut code = String::new();
        tonic_prost_build::configure()
            .build_client(client)
            .build_server(!client)
            .service_generator()
            .generate(greeter(), &mut code);
        code
    }

    #[test]
    fn client_methods_are_registered_under_tonics_grpc_method_names() {
        let tonic = tonic_code(true);
        let code = register_client(&tonic, &greeter(), &runtime()).unwrap();
        assert!(code.starts_with(&tonic), "tonic's code is kept as it is");
        assert!(tonic.contains("GrpcMethod::new(\"hello.Greeter\", \"Greet\")"));
        let registration: String = code[tonic.len()..].split_whitespace().collect();
        for expected in [
            "::tonic_traced::__private::inventory::submit!{",
            "::tonic_traced::__private::ClientMethod(&::tonic_traced::__private::RpcMethod{",
            "service:\"hello.Greeter\",method:\"Greet\",full_name:\"hello.Greeter/Greet\"",
            "kind:::tonic_traced::__private::RpcKind::ServerStreaming",
        ] {
            assert!(
                registration.contains(expected),
                "{expected} in {registration}"
            );
        }
    }

    #[test]
    fn server_trait_gets_the_identity() {
        let code = server_code(&tonic_code(false)).unwrap();
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
        let problem = register_client(&code, &greeter(), &runtime()).unwrap_err();
        assert_eq!(
            problem,
            format!(
                "tonic-build's client code for service `hello.Greeter` does not have the shape \
                 tonic-traced-build edits: expected `GreeterClient::greet` to contain \
                 `req.extensions_mut().insert(GrpcMethod::new(\"hello.Greeter\", \"Greet\"));`, \
                 the names the method is registered under. tonic-traced-build {} supports the \
                 code of tonic-build 0.14 (as used by tonic-prost-build 0.14); build with that \
                 version (`cargo tree -i tonic-build` shows which one is used), or report the \
                 version you use at https://github.com/tonic-traced/tonic-traced/issues",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn client_naming_the_method_otherwise_is_an_error() {
        let code = tonic_code(true).replace(
            "GrpcMethod::new(\"hello.Greeter\", \"Greet\")",
            "GrpcMethod::new(\"Greeter\", \"Greet\")",
        );
        let problem = register_client(&code, &greeter(), &runtime()).unwrap_err();
        assert!(
            problem.contains("GrpcMethod::new(\"hello.Greeter\", \"Greet\")"),
            "{problem}"
        );
    }

    #[test]
    fn client_without_the_method_is_an_error() {
        let code = tonic_code(true).replace("pub async fn greet(", "pub async fn say_hi(");
        let problem = register_client(&code, &greeter(), &runtime()).unwrap_err();
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
        let problem = server_code(&code).unwrap_err();
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
