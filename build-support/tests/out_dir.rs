//! Generated files go to `out_dir(…)` when given, else to `OUT_DIR`, as with tonic-prost-build.

use std::fs;
use std::path::Path;

fn write_proto(dir: &Path) {
    fs::write(
        dir.join("a.proto"),
        "syntax = \"proto3\";\npackage a;\nmessage M { string s = 1; }\n",
    )
    .unwrap();
}

fn compile(
    builder: tonic_traced_build::Builder,
    dir: &Path,
) -> Result<(), tonic_traced_build::Error> {
    builder
        .emit_rerun_if_changed(false)
        .compile_protos(&[dir.join("a.proto")], &[dir])
}

// One test: the cases change the process's `OUT_DIR` one after another.
#[test]
fn out_dir_then_the_out_dir_variable() {
    let protos = tempfile::tempdir().unwrap();
    write_proto(protos.path());
    let chosen = tempfile::tempdir().unwrap();
    let from_env = tempfile::tempdir().unwrap();

    std::env::remove_var("OUT_DIR");
    let error = compile(tonic_traced_build::configure(), protos.path()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "tonic-traced-build: OUT_DIR is not set, so there is nowhere to write the generated \
         code: call compile_protos from a build script (Cargo sets OUT_DIR), or choose a folder \
         with out_dir(…)"
    );

    std::env::set_var("OUT_DIR", from_env.path());
    compile(tonic_traced_build::configure(), protos.path()).unwrap();
    assert!(from_env.path().join("a.rs").exists());

    compile(
        tonic_traced_build::configure().out_dir(chosen.path()),
        protos.path(),
    )
    .unwrap();
    assert!(chosen.path().join("a.rs").exists());
    assert_eq!(
        fs::read_dir(from_env.path()).unwrap().count(),
        1,
        "out_dir(…) wins over OUT_DIR"
    );
}
