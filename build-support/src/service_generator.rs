//! Wraps tonic's service generators: clients and servers use tonic-traced's codecs and carry
//! each method's proto identity; every file's `SpanAttributes` impls are appended to its
//! package module.

use prost_build::{Service, ServiceGenerator};

use crate::method_identities;

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
            let mut code = String::new();
            client.generate(service.clone(), &mut code);
            buf.push_str(&method_identities::add_to_client(
                &code,
                &service,
                &self.runtime,
            ));
        }
        if let Some(server) = self.server.as_mut() {
            let mut code = String::new();
            server.generate(service.clone(), &mut code);
            buf.push_str(&method_identities::add_to_server(
                &code,
                &service,
                &self.runtime,
            ));
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
