//! Puts each method's exact proto identity into tonic's generated code: a hidden function of
//! the server trait for `#[traced_service]`, and a request extension in every client call.

use prost_build::{Method, Service};
use syn::{Item, ItemMod};

/// Adds `fn __tonic_traced_method_<name>() -> &'static RpcMethod` to the server trait, so
/// `<T as PaymentService>::__tonic_traced_method_process_payment()` works wherever the trait
/// is imported.
pub(crate) fn add_to_server(code: &str, service: &Service, runtime: &str) -> String {
    let mut file = parse(code);
    let server_trait = modules(&mut file)
        .flat_map(items)
        .find_map(|item| match item {
            Item::Trait(server_trait) if server_trait.ident == service.name => Some(server_trait),
            _ => None,
        })
        .unwrap_or_else(|| bug(&format!("no server trait `{}`", service.name)));
    for method in &service.methods {
        let item = format!(
            "#[doc(hidden)]
            fn __tonic_traced_method_{function}() -> &'static {runtime}::__private::RpcMethod
            where Self: Sized {{ {identity} }}",
            function = method.name.trim_start_matches("r#"),
            identity = identity(service, method, runtime),
        );
        server_trait
            .items
            .push(syn::parse_str(&item).unwrap_or_else(|e| bug(&e.to_string())));
    }
    prettyplease::unparse(&file)
}

/// Adds `req.extensions_mut().insert(ClientMethod(&…))` next to tonic's own `GrpcMethod`
/// extension in every method of the generated client, and the codec's `CallLink`, through
/// which the layer lets the codec record the response messages under the call's span.
pub(crate) fn add_to_client(code: &str, service: &Service, runtime: &str) -> String {
    let mut file = parse(code);
    let client_name = format!("{}Client", service.name);
    let client_impls = modules(&mut file)
        .flat_map(items)
        .filter_map(|item| match item {
            Item::Impl(client) if is_named(&client.self_ty, &client_name) => Some(client),
            _ => None,
        });
    for client in client_impls {
        for item in &mut client.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            let Some(method) = service
                .methods
                .iter()
                .find(|m| function.sig.ident == m.name)
            else {
                continue;
            };
            let stmts = &mut function.block.stmts;
            let Some(position) = stmts
                .iter()
                .position(|stmt| quote::quote!(#stmt).to_string().contains("GrpcMethod"))
            else {
                continue;
            };
            let inserts = [
                format!(
                    "req.extensions_mut().insert({runtime}::__private::ClientMethod({}));",
                    identity(service, method, runtime)
                ),
                // tonic's template names the call's codec `codec`.
                "req.extensions_mut().insert(codec.call_link());".to_owned(),
            ];
            for (offset, insert) in inserts.iter().enumerate() {
                let stmt = syn::parse_str(insert).unwrap_or_else(|e| bug(&e.to_string()));
                stmts.insert(position + 1 + offset, stmt);
            }
        }
    }
    prettyplease::unparse(&file)
}

/// `&RpcMethod { … }`, a constant expression promoted to `'static`.
fn identity(service: &Service, method: &Method, runtime: &str) -> String {
    let service_name = if service.package.is_empty() {
        service.proto_name.clone()
    } else {
        format!("{}.{}", service.package, service.proto_name)
    };
    let kind = match (method.client_streaming, method.server_streaming) {
        (false, false) => "Unary",
        (false, true) => "ServerStreaming",
        (true, false) => "ClientStreaming",
        (true, true) => "BidiStreaming",
    };
    format!(
        "&{runtime}::__private::RpcMethod {{
            service: {service_name:?},
            method: {method_name:?},
            full_name: {full_name:?},
            kind: {runtime}::__private::RpcKind::{kind},
        }}",
        method_name = method.proto_name,
        full_name = format!("{service_name}/{}", method.proto_name),
    )
}

fn parse(code: &str) -> syn::File {
    syn::parse_file(code)
        .unwrap_or_else(|error| bug(&format!("tonic's output does not parse: {error}")))
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

/// Generated code that does not look as expected is a bug here, not a user error.
fn bug(what: &str) -> ! {
    panic!("tonic-traced-build bug: {what}; please report it with your tonic version")
}
