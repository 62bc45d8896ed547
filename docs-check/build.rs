//! The generated code the Rust blocks of the docs include, made by tonic-traced-build as a user's
//! build.rs makes it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `tonic::include_proto!("payment")`: the examples' PaymentService and OrderService, whose
    // messages the README's Quickstart proto shows.
    tonic_traced_build::configure()
        .compile_protos(&["../examples/proto/payment.proto"], &["../examples/proto"])?;
    // `include!(concat!(env!("OUT_DIR"), "/protos.rs"))`: docs/build.md's `include_file` setup,
    // with the kitchen-sink protos of the tests (`kitchen::sink::v1::HttpThings`).
    tonic_traced_build::configure()
        .include_file("protos.rs")
        .compile_protos(
            &["../tests/proto/kitchen/sink/v1/kitchen.proto"],
            &["../tests/proto"],
        )?;
    // `tonic::include_proto!("counted")`: a message whose `SpanAttributes` a block writes by hand.
    tonic_traced_build::configure()
        .hand_written_span_attributes("counted.Counted")
        .compile_protos(&["proto/counted.proto"], &["proto"])?;
    Ok(())
}
