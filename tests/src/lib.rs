//! Generated code for the test protos, and helpers shared by the end-to-end tests.

#![allow(clippy::all, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/protos.rs"));
