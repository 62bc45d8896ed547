//! A wrong annotation fails the build with a message naming the file, the field and the fix.

use std::fs;

use tonic_traced_build::{Builder, Redact};

/// Compiles `source` as `bad.proto` with `builder` into a scratch folder; returns the error text.
fn build_error_with(builder: Builder, source: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.proto"), source).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let result = builder
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile_protos(&[dir.path().join("bad.proto")], &[dir.path()]);
    let error = result.expect_err("the build should fail");
    assert!(
        fs::read_dir(&out).unwrap().next().is_none(),
        "no code is written when annotations are wrong"
    );
    // Debug is what `fn main() -> Result<…>` prints; it must read like Display.
    assert_eq!(format!("{error:?}"), error.to_string());
    error.to_string()
}

fn build_error(source: &str) -> String {
    build_error_with(tonic_traced_build::configure(), source)
}

fn proto(fields: &str) -> String {
    format!(
        "syntax = \"proto3\";\npackage shop;\nimport \"tonic_traced/trace.proto\";\n\
         message Item {{ string name = 1; }}\nmessage Order {{\n{fields}\n}}\n"
    )
}

#[test]
fn empty_key() {
    let error = build_error(&proto(r#"string id = 1 [(tonic_traced.attribute) = ""];"#));
    assert_eq!(
        error,
        "tonic-traced-build: bad.proto: field `shop.Order.id` has an empty attribute key; \
         write a dotted name such as \"payment.amount\""
    );
}

#[test]
fn field_form_without_a_name_is_an_empty_key() {
    let error = build_error(&proto(
        r#"string id = 1 [(tonic_traced.field) = { redact: HASH }];"#,
    ));
    assert!(
        error.contains("field `shop.Order.id` has an empty attribute key"),
        "{error}"
    );
}

#[test]
fn invalid_keys() {
    for key in ["order id", "order..id", ".order", "order.", "ordér.id"] {
        let error = build_error(&proto(&format!(
            "string id = 1 [(tonic_traced.attribute) = \"{key}\"];"
        )));
        assert!(
            error.contains(&format!(
                "bad.proto: field `shop.Order.id` has attribute key {key:?}, which is not a \
                 valid attribute name"
            )),
            "{key}: {error}"
        );
        assert!(error.contains("such as \"payment.amount\""), "{error}");
    }
}

#[test]
fn same_key_twice_in_one_message() {
    let error = build_error(&proto(
        r#"string id = 1 [(tonic_traced.attribute) = "order.id"];
           string other_id = 2 [(tonic_traced.attribute) = "order.id"];"#,
    ));
    assert_eq!(
        error,
        "tonic-traced-build: bad.proto: fields `id` and `other_id` of message `shop.Order` both \
         record attribute \"order.id\"; give each its own key"
    );
}

#[test]
fn hash_on_a_number() {
    let error = build_error(&proto(
        r#"double total = 1 [(tonic_traced.field) = { name: "order.total", redact: HASH }];"#,
    ));
    assert_eq!(
        error,
        "tonic-traced-build: bad.proto: field `shop.Order.total` is a floating-point number; \
         HASH applies to string and bytes fields: remove it, or use redact: PRESENT"
    );
}

#[test]
fn length_on_a_repeated_field() {
    let error = build_error(&proto(
        r#"repeated string tags = 1 [(tonic_traced.field) = { name: "order.tags", redact: LENGTH }];"#,
    ));
    assert!(
        error.contains(
            "field `shop.Order.tags` is a repeated or map field, recorded as its element count; \
             LENGTH applies to string and bytes fields"
        ),
        "{error}"
    );
}

#[test]
fn value_of_a_message_field() {
    let error = build_error(&proto(
        r#"Item item = 1 [(tonic_traced.attribute) = "order.item"];"#,
    ));
    assert!(
        error.contains(
            "field `shop.Order.item` is the message `shop.Item`, which has no single value to \
             record; annotate the fields inside `shop.Item` instead"
        ),
        "{error}"
    );
    assert!(error.contains("or use redact: PRESENT"), "{error}");
}

#[test]
fn both_option_forms_on_one_field() {
    let error = build_error(&proto(
        r#"string id = 1 [(tonic_traced.attribute) = "a", (tonic_traced.field) = { name: "b" }];"#,
    ));
    assert!(
        error.contains(
            "field `shop.Order.id` has both (tonic_traced.attribute) and (tonic_traced.field); \
             keep one"
        ),
        "{error}"
    );
}

#[test]
fn builder_annotation_of_a_missing_field() {
    let builder =
        tonic_traced_build::configure().annotate_field("shop.Order.amount", "order.amount");
    let error = build_error_with(builder, &proto("string id = 1;\nint64 count = 2;"));
    assert_eq!(
        error,
        "tonic-traced-build: build.rs annotation of `shop.Order.amount`: names no field: message \
         `shop.Order` has no field `amount` (its fields: id, count)"
    );
}

#[test]
fn builder_annotation_of_a_missing_message() {
    let builder = tonic_traced_build::configure().annotate_field("shop.Basket.id", "basket.id");
    let error = build_error_with(builder, &proto("string id = 1;"));
    assert!(
        error.contains("there is no message `shop.Basket` in the compiled protos"),
        "{error}"
    );
}

#[test]
fn builder_annotation_checked_like_proto_options() {
    let builder = tonic_traced_build::configure().annotate_field_redacted(
        "shop.Order.count",
        "order.count",
        Redact::Length,
    );
    let error = build_error_with(builder, &proto("int64 count = 1;"));
    assert!(
        error
            .contains("field `shop.Order.count` is an integer; LENGTH applies to string and bytes"),
        "{error}"
    );
}

#[test]
fn annotated_in_proto_and_build_rs() {
    let builder = tonic_traced_build::configure().annotate_field("shop.Order.id", "order.id");
    let error = build_error_with(
        builder,
        &proto(r#"string id = 1 [(tonic_traced.attribute) = "order.id"];"#),
    );
    assert!(
        error.contains("field `shop.Order.id` is annotated both in the proto and in build.rs"),
        "{error}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = build_error(&proto(
        r#"string id = 1 [(tonic_traced.attribute) = ""];
           double total = 2 [(tonic_traced.field) = { name: "t", redact: LENGTH }];"#,
    ));
    assert!(
        error.starts_with(
            "tonic-traced-build found 2 problems:\n  - bad.proto: field `shop.Order.id`"
        ),
        "{error}"
    );
    assert!(
        error.contains("\n  - bad.proto: field `shop.Order.total` is a floating-point"),
        "{error}"
    );
}

#[test]
fn unknown_option_names_are_proto_errors() {
    let error = build_error(&proto(
        r#"string id = 1 [(tonic_traced.atribute) = "order.id"];"#,
    ));
    assert!(
        error.starts_with("tonic-traced-build: could not compile the protos:"),
        "{error}"
    );
    assert!(error.contains("tonic_traced.atribute"), "{error}");
}

#[test]
fn invalid_proto_names_the_file() {
    let error = build_error("syntax = \"proto3\";\nmessage Broken { string id = ; }\n");
    assert!(
        error.starts_with("tonic-traced-build: could not compile the protos:"),
        "{error}"
    );
    assert_eq!(
        error,
        "tonic-traced-build: could not compile the protos: bad.proto:2:30: expected an integer, \
         but found ';'"
    );
}
