//! The builder users call from `build.rs`, mirroring `tonic_prost_build::Builder`.

use std::path::{Path, PathBuf};

use quote::quote;

use crate::annotations::{self, Annotation, BuilderAnnotation, Redact};
use crate::attributes_codegen::AttributesCodegen;
use crate::compile::compile;
use crate::debug_codegen::DebugCodegen;
use crate::descriptors::ExternPaths;
use crate::service_generator::{GeneratorProblems, TracedServiceGenerator};
use crate::Error;

/// Configures code generation. Every option of `tonic_prost_build::Builder` that makes sense
/// without `protoc` is here under the same name, plus the annotation methods of tonic-traced.
#[derive(Debug, Clone)]
pub struct Builder {
    tonic: tonic_prost_build::Builder,
    build_client: bool,
    build_server: bool,
    out_dir: Option<PathBuf>,
    extern_paths: Vec<String>,
    compile_well_known_types: bool,
    file_descriptor_set_path: Option<PathBuf>,
    emit_rerun_if_changed: bool,
    runtime_path: String,
    codec_path: String,
    annotations: Vec<BuilderAnnotation>,
    hand_written_attributes: Vec<String>,
    skip_debug: Vec<String>,
    redact_debug: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            tonic: tonic_prost_build::configure(),
            build_client: true,
            build_server: true,
            out_dir: None,
            extern_paths: Vec::new(),
            compile_well_known_types: false,
            file_descriptor_set_path: None,
            emit_rerun_if_changed: std::env::var_os("CARGO").is_some(),
            runtime_path: "::tonic_traced".to_owned(),
            codec_path: "::tonic_prost::ProstCodec".to_owned(),
            annotations: Vec::new(),
            hand_written_attributes: Vec::new(),
            skip_debug: Vec::new(),
            redact_debug: true,
        }
    }
}

/// Forwards a tonic builder option unchanged.
macro_rules! forward {
    ($(#[$doc:meta] $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[$doc]
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.tonic = self.tonic.$name($($arg),*);
            self
        }
    )*};
}

impl Builder {
    forward! {
        /// Enables or disables transport-related code (`connect`, `Channel` constructors).
        build_transport(enable: bool);
        /// Adds an attribute to fields matching `path` (`prost_build::Config::field_attribute`).
        field_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to messages matching `path`.
        message_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to enums and oneofs matching `path`.
        enum_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to messages, enums and oneofs matching `path`.
        type_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Boxes the fields matching `path`.
        boxed(path: impl AsRef<str>);
        /// Generates `BTreeMap` instead of `HashMap` for the map fields matching `path`.
        btree_map(path: impl AsRef<str>);
        /// Generates `bytes::Bytes` instead of `Vec<u8>` for the bytes fields matching `path`.
        bytes(path: impl AsRef<str>);
        /// Adds an attribute to the server modules matching `path`.
        server_mod_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to the server structs matching `path`.
        server_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to the server traits matching `path`.
        trait_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to the client modules matching `path`.
        client_mod_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Adds an attribute to the client structs matching `path`.
        client_attribute(path: impl AsRef<str>, attribute: impl AsRef<str>);
        /// Where service code finds message types, `super` by default.
        proto_path(path: impl AsRef<str>);
        /// Whether generated files declare their package.
        emit_package(enable: bool);
        /// Name of a file that `include!`s every generated module, nested by package.
        include_file(path: impl AsRef<Path>);
        /// Uses `Arc<Self>` receivers in server traits.
        use_arc_self(enable: bool);
        /// Generates default method bodies returning `UNIMPLEMENTED` in server traits.
        generate_default_stubs(enable: bool);
    }

    /// Disables doc comments on the services and methods matching `paths`.
    pub fn disable_comments<S: AsRef<str>>(mut self, paths: impl IntoIterator<Item = S>) -> Self {
        self.tonic = self.tonic.disable_comments(paths);
        self
    }

    /// Keeps the `Debug` derive off the messages matching `paths`: you implement `Debug` for
    /// them (and for the types nested in them), redacted fields included.
    pub fn skip_debug<S: AsRef<str>>(mut self, paths: impl IntoIterator<Item = S>) -> Self {
        let paths: Vec<String> = paths.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self.tonic = self.tonic.skip_debug(&paths);
        self.skip_debug.extend(paths);
        self
    }

