//! Generated code for the test protos, and the harness shared by the end-to-end tests.

pub mod collector;
pub mod edge;
pub mod go;
pub mod harness;
pub mod jaeger;
pub mod ledger;
pub mod peer;
pub mod process;
pub mod relay;
pub mod semconv_check;
pub mod services;
pub mod things;
pub mod tutorial;

include!(concat!(env!("OUT_DIR"), "/protos.rs"));
