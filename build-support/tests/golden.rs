//! The code generated for a sample proto is exactly the committed `tests/golden/inventory.rs`,
//! so every change to generated code shows up as a diff to review (`tests/tests/golden_code.rs`
//! of the workspace compiles that file against the runtime).
//!
//! After an intended change, regenerate it with
//! `UPDATE_GOLDEN=1 cargo test -p tonic-traced-build --test golden` and review the diff.

use std::fs;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "UPDATE_GOLDEN=1 cargo test -p tonic-traced-build --test golden";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The `.rs` files of `dir`, by name, sorted.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Where two texts first differ: `line N: expected `…`, generated `…``.
fn first_difference(expected: &str, generated: &str) -> String {
    let mut expected_lines = expected.lines();
    let mut generated_lines = generated.lines();
    for number in 1.. {
        match (expected_lines.next(), generated_lines.next()) {
            (Some(want), Some(got)) if want == got => continue,
            (None, None) => break,
            (want, got) => {
                return format!(
                    "line {number}: expected `{}`, generated `{}`",
                    want.unwrap_or("<end of file>"),
                    got.unwrap_or("<end of file>")
                )
            }
        }
    }
    "the line endings".to_owned()
}

#[test]
fn generated_code_matches_the_golden_files() {
    let golden = golden_dir();
    let out = tempfile::tempdir().unwrap();
    tonic_traced_build::configure()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .annotate_field("inventory.ReserveResult.receipt", "inventory.receipt")
        .compile_protos(&[golden.join("inventory.proto")], &[&golden])
        .unwrap();
    let generated = rust_files(out.path());

    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| value == "1") {
        for (name, _) in rust_files(&golden) {
            fs::remove_file(golden.join(name)).unwrap();
        }
        for (name, code) in &generated {
            fs::write(golden.join(name), code).unwrap();
        }
        return;
    }

    let expected = rust_files(&golden);
    let names = |files: &[(String, String)]| -> Vec<String> {
        files.iter().map(|(name, _)| name.clone()).collect()
    };
    assert_eq!(
        names(&generated),
        names(&expected),
        "the generated files are not the golden files in {}; if the change is intended, \
         regenerate them with `{REGENERATE}` and review the diff",
        golden.display()
    );
    for ((name, code), (_, golden_code)) in generated.iter().zip(&expected) {
        assert!(
            code == golden_code,
            "generated {name} differs from {} at {}; if the change is intended, regenerate it \
             with `{REGENERATE}` and review the diff",
            golden.join(name).display(),
            first_difference(golden_code, code)
        );
    }
}
