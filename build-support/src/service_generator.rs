//! Wraps tonic's service generator: adds each method's proto identity to the server trait and
//! appends the `SpanAttributes` impls of every file to its package module.

use prost_build::{Service, ServiceGenerator};

/// The generator handed to prost: tonic's output plus ours.
pub(crate) struct TracedServiceGenerator {
    /// tonic's own generator, absent when neither client nor server is built.
    tonic: Option<Box<dyn ServiceGenerator>>,
    build_server: bool,
    /// Path of the runtime crate in generated code.
    runtime: String,
    /// `SpanAttributes` impls, one entry per file, in the order prost generates the files.
    attribute_impls: std::vec::IntoIter<String>,
}

impl TracedServiceGenerator {
    pub(crate) fn new(
        tonic: Option<Box<dyn ServiceGenerator>>,
        build_server: bool,
        runtime: String,
        attribute_impls: Vec<String>,
    ) -> Self {
        TracedServiceGenerator {
            tonic,
            build_server,
            runtime,
            attribute_impls: attribute_impls.into_iter(),
        }
    }
}

impl ServiceGenerator for TracedServiceGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        let Some(tonic) = self.tonic.as_mut() else {
            return;
        };
        let mut code = String::new();
        tonic.generate(service.clone(), &mut code);
        if self.build_server {
            code = add_method_identities(&code, &service, &self.runtime);
        }
        buf.push_str(&code);
    }

    /// prost calls this once after each file, in the order of the descriptor set.
    fn finalize(&mut self, buf: &mut String) {
        if let Some(tonic) = self.tonic.as_mut() {
            tonic.finalize(buf);
        }
        if let Some(impls) = self.attribute_impls.next() {
            buf.push_str(&impls);
        }
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        if let Some(tonic) = self.tonic.as_mut() {
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
