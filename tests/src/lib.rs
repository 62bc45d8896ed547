//! Generated code for the test protos, and the harness shared by the end-to-end tests.

pub mod harness;
pub mod things;

include!(concat!(env!("OUT_DIR"), "/protos.rs"));
