//! Compile-time OpenTelemetry tracing for gRPC services built with tonic.
//!
//! `tonic-traced-build` generates, for every protobuf message, an implementation of
//! [`SpanAttributes`] that records the fields marked with the `tonic_traced` proto options,
//! and, for every service, the exact proto identity of each method ([`RpcMethod`]).
//! The instrumentation reads both; user code names only this crate.

mod attributes;
mod method;
pub mod redact;

pub use attributes::{AttributeSink, AttributeValue, SpanAttributes};
pub use method::{RpcKind, RpcMethod};

/// Items used by generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::method::{RpcKind, RpcMethod};
}