    /// Whether messages with `HASH`, `LENGTH` or `PRESENT` fields get a generated `Debug` that
    /// prints those fields as they are recorded (`HASH(5bdcc146bf60754e)`, `LENGTH(42)`,
    /// `PRESENT(true)`) instead of prost's derive, which prints every value raw. On by
    /// default; `false` keeps prost's derive.
    pub fn redact_debug(mut self, enable: bool) -> Self {
        self.redact_debug = enable;
        self
    }

    /// The codec of generated clients and servers, `tonic_prost::ProstCodec` by default: a type
    /// generic over the encoded and decoded message types. Servers use it through
    /// `tonic_traced`'s server codec, which reports streamed request messages.
    pub fn codec_path(mut self, path: impl AsRef<str>) -> Self {
        self.codec_path = path.as_ref().to_owned();
        self
    }

    /// Enables or disables client code generation.
    pub fn build_client(mut self, enable: bool) -> Self {
        self.build_client = enable;
        self
    }

    /// Enables or disables server code generation.
    pub fn build_server(mut self, enable: bool) -> Self {
        self.build_server = enable;
        self
    }

    /// Where generated files go; by default `OUT_DIR`, which Cargo sets for build scripts.
    pub fn out_dir(mut self, out_dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(out_dir.as_ref().to_path_buf());
        self
    }

    /// Uses Rust types from elsewhere for a proto package or type (`".common"`, `"::common"`).
    /// Their `SpanAttributes` impls come from where they are generated; fields holding them
    /// are not descended into.
    pub fn extern_path(mut self, proto_path: impl AsRef<str>, rust_path: impl AsRef<str>) -> Self {
        self.extern_paths.push(proto_path.as_ref().to_owned());
        self.tonic = self.tonic.extern_path(proto_path, rust_path);
        self
    }

    /// Generates the `google.protobuf` types instead of using `prost-types`.
    pub fn compile_well_known_types(mut self, enable: bool) -> Self {
        self.compile_well_known_types = enable;
        self.tonic = self.tonic.compile_well_known_types(enable);
        self
    }

