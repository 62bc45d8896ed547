//! Wraps tonic's service generators: servers decode through tonic-traced's codec and their
//! traits learn each method's proto identity; every file's `SpanAttributes` impls are
//! appended to its package module.

use prost_build::{Service, ServiceGenerator};

/// The generator handed to prost: tonic's output plus ours.
pub(crate) struct TracedServiceGenerator {
    /// tonic's generator for clients, absent when clients are not built.
    client: Option<Box<dyn ServiceGenerator>>,
    /// tonic's generator for servers, set up with the server codec; absent when not built.
    server: Option<Box<dyn ServiceGenerator>>,
    /// Path of the runtime crate in generated code.
    runtime: String,
    /// `SpanAttributes` impls, one entry per file, in the order prost generates the files.
    attribute_impls: std::vec::IntoIter<String>,
}

impl TracedServiceGenerator {
    pub(crate) fn new(
        client: Option<Box<dyn ServiceGenerator>>,
        server: Option<Box<dyn ServiceGenerator>>,
        runtime: String,
        attribute_impls: Vec<String>,
    ) -> Self {
        TracedServiceGenerator {
            client,
            server,
            runtime,
            attribute_impls: attribute_impls.into_iter(),
        }
    }
}

impl ServiceGenerator for TracedServiceGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        if let Some(client) = self.client.as_mut() {
            client.generate(service.clone(), buf);
        }
        if let Some(server) = self.server.as_mut() {
            let mut code = String::new();
            server.generate(service.clone(), &mut code);
            buf.push_str(&add_method_identities(&code, &service, &self.runtime));
        }
    }

    /// prost calls this once after each file, in the order of the descriptor set.
    fn finalize(&mut self, buf: &mut String) {
        for tonic in self.client.iter_mut().chain(self.server.iter_mut()) {
            tonic.finalize(buf);
        }
        if let Some(impls) = self.attribute_impls.next() {
            buf.push_str(&impls);
        }
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        for tonic in self.client.iter_mut().chain(self.server.iter_mut()) {
            tonic.finalize_package(package, buf);
        }
    }
}

/// The hidden trait function through which `#[traced_service]` finds a method's identity:
/// `<T as PaymentService>::__tonic_traced_method_process_payment()`.
pub(crate) fn method_identity_fn(rust_method_name: &str) -> String {
    format!(
        "__tonic_traced_method_{}",
        rust_method_name.trim_start_matches("r#")
    )
}

/// Adds one hidden associated function per method to tonic's server trait for `service`.
fn add_method_identities(code: &str, service: &Service, runtime: &str) -> String {
    let mut file = syn::parse_file(code).unwrap_or_else(|error| {
        panic!("tonic-traced-build bug: tonic's output does not parse: {error}")
    });
    let server_trait = file
        .items
        .iter_mut()
        .filter_map(|item| match item {
            syn::Item::Mod(module) => module.content.as_mut(),
            _ => None,
        })
        .flat_map(|(_, items)| items.iter_mut())
        .find_map(|item| match item {
            syn::Item::Trait(server_trait) if server_trait.ident == service.name => {
                Some(server_trait)
            }
            _ => None,
        })
        .unwrap_or_else(|| {
            panic!(
                "tonic-traced-build bug: no server trait `{}` in tonic's output",
                service.name
            )
        });
    let service_name = if service.package.is_empty() {
        service.proto_name.clone()
    } else {
        format!("{}.{}", service.package, service.proto_name)
    };
    for method in &service.methods {
        let kind = match (method.client_streaming, method.server_streaming) {
            (false, false) => "Unary",
            (false, true) => "ServerStreaming",
            (true, false) => "ClientStreaming",
            (true, true) => "BidiStreaming",
        };
        let item = format!(
            "#[doc(hidden)]
            fn {function}() -> &'static {runtime}::__private::RpcMethod where Self: Sized {{
                &{runtime}::__private::RpcMethod {{
                    service: {service_name:?},
                    method: {method_name:?},
                    full_name: {full_name:?},
                    kind: {runtime}::__private::RpcKind::{kind},
                }}
            }}",
            function = method_identity_fn(&method.name),
            method_name = method.proto_name,
            full_name = format!("{service_name}/{}", method.proto_name),
        );
        let item = syn::parse_str(&item)
            .unwrap_or_else(|error| panic!("tonic-traced-build bug: bad method identity: {error}"));
        server_trait.items.push(item);
    }
    prettyplease::unparse(&file)
}
