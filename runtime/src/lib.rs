//! Compile-time OpenTelemetry tracing for gRPC services built with tonic.
//!
//! `tonic-traced-build` generates, for every protobuf message, an implementation of
//! [`SpanAttributes`] that records the fields marked with the `tonic_traced` proto options,
//! and, for every service, the exact proto identity of each method ([`RpcMethod`]).
//! [`traced_service`] turns a service impl into one that opens a SERVER span per call.

#![warn(missing_docs)]

mod attributes;
mod call_fields;
pub mod client;
mod config;
mod deadline;
mod decoder;
mod error_details;
mod framing;
mod hashed_fields;
#[cfg(feature = "init")]
pub mod init;
mod keys;
mod limits;
mod messages;
mod metadata;
mod method;
mod metrics;
mod propagation;
pub mod redact;
mod redacted_debug;
mod rpc_span;
pub mod semconv;
mod server;
pub mod status;
mod tracer;
mod w3c_fast_path;

pub use attributes::{AttributeSink, AttributeValue, SpanAttributes};
pub use config::{Config, InstallError};
#[cfg(feature = "init")]
pub use init::shutdown_signal;
#[cfg(feature = "init")]
pub use init::{init, Init, TelemetryGuard};
pub use limits::{DEFAULT_ATTRIBUTE_VALUE_LENGTH, DEFAULT_MESSAGES_PER_RPC};
pub use messages::{MessageMode, TracedMessage};
pub use method::{RpcKind, RpcMethod};
pub use propagation::extract_remote_context;
pub use semconv::SemconvMode;
#[cfg(feature = "handler-events")]
pub use server::HandlerEvents;
pub use server::TracedStream;
pub use tonic_traced_macros::{traced, traced_service};
pub use tracer::SCOPE_NAME;

/// Items used by generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::{ClientCodec, ClientMethod};
    pub use crate::decoder::{ReportDecoded, TracedDecoder};
    pub use crate::hashed_fields::HashedField;
    pub use crate::limits::truncate;
    pub use crate::method::{RpcKind, RpcMethod};
    pub use crate::redacted_debug::{EnumField, Redacted};
    pub use crate::server::{CallSlot, MethodTracing, RequestBody, ServerCall, ServerCodec};
    pub use crate::status::is_server_error;
    pub use inventory;
    pub use tonic::Code;
}
