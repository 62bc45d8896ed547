//! A wrong annotation fails the build with a message naming the file, the field and the fix.

use std::fs;

use tonic_traced_build::{Builder, Redact};

/// Compiles `files` (name, source) together with `builder` into a scratch folder; returns the
/// error text.
fn build_error_of_files(builder: Builder, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in files {
        fs::write(dir.path().join(name), source).unwrap();
    }
    let protos: Vec<_> = files
        .iter()
        .map(|(name, _)| dir.path().join(name))
        .collect();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let result = builder
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile_protos(&protos, &[dir.path()]);
    let error = result.expect_err("the build should fail");
    assert!(
        fs::read_dir(&out).unwrap().next().is_none(),
        "no code is written when annotations are wrong"
    );
    // Debug is what `fn main() -> Result<…>` prints; it must read like Display.
    assert_eq!(format!("{error:?}"), error.to_string());
    error.to_string()
}

/// Compiles `source` as `bad.proto` with `builder`; returns the error text.
fn build_error_with(builder: Builder, source: &str) -> String {
    build_error_of_files(builder, &[("bad.proto", source)])
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
    assert!(
        !error.contains("add `import"),
        "the import is there: {error}"
    );
}

/// Like `proto`, without `import "tonic_traced/trace.proto";`.
fn proto_without_import(fields: &str) -> String {
    proto(fields).replace("import \"tonic_traced/trace.proto\";\n", "")
}

#[test]
fn attribute_option_without_the_import() {
    let error = build_error(&proto_without_import(
        r#"string id = 1 [(tonic_traced.attribute) = "order.id"];"#,
    ));
    assert_eq!(
        error,
        "tonic-traced-build: could not compile the protos: bad.proto:5:16: name \
         'tonic_traced.attribute' is not defined; add `import \"tonic_traced/trace.proto\";` to \
         bad.proto: it declares the tonic_traced options (tonic-traced-build serves it, no \
         include path is needed)"
    );
}

#[test]
fn field_option_without_the_import() {
    for option in [
        r#"(tonic_traced.field) = { name: "order.id", redact: HASH }"#,
        r#"(.tonic_traced.field).name = "order.id""#,
    ] {
        let error = build_error(&proto_without_import(&format!("string id = 1 [{option}];")));
        assert!(
            error.ends_with(
                "is not defined; add `import \"tonic_traced/trace.proto\";` to bad.proto: it \
                 declares the tonic_traced options (tonic-traced-build serves it, no include path \
                 is needed)"
            ),
            "{option}: {error}"
        );
    }
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

/// A proto of package `inventory` holding `messages`.
fn inventory_proto(messages: &str) -> String {
    format!(
        "syntax = \"proto3\";\npackage inventory;\nimport \"tonic_traced/trace.proto\";\n{messages}\n"
    )
}

#[test]
fn one_key_hashed_in_one_message_and_plain_in_another() {
    let request = inventory_proto(
        r#"message ReserveRequest {
             string sku = 1 [(tonic_traced.field) = { name: "inventory.sku", redact: HASH }];
           }"#,
    );
    let result = inventory_proto(
        r#"message ReserveResult {
             string sku = 1 [(tonic_traced.attribute) = "inventory.sku"];
           }"#,
    );
    let error = build_error_of_files(
        tonic_traced_build::configure(),
        &[("request.proto", &request), ("result.proto", &result)],
    );
    assert_eq!(
        error,
        "tonic-traced-build: attribute \"inventory.sku\" is recorded with different redactions: \
         HASH on `inventory.ReserveRequest.sku` (request.proto); NONE on \
         `inventory.ReserveResult.sku` (result.proto); give every field recording \
         \"inventory.sku\" the same redact mode, or give these fields different keys"
    );
}

#[test]
fn every_redaction_of_a_key_is_listed_with_its_fields() {
    let source = inventory_proto(
        r#"message A { string sku = 1 [(tonic_traced.attribute) = "inventory.sku"]; }
           message B { string sku = 1 [(tonic_traced.field) = { name: "inventory.sku", redact: LENGTH }]; }
           message C { string code = 1 [(tonic_traced.attribute) = "inventory.sku"]; }
           message D { string sku = 1; }"#,
    );
    let builder = tonic_traced_build::configure().annotate_field_redacted(
        "inventory.D.sku",
        "inventory.sku",
        Redact::Hash,
    );
    let error = build_error_with(builder, &source);
    assert_eq!(
        error,
        "tonic-traced-build: attribute \"inventory.sku\" is recorded with different redactions: \
         NONE on `inventory.A.sku` (bad.proto), `inventory.C.code` (bad.proto); LENGTH on \
         `inventory.B.sku` (bad.proto); HASH on `inventory.D.sku` (bad.proto); give every field \
         recording \"inventory.sku\" the same redact mode, or give these fields different keys"
    );
}

#[test]
fn one_key_with_one_redaction_in_several_messages_builds() {
    let dir = tempfile::tempdir().unwrap();
    let source = inventory_proto(
        r#"message A { string sku = 1 [(tonic_traced.field) = { name: "inventory.sku", redact: HASH }]; }
           message B { string sku = 1 [(tonic_traced.field) = { name: "inventory.sku", redact: HASH }]; }"#,
    );
    fs::write(dir.path().join("ok.proto"), source).unwrap();
    tonic_traced_build::configure()
        .out_dir(dir.path())
        .emit_rerun_if_changed(false)
        .compile_protos(&[dir.path().join("ok.proto")], &[dir.path()])
        .unwrap();
}

#[test]
fn max_length_on_a_value_that_is_not_a_plain_string() {
    for field in [
        r#"int64 total = 1 [(tonic_traced.field) = { name: "order.total", max_length: 8 }];"#,
        r#"string id = 1 [(tonic_traced.field) = { name: "order.id", redact: HASH, max_length: 8 }];"#,
    ] {
        let error = build_error(&proto(field));
        assert!(
            error.contains(
                "has max_length: 8, which applies to string fields recorded as they are \
                 (redact: NONE); remove it"
            ),
            "{error}"
        );
    }
}
