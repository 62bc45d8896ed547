//! The `build.rs` side of tonic-traced: tonic-build, plus span attributes from proto options.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     tonic_traced_build::configure().compile_protos(&["proto/payment.proto"], &["proto"])?;
//!     Ok(())
//! }
//! ```
//!
//! Protos are compiled with [protox](https://docs.rs/protox), so no `protoc` is needed. Mark the
//! fields that should become span attributes:
//!
//! ```proto
//! import "tonic_traced/trace.proto";  // served by this crate: nothing to copy or include
//!
//! message PaymentRequest {
//!   double amount      = 1 [(tonic_traced.attribute) = "payment.amount"];
//!   string customer_id = 3 [(tonic_traced.field) = { name: "customer.id", redact: HASH }];
//! }
//! ```
//!
//! Every message gets an implementation of `tonic_traced::SpanAttributes`, and every generated
//! server trait learns the exact proto name and kind of each of its methods:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let folder = tempfile::tempdir()?;
//! let proto = folder.path().join("payment.proto");
//! std::fs::write(&proto, r#"
//!     syntax = "proto3";
//!     package payment;
//!     import "tonic_traced/trace.proto";
//!     message PaymentRequest {
//!       double amount = 1 [(tonic_traced.attribute) = "payment.amount"];
//!     }
//!     service PaymentService {
//!       rpc ProcessPayment(PaymentRequest) returns (PaymentRequest);
//!     }
//! "#)?;
//! tonic_traced_build::configure()
//!     .out_dir(folder.path()) // a build script leaves this out: Cargo's OUT_DIR is used
//!     .emit_rerun_if_changed(false)
//!     .compile_protos(&[&proto], &[folder.path()])?;
//!
//! let generated = std::fs::read_to_string(folder.path().join("payment.rs"))?;
//! assert!(generated.contains("impl ::tonic_traced::SpanAttributes for PaymentRequest"));
//! assert!(generated.contains(r#"full_name: "payment.PaymentService/ProcessPayment""#));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod annotations;
mod attributes_codegen;
mod builder;
mod compile;
mod debug_codegen;
mod descriptors;
mod error;
mod method_identities;
mod naming;
mod server_authority;
mod service_generator;
mod trace_proto;

pub use annotations::Redact;
pub use builder::Builder;
pub use error::Error;

/// Starts a [`Builder`] with tonic-build's defaults: client, server and transport code.
pub fn configure() -> Builder {
    Builder::default()
}

/// Compiles one proto file, with its folder as the include path; see [`configure`] for options.
pub fn compile_protos(proto: impl AsRef<std::path::Path>) -> Result<(), Error> {
    let proto = proto.as_ref();
    let folder = proto
        .parent()
        .ok_or_else(|| Error::new(format!("{} has no parent folder", proto.display())))?;
    configure().compile_protos(&[proto], &[folder])
}
