//! Wraps tonic's service generators: clients and servers use tonic-traced's codecs and carry
//! each method's proto identity, servers keep each request's `:authority`; every file's
//! `SpanAttributes` impls are appended to its package module.

use std::cell::RefCell;
use std::rc::Rc;

use prost_build::{Service, ServiceGenerator};

use crate::{method_identities, server_authority};

/// Problems found while prost runs the generator, which cannot return errors itself; the
/// builder reads them once prost is done.
pub(crate) type GeneratorProblems = Rc<RefCell<Vec<String>>>;

/// The generator handed to prost: tonic's output plus ours.
pub(crate) struct TracedServiceGenerator {
    /// tonic's generator for clients, absent when clients are not built.
    client: Option<Box<dyn ServiceGenerator>>,
    /// tonic's generator for servers, set up with the server codec; absent when not built.
    server: Option<Box<dyn ServiceGenerator>>,
    /// Path of the runtime crate in generated code.
    runtime: syn::Path,
    /// `SpanAttributes` (and redacting `Debug`) impls, one entry per file, in the order prost
    /// generates the files.
    attribute_impls: std::vec::IntoIter<String>,
    /// Where tonic-build's code could not be edited.
    problems: GeneratorProblems,
}

impl TracedServiceGenerator {
    pub(crate) fn new(
        client: Option<Box<dyn ServiceGenerator>>,
        server: Option<Box<dyn ServiceGenerator>>,
        runtime: syn::Path,
        attribute_impls: Vec<String>,
        problems: GeneratorProblems,
    ) -> Self {
        TracedServiceGenerator {
            client,
            server,
            runtime,
            attribute_impls: attribute_impls.into_iter(),
            problems,
        }
    }

    /// Appends the edited code; when tonic's code could not be edited, records why and
    /// appends tonic's code as it is, so that prost finishes and the builder reports it.
    fn append(&self, edited: Result<String, String>, tonic_code: String, buf: &mut String) {
        match edited {
            Ok(code) => buf.push_str(&code),
            Err(problem) => {
                self.problems.borrow_mut().push(problem);
                buf.push_str(&tonic_code);
            }
        }
    }
}

impl ServiceGenerator for TracedServiceGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        if let Some(client) = self.client.as_mut() {
            let mut code = String::new();
            client.generate(service.clone(), &mut code);
            let edited = method_identities::register_client(&code, &service, &self.runtime);
            self.append(edited, code, buf);
        }
        if let Some(server) = self.server.as_mut() {
            let mut code = String::new();
            server.generate(service.clone(), &mut code);
            let edited =
                method_identities::parse(&code, &service, "server").and_then(|mut file| {
                    method_identities::add_to_server(&mut file, &service, &self.runtime)?;
                    server_authority::keep_authority(&mut file, &service, &self.runtime)?;
                    Ok(prettyplease::unparse(&file))
                });
            self.append(edited, code, buf);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method_identities::tests::greeter;

    /// A tonic generator whose client code has a shape we do not edit.
    struct UnexpectedShape;

    const UNEXPECTED_CODE: &str = "pub mod greeter_client { pub struct GreeterClient; }\n";

    impl ServiceGenerator for UnexpectedShape {
        fn generate(&mut self, _service: Service, buf: &mut String) {
            buf.push_str(UNEXPECTED_CODE);
        }
    }

    #[test]
    fn unexpected_shape_is_recorded_for_the_builder() {
        let problems = GeneratorProblems::default();
        let mut generator = TracedServiceGenerator::new(
            Some(Box::new(UnexpectedShape)),
            None,
            syn::parse_quote!(::tonic_traced),
            Vec::new(),
            problems.clone(),
        );
        let mut buf = String::new();
        generator.generate(greeter(), &mut buf);
        assert_eq!(
            buf, UNEXPECTED_CODE,
            "tonic's code is kept, so prost can finish"
        );
        let problems = problems.take();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("expected `impl<T> GreeterClient<T>` with a method `greet`"),
            "{problems:?}"
        );
    }
}
