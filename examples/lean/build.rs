fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_traced_build::configure().compile_protos(&["proto/inventory.proto"], &["proto"])?;
    Ok(())
}
