fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_traced_build::configure().compile_protos(
        &[
            "proto/payment.proto",
            "proto/capitalize.proto",
            "proto/files.proto",
            "proto/chat.proto",
        ],
        &["proto"],
    )?;
    Ok(())
}
