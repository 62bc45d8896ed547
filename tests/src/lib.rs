//! Generated code for the test protos, and helpers shared by the end-to-end tests.


include!(concat!(env!("OUT_DIR"), "/protos.rs"));
