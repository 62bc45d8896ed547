use tonic_traced_build::Redact;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_traced_build::configure()
        .include_file("protos.rs")
        .annotate_field("vendor.legacy.Invoice.number", "invoice.number")
        .annotate_field("vendor.legacy.Invoice.lines", "invoice.lines")
        .annotate_field_redacted("vendor.legacy.Invoice.customer", "invoice.customer", Redact::Hash)
        .annotate_field(".vendor.legacy.Totals.gross", "invoice.gross")
        .compile_protos(
            &[
                "proto/kitchen/sink/v1/kitchen.proto",
                "proto/rootless.proto",
                "proto/vendor/legacy.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
