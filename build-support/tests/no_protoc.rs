//! Protos compile on a machine without `protoc`: prost's protoc lookup is never reached.

use std::fs;

#[test]
fn compiles_with_protoc_unavailable() {
    // prost-build runs `$PROTOC` (or `protoc` from PATH) only when asked to invoke protoc.
    std::env::set_var("PROTOC", "/nonexistent/protoc");
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("hello.proto"),
        "syntax = \"proto3\";\npackage hello;\nimport \"tonic_traced/trace.proto\";\n\
         message Hi { string name = 1 [(tonic_traced.attribute) = \"hi.name\"]; }\n\
         service Greeter { rpc Greet(Hi) returns (Hi); }\n",
    )
    .unwrap();
    let descriptor_set = dir.path().join("hello.bin");
    tonic_traced_build::configure()
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .file_descriptor_set_path(&descriptor_set)
        .compile_protos(&[dir.path().join("hello.proto")], &[dir.path()])
        .unwrap();
    let code = fs::read_to_string(dir.path().join("hello.rs")).unwrap();
    assert!(
        code.contains("impl ::tonic_traced::SpanAttributes for Hi"),
        "{code}"
    );
    assert!(code.contains("sink.record(\"hi.name\""), "{code}");
    assert!(code.contains("fn __tonic_traced_method_greet()"), "{code}");
    assert!(
        code.contains("full_name: \"hello.Greeter/Greet\""),
        "{code}"
    );
    assert!(
        !dir.path().join("tonic_traced.rs").exists(),
        "trace.proto itself generates no Rust"
    );
    // The descriptor set keeps the custom options, for reflection.
    let encoded = fs::read(&descriptor_set).unwrap();
    assert!(encoded.windows(7).any(|w| w == b"hi.name"));
}

#[test]
fn runtime_path_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.proto"),
        "syntax = \"proto3\";\npackage a;\nmessage M { string s = 1; }\n",
    )
    .unwrap();
    tonic_traced_build::configure()
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .runtime_path("::my_app::tracing_rt")
        .compile_protos(&[dir.path().join("a.proto")], &[dir.path()])
        .unwrap();
    let code = fs::read_to_string(dir.path().join("a.rs")).unwrap();
    assert!(
        code.contains("impl ::my_app::tracing_rt::SpanAttributes for M"),
        "{code}"
    );
}
