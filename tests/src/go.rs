//! Go programs the tests run, built from Go modules under `tests/` with `go build`, into a
//! folder of the cargo target, with Go's default build and module caches (so a second run
//! builds nothing).
//!
//! Under `CI=true` a missing Go fails the test; otherwise the test is skipped with a notice.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{runs, toolchain_present};

/// `go`: on `PATH`, else where Go's tarball installs it (CI's `PATH` may lack it).
pub fn go_command() -> Option<PathBuf> {
    if runs("go", &["version"]) {
        return Some("go".into());
    }
    let installed = Path::new("/usr/local/go/bin/go");
    installed.is_file().then(|| installed.to_owned())
}

/// Builds `package` (`.`, or a path such as a `tool` of the module) of the Go module in
/// `module` into `out/binary`, and returns that path; `None` (the test skips) when there is no
/// Go and not under CI. Panics with Go's output when the build fails.
pub fn build(module: &Path, package: &str, out: &Path, binary: &str) -> Option<PathBuf> {
    let go = go_command();
    // Without Go, fails under CI and skips with a notice elsewhere.
    toolchain_present(go.is_some(), "Go (go on PATH or /usr/local/go/bin/go)");
    let go = go?;
    std::fs::create_dir_all(out).unwrap();
    let binary = out.join(binary);
    let mut build = Command::new(go);
    build
        .current_dir(module)
        // No VCS stamp: a program for a test, and git may refuse a checkout owned by another user.
        .args(["build", "-buildvcs=false", "-o"])
        .arg(&binary)
        .arg(package)
        // The Go on this machine, not one downloaded for go.mod's `go` line.
        .env("GOTOOLCHAIN", "local");
    // Go's own defaults, so that runs share the user's caches; set here for a `HOME`-less
    // environment, where Go would refuse to build.
    let cache_root = std::env::var_os("HOME").map_or_else(|| out.to_owned(), PathBuf::from);
    if std::env::var_os("GOCACHE").is_none() {
        build.env("GOCACHE", cache_root.join(".cache/go-build"));
    }
    if std::env::var_os("GOMODCACHE").is_none() && std::env::var_os("GOPATH").is_none() {
        build.env("GOMODCACHE", cache_root.join("go/pkg/mod"));
    }
    let output = build.output().expect("go build runs");
    assert!(
        output.status.success(),
        "go build {package} in {} failed:\n{}",
        module.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(binary)
}
