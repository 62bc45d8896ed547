//! Has the generated server keep each request's `:authority`, which tonic drops with the URI
//! before the handler runs and the conventions record on SERVER spans (`server.address`,
//! `server.port`): `let req = keep_authority(req);` first in the server's `Service::call`.
//!
//! Any other shape of tonic-build's server is an error saying what was expected, never a
//! silent skip.

use prost_build::Service;
use syn::{FnArg, ImplItem, Item, Pat};

use crate::method_identities::{is_named, items, modules, unexpected};

/// Puts `let req = <runtime>::__private::keep_authority(req);` first in
/// `impl Service<http::Request<B>> for <Name>Server<T>`'s `fn call(&mut self, req: …)`.
pub(crate) fn keep_authority(
    file: &mut syn::File,
    service: &Service,
    runtime: &syn::Path,
) -> Result<(), String> {
    let server_name = format!("{}Server", service.name);
    let call = modules(file)
        .flat_map(items)
        .filter_map(|item| match item {
            Item::Impl(server)
                if is_named(&server.self_ty, &server_name)
                    && server
                        .trait_
                        .as_ref()
                        .and_then(|(_, path, _)| path.segments.last())
                        .is_some_and(|last| last.ident == "Service") =>
            {
                Some(server)
            }
            _ => None,
        })
        .flat_map(|server| server.items.iter_mut())
        .find_map(|item| match item {
            ImplItem::Fn(call) if call.sig.ident == "call" && takes_req(&call.sig) => Some(call),
            _ => None,
        })
        .ok_or_else(|| {
            unexpected(
                service,
                "server",
                &format!(
                    "`impl Service<http::Request<B>> for {server_name}<T>` with a method \
                     `fn call(&mut self, req: http::Request<B>)`"
                ),
            )
        })?;
    call.block.stmts.insert(
        0,
        syn::parse_quote! {
            let req = #runtime::__private::keep_authority(req);
        },
    );
    Ok(())
}

/// Whether the method's one argument besides `self` is named `req`.
fn takes_req(signature: &syn::Signature) -> bool {
    let arguments: Vec<&FnArg> = signature.inputs.iter().collect();
    matches!(
        arguments.as_slice(),
        [FnArg::Receiver(_), FnArg::Typed(req)]
            if matches!(&*req.pat, Pat::Ident(name) if name.ident == "req")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method_identities::parse;
    use crate::method_identities::tests::{greeter, runtime, tonic_code};

    fn edited(code: &str) -> Result<String, String> {
        let mut file = parse(code, &greeter(), "server")?;
        keep_authority(&mut file, &greeter(), &runtime())?;
        Ok(prettyplease::unparse(&file))
    }

    #[test]
    fn the_servers_call_keeps_the_authority_first() {
        let code = edited(&tonic_code(false)).unwrap();
        let flat: String = code.split_whitespace().collect();
        assert!(
            flat.contains(
                "fncall(&mutself,req:http::Request<B>)->Self::Future{\
                 letreq=::tonic_traced::__private::keep_authority(req);\
                 matchreq.uri().path(){"
            ),
            "{code}"
        );
    }

    #[test]
    fn a_server_of_another_shape_is_an_error() {
        let code =
            tonic_code(false).replace("fn call(&mut self, req:", "fn call(&mut self, request:");
        let problem = edited(&code).unwrap_err();
        assert!(
            problem.starts_with(
                "tonic-build's server code for service `hello.Greeter` does not have the shape \
                 tonic-traced-build edits: expected `impl Service<http::Request<B>> for \
                 GreeterServer<T>` with a method `fn call(&mut self, req: http::Request<B>)`."
            ),
            "{problem}"
        );
    }
}
