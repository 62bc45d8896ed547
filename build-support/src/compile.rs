//! Compiles `.proto` files with protox (no `protoc` needed) into what prost and we both read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use prost_reflect::{DescriptorPool, FileDescriptor};
use protox::file::{ChainFileResolver, GoogleFileResolver, IncludeFileResolver};

use crate::trace_proto::{TraceProtoResolver, ATTRIBUTE_OPTION, FIELD_OPTION, TRACE_PROTO_NAME};
use crate::Error;

/// The result of compiling a proto tree.
pub(crate) struct CompiledProtos {
    /// Every file, with custom options readable through reflection.
    pub(crate) pool: DescriptorPool,
    /// The files to generate Rust for, dependencies first: the requested files and what they
    /// import, without `tonic_traced/trace.proto` and what only it imports.
    pub(crate) files: Vec<FileDescriptor>,
    /// The encoded descriptor set, extension options included, for `file_descriptor_set_path`.
    pub(crate) encoded_set: Vec<u8>,
    /// Proto files read from disk, for `cargo:rerun-if-changed`.
    pub(crate) source_paths: Vec<PathBuf>,
}

/// Compiles `protos`, resolving imports from `includes`, the well-known types and our own
/// `tonic_traced/trace.proto`.
pub(crate) fn compile(
    protos: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
) -> Result<CompiledProtos, Error> {
    let mut resolver = ChainFileResolver::new();
    for include in includes {
        resolver.add(IncludeFileResolver::new(include.as_ref().to_path_buf()));
    }
    resolver.add(TraceProtoResolver);
    resolver.add(GoogleFileResolver::new());

    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(protos).map_err(|error| {
        Error::new(format!(
            "could not compile the protos: {}{}",
            locate(&error),
            missing_import_hint(&error)
        ))
    })?;

    let requested: Vec<String> = compiler
        .files()
        .filter(|file| !file.is_import())
        .map(|file| file.name().to_owned())
        .collect();
    let source_paths = compiler
        .files()
        .filter_map(|file| file.path().map(Path::to_path_buf))
        .collect();
    let pool = compiler.descriptor_pool();
    let wanted = files_to_generate(&pool, &requested);
    let files = pool
        .files()
        .filter(|file| wanted.contains(file.name()))
        .collect();
    Ok(CompiledProtos {
        files,
        encoded_set: compiler.encode_file_descriptor_set(),
        source_paths,
        pool,
    })
}

/// The requested files and everything they import, except through `tonic_traced/trace.proto`,
/// which only declares options and must not become Rust code in the user's crate.
fn files_to_generate(pool: &DescriptorPool, requested: &[String]) -> HashSet<String> {
    let mut wanted = HashSet::new();
    let mut pending: Vec<String> = requested.to_vec();
    while let Some(name) = pending.pop() {
        if name == TRACE_PROTO_NAME || !wanted.insert(name.clone()) {
            continue;
        }
        if let Some(file) = pool.get_file_by_name(&name) {
            pending.extend(file.dependencies().map(|dep| dep.name().to_owned()));
        }
    }
    wanted
}

/// The fix when a file uses a `tonic_traced` option without importing the file declaring it,
/// which protox reports as `name 'tonic_traced.attribute' is not defined`; empty otherwise.
fn missing_import_hint(error: &protox::Error) -> String {
    let message = error.to_string();
    let undeclared_option = [ATTRIBUTE_OPTION, FIELD_OPTION].iter().any(|option| {
        message == format!("name '{option}' is not defined")
            || message == format!("name '.{option}' is not defined")
    });
    match error.file() {
        Some(file) if undeclared_option => format!(
            "; add `import \"{TRACE_PROTO_NAME}\";` to {file}: it declares the tonic_traced \
             options (tonic-traced-build serves it, no include path is needed)"
        ),
        _ => String::new(),
    }
}

/// `file:line:column: message`, as far as protox knows where the error is.
fn locate(error: &protox::Error) -> String {
    use miette::Diagnostic;
    let position = error
        .labels()
        .and_then(|mut labels| labels.next())
        .zip(error.source_code())
        .and_then(|(label, source)| source.read_span(label.inner(), 0, 0).ok())
        .map(|span| format!(":{}:{}", span.line() + 1, span.column() + 1));
    match error.file() {
        Some(file) => format!("{file}{}: {error}", position.unwrap_or_default()),
        None => error.to_string(),
    }
}
