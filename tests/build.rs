use tonic_traced_build::Redact;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_traced_build::configure()
        .include_file("protos.rs")
        .btree_map(".kitchen.sink.v1.Collections.counts")
        .bytes(".kitchen.sink.v1.Redacted.card")
        .hand_written_span_attributes("kitchen.sink.v1.Counted")
        .annotate_field("vendor.legacy.Invoice.number", "invoice.number")
        .annotate_field("vendor.legacy.Invoice.lines", "invoice.lines")
        .annotate_field_redacted(
            "vendor.legacy.Invoice.customer",
            "invoice.customer",
            Redact::Hash,
        )
        .annotate_field(".vendor.legacy.Totals.gross", "invoice.gross")
        .compile_protos(
            &[
                "proto/kitchen/sink/v1/kitchen.proto",
                "proto/kitchen/sink/v1/extra.proto",
                "proto/kitchen/sink/v1/ledger.proto",
                "proto/rootless.proto",
                "proto/vendor/legacy.proto",
            ],
            &["proto"],
        )?;
    // Default stubs: streaming methods return `BoxStream<…>` instead of a stream type of
    // their own (tests/tests/default_stubs.rs).
    tonic_traced_build::configure()
        .include_file("stubbed.rs")
        .generate_default_stubs(true)
        .compile_protos(&["proto/stubbed/v1/stubbed.proto"], &["proto"])?;
    Ok(())
}