    /// Also writes the encoded `FileDescriptorSet` (custom options included) to `path`,
    /// e.g. for gRPC reflection.
    pub fn file_descriptor_set_path(mut self, path: impl AsRef<Path>) -> Self {
        self.file_descriptor_set_path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every proto file read; on under Cargo.
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Self {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// How generated code names the runtime crate, `::tonic_traced` by default; set it when
    /// the crate is renamed or re-exported.
    pub fn runtime_path(mut self, path: impl AsRef<str>) -> Self {
        self.runtime_path = path.as_ref().to_owned();
        self
    }

    /// Records `field` (`"payment.PaymentRequest.amount"`) as the span attribute `key`, as
    /// `[(tonic_traced.attribute) = "key"]` would, for protos you cannot edit.
    pub fn annotate_field(self, field: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        self.annotate_field_redacted(field, key, Redact::None)
    }

    /// Like [`annotate_field`](Self::annotate_field), with a redaction mode.
    pub fn annotate_field_redacted(
        mut self,
        field: impl AsRef<str>,
        key: impl AsRef<str>,
        redact: Redact,
    ) -> Self {
        self.annotations.push(BuilderAnnotation {
            field: field.as_ref().to_owned(),
            annotation: Annotation {
                key: key.as_ref().to_owned(),
                redact,
                max_length: None,
            },
        });
        self
    }

    /// Leaves out the generated `SpanAttributes` impl of `message` (`"package.Message"`), for
    /// a crate that implements it by hand.
    pub fn hand_written_span_attributes(mut self, message: impl AsRef<str>) -> Self {
        self.hand_written_attributes
            .push(message.as_ref().trim_start_matches('.').to_owned());
        self
    }

    /// `out_dir`, else `OUT_DIR`, as tonic-prost-build chooses (but an error instead of a panic).
    fn resolved_out_dir(&self) -> Result<PathBuf, Error> {
        self.out_dir
            .clone()
            .or_else(|| std::env::var_os("OUT_DIR").map(PathBuf::from))
            .ok_or_else(|| {
                Error::new(
                    "OUT_DIR is not set, so there is nowhere to write the generated code: call \
                     compile_protos from a build script (Cargo sets OUT_DIR), or choose a folder \
                     with out_dir(…)",
                )
            })
    }

    /// Compiles `protos`, resolving imports from `includes`, and writes the Rust code.
    pub fn compile_protos(
        self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> Result<(), Error> {
        self.compile_with_config(prost_build::Config::new(), protos, includes)
    }

    /// Like [`compile_protos`](Self::compile_protos), starting from a `prost_build::Config`.
    pub fn compile_with_config(
        self,
        mut config: prost_build::Config,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> Result<(), Error> {
        let out_dir = self.resolved_out_dir()?;
        let runtime = rust_path("runtime_path", &self.runtime_path, "::tonic_traced")?;
        let codec = rust_path("codec_path", &self.codec_path, "::tonic_prost::ProstCodec")?;
        let compiled = compile(protos, includes)?;
        let annotations = annotations::collect(&compiled.pool, &compiled.files, &self.annotations)?;
        let unknown: Vec<String> = self
            .hand_written_attributes
            .iter()
            .filter(|message| compiled.pool.get_message_by_name(message).is_none())
            .map(|message| {
                format!("hand_written_span_attributes(\"{message}\") names no message of the compiled protos")
            })
            .collect();
        if !unknown.is_empty() {
            return Err(Error::from_problems(unknown));
        }
        let externs = ExternPaths::new(&self.extern_paths, self.compile_well_known_types);
        let mut codegen = AttributesCodegen::new(
            &annotations,
            &externs,
            &self.hand_written_attributes,
            &runtime,
        );
        let debug = DebugCodegen::new(
            &compiled.files,
            &annotations,
            &externs,
            &self.skip_debug,
            &runtime,
            self.redact_debug,
        );
        let generated_impls = compiled
            .files
            .iter()
            .map(|file| codegen.file(file, debug.file(file)))
            .collect();
        let skip_debug = debug.skip_debug_paths();

        let client_generator = self.build_client.then(|| {
            self.tonic
                .clone()
                .build_client(true)
                .build_server(false)
                .codec_path(quote!(#runtime::__private::ClientCodec::<#codec<_, _>>).to_string())
                .service_generator()
        });
        let server_codec = quote!(#runtime::__private::ServerCodec::<#codec<_, _>>).to_string();
        let server_generator = self.build_server.then(|| {
            self.tonic
                .clone()
                .build_client(false)
                .build_server(true)
                .codec_path(server_codec)
                .service_generator()
        });
        let problems = GeneratorProblems::default();
        config.service_generator(Box::new(TracedServiceGenerator::new(
            client_generator,
            server_generator,
            runtime,
            generated_impls,
            problems.clone(),
        )));

        let descriptor_set = prost_types::FileDescriptorSet {
            file: compiled
                .files
                .iter()
                .map(|file| file.file_descriptor_proto().clone())
                .collect(),
        };
        self.tonic
            .skip_debug(skip_debug)
            .out_dir(out_dir)
            .build_client(false)
            .build_server(false)
            .compile_fds_with_config(descriptor_set, config)?;
        let problems = problems.take();
        if !problems.is_empty() {
            return Err(Error::from_problems(problems));
        }

        if let Some(path) = &self.file_descriptor_set_path {
            std::fs::write(path, &compiled.encoded_set).map_err(|error| {
                Error::new(format!("could not write {}: {error}", path.display()))
            })?;
        }
        if self.emit_rerun_if_changed {
            for path in &compiled.source_paths {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        Ok(())
    }
}

/// Parses the value of a builder option that names a Rust path.
fn rust_path(option: &str, value: &str, example: &str) -> Result<syn::Path, Error> {
    syn::parse_str(value).map_err(|error| {
        Error::new(format!(
            "{option}({value:?}) is not a Rust path ({error}); write one such as \"{example}\""
        ))
    })
}
