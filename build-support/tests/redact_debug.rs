//! Which messages lose prost's `Debug` derive to a generated, redacting one: those with a
//! redacted field and the types nested in them, unless `redact_debug(false)` or the user's own
//! `skip_debug` says otherwise. (`tests/tests/redacted_debug.rs` of the workspace checks what
//! the generated `Debug` prints.)

use std::fs;
use std::path::Path;

const PROTO: &str = r#"syntax = "proto3";
package shop;
import "tonic_traced/trace.proto";
message Login {
  message Device { string model = 1; }
  enum Kind { KIND_UNSPECIFIED = 0; KIND_WEB = 1; }
  string email = 1 [(tonic_traced.field) = { name: "login.email", redact: HASH }];
  Device device = 2;
  Kind kind = 3;
  oneof via { string code = 4; }
}
message Plain { string note = 1 [(tonic_traced.attribute) = "plain.note"]; }
"#;

/// The code generated for `PROTO` by `builder`.
fn generate(builder: tonic_traced_build::Builder) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("shop.proto"), PROTO).unwrap();
    builder
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .build_client(false)
        .build_server(false)
        .compile_protos(&[dir.path().join("shop.proto")], &[dir.path()])
        .unwrap();
    fs::read_to_string(Path::new(dir.path()).join("shop.rs")).unwrap()
}

/// The types whose `Debug` the generated code implements itself.
fn generated_debug(code: &str) -> Vec<&str> {
    code.lines()
        .filter_map(|line| line.strip_prefix("impl ::core::fmt::Debug for "))
        .map(|rest| rest.trim_end_matches(" {"))
        .collect()
}

#[test]
fn redacting_debug_replaces_prosts_derive_for_the_message_and_its_nested_types() {
    let code = generate(tonic_traced_build::configure());
    assert_eq!(
        generated_debug(&code),
        ["Login", "login::Via", "login::Kind", "login::Device"]
    );
    // prost leaves its derive out of those types, and only those.
    assert_eq!(code.matches("#[prost(skip_debug)]").count(), 3, "{code}");
    // The attributes above an item, from its derive on.
    let attributes = |item: &str| {
        let at = code.find(item).unwrap();
        &code[code[..at].rfind("#[derive(").unwrap()..at]
    };
    assert!(!attributes("pub enum Kind").contains("Debug"), "{code}");
    assert!(
        !attributes("pub struct Plain").contains("skip_debug"),
        "{code}"
    );
}

#[test]
fn redact_debug_false_keeps_prosts_derive() {
    let code = generate(tonic_traced_build::configure().redact_debug(false));
    assert!(generated_debug(&code).is_empty(), "{code}");
    assert!(!code.contains("skip_debug"), "{code}");
}

#[test]
fn a_users_own_skip_debug_is_left_to_the_user() {
    // The user implements Debug for Login.
    let code = generate(tonic_traced_build::configure().skip_debug(["shop.Login"]));
    assert!(generated_debug(&code).is_empty(), "{code}");
    // Skipping only a nested type leaves that one to the user, the rest to us.
    let code = generate(tonic_traced_build::configure().skip_debug([".shop.Login.Device"]));
    assert_eq!(
        generated_debug(&code),
        ["Login", "login::Via", "login::Kind"]
    );
}
