//! `tonic_traced/trace.proto`, served from inside this crate so users import it with no setup.

use protox::file::{File, FileResolver};

/// The import name users write: `import "tonic_traced/trace.proto";`.
pub(crate) const TRACE_PROTO_NAME: &str = "tonic_traced/trace.proto";

const TRACE_PROTO_SOURCE: &str = include_str!("../proto/tonic_traced/trace.proto");

/// Full names of the two field options declared in `trace.proto`.
pub(crate) const ATTRIBUTE_OPTION: &str = "tonic_traced.attribute";
pub(crate) const FIELD_OPTION: &str = "tonic_traced.field";

/// Resolves `tonic_traced/trace.proto` from the copy compiled into this crate.
pub(crate) struct TraceProtoResolver;

impl FileResolver for TraceProtoResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == TRACE_PROTO_NAME {
            File::from_source(name, TRACE_PROTO_SOURCE)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}
