//! Builder options that name Rust paths are checked before anything is generated.

use std::fs;

#[test]
fn runtime_and_codec_paths_must_be_rust_paths() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.proto"),
        "syntax = \"proto3\";\npackage a;\nmessage M { string s = 1; }\n",
    )
    .unwrap();
    let compile = |builder: tonic_traced_build::Builder| {
        builder
            .out_dir(dir.path())
            .emit_rerun_if_changed(false)
            .compile_protos(&[dir.path().join("a.proto")], &[dir.path()])
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        compile(tonic_traced_build::configure().runtime_path("my app::rt")),
        "tonic-traced-build: runtime_path(\"my app::rt\") is not a Rust path (unexpected token); \
         write one such as \"::tonic_traced\""
    );
    assert_eq!(
        compile(tonic_traced_build::configure().codec_path("")),
        "tonic-traced-build: codec_path(\"\") is not a Rust path (unexpected end of input, \
         expected identifier); write one such as \"::tonic_prost::ProstCodec\""
    );
    assert!(
        !dir.path().join("a.rs").exists(),
        "nothing is generated with a bad path"
    );
}
