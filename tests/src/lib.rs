//! Generated code for the test protos, and the harness shared by the end-to-end tests.

pub mod edge;
pub mod harness;
pub mod ledger;
pub mod peer;
pub mod relay;
pub mod semconv_check;
pub mod things;
pub mod tutorial;

include!(concat!(env!("OUT_DIR"), "/protos.rs"));
