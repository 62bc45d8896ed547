//! Compile-time OpenTelemetry tracing for gRPC services built with tonic.
//!
//! `tonic-traced-build` generates, for every protobuf message, an implementation of
//! [`SpanAttributes`] that records the fields marked with the `tonic_traced` proto options,
//! and, for every service, the exact proto identity of each method ([`RpcMethod`]).
//! [`traced_service`] turns a service impl into one that opens a SERVER span per call.
//!
//! What a message records, as generated code implements it for an annotated proto:
//!
//! ```
//! use opentelemetry::KeyValue;
//! use tonic_traced::{AttributeSink, AttributeValue, SpanAttributes};
//!
//! // message PaymentRequest {
//! //   double amount      = 1 [(tonic_traced.attribute) = "payment.amount"];
//! //   string customer_id = 3 [(tonic_traced.field) = { name: "customer.id", redact: HASH }];
//! // }
//! struct PaymentRequest {
//!     amount: f64,
//!     customer_id: String,
//! }
//!
//! impl SpanAttributes for PaymentRequest {
//!     fn record_attributes(&self, sink: &mut dyn AttributeSink) {
//!         sink.record("payment.amount", AttributeValue::F64(self.amount));
//!         let hashed = tonic_traced::redact::hash(self.customer_id.as_bytes());
//!         sink.record("customer.id", AttributeValue::Str(hashed.as_str()));
//!     }
//! }
//!
//! let request = PaymentRequest { amount: 42.5, customer_id: "cust-123".into() };
//! let mut attributes: Vec<KeyValue> = Vec::new();
//! request.record_attributes(&mut attributes);
//! assert_eq!(attributes[0], KeyValue::new("payment.amount", 42.5));
//! assert_ne!(attributes[1].value.as_str(), "cust-123"); // hashed, never raw
//! ```

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attribute_value;
mod attributes;
mod call_fields;
mod call_filter;
mod call_hooks;
mod call_info;
mod call_sink;
pub mod client;
mod codec_link;
mod config;
mod deadline;
mod decoder;
mod error_details;
mod field_values;
mod framing;
mod hashed_fields;
mod hashing;
mod host_and_port;
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
mod semconv;
mod server;
pub mod status;
mod tracer;
mod w3c_fast_path;

pub use attribute_value::AttributeValue;
pub use attributes::{AttributeSink, SpanAttributes};
pub use call_filter::{BadMethodPattern, HEALTH_AND_REFLECTION};
pub use call_hooks::CallAttributes;
pub use call_info::{CallEnd, CallStart};
pub use call_sink::CallSink;
pub use config::{Config, InstallError};
#[cfg(feature = "init")]
pub use init::guard::TelemetryGuard;
#[cfg(feature = "init")]
pub use init::setup::{init, Init};
pub use limits::{DEFAULT_ATTRIBUTE_VALUE_LENGTH, DEFAULT_MESSAGES_PER_RPC};
pub use messages::{MessageMode, TracedMessage};
pub use method::{RpcKind, RpcMethod};
pub use metrics::{ExemplarSeries, ExemplarSink, HistogramSeries};
pub use propagation::extract_remote_context;
pub use semconv::{SemconvMode, UnknownRpcOptIn};
#[cfg(feature = "handler-events")]
pub use server::HandlerEvents;
pub use server::TracedStream;
pub use tonic_traced_macros::{traced, traced_service};
pub use tracer::SCOPE_NAME;

/// Items used by generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::client::codec::{CallLink, ClientCodec, TracedEncoder};
    pub use crate::client::identity::ClientMethod;
    pub use crate::decoder::{ReportDecoded, TracedDecoder};
    pub use crate::hashed_fields::HashedField;
    pub use crate::limits::truncate;
    pub use crate::method::{RpcKind, RpcMethod};
    pub use crate::redacted_debug::{EnumField, Redacted};
    pub use crate::server::{
        called_authority, keep_authority, CallSlot, MethodTracing, RequestBody, ServerCall,
        ServerCodec,
    };
    pub use crate::status::is_server_error;
    pub use inventory;
    pub use tonic::Code;
}
