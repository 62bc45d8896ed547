//! The generated `SpanAttributes` impls record exactly the annotated fields, typed as the
//! OpenTelemetry semantic conventions expect.

use std::collections::BTreeMap;

use opentelemetry::{KeyValue, Value};
use tonic_traced::{redact, SpanAttributes};
use tonic_traced_tests::common::{address, Address};
use tonic_traced_tests::kitchen::sink::v1::{
    choice, order, Choice, Collections, Colour, Forest, HttpHeader, Optionals, Order, Receipt,
    Redacted, Scalars, TreeNode,
};
use tonic_traced_tests::vendor::legacy::{Invoice, Totals};
use tonic_traced_tests::Ping;

fn recorded(message: &impl SpanAttributes) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    message.record_attributes(&mut attributes);
    attributes
}

#[test]
fn every_scalar_kind_is_recorded_with_its_type() {
    let message = Scalars {
        f_double: 99.99,
        f_float: 1.5,
        f_int32: -32,
        f_int64: -64,
        f_uint32: u32::MAX,
        f_uint64: 64,
        f_sint32: -7,
        f_sint64: -8,
        f_fixed32: 9,
        f_fixed64: 10,
        f_sfixed32: -11,
        f_sfixed64: -12,
        f_bool: true,
        f_string: "hello".into(),
        f_bytes: vec![1, 2, 3],
        colour: Colour::Green as i32,
        not_annotated: "never recorded".into(),
    };
    let attributes = recorded(&message);
    let expected = [
        KeyValue::new("s.double", 99.99),
        KeyValue::new("s.float", 1.5),
        KeyValue::new("s.int32", -32_i64),
        KeyValue::new("s.int64", -64_i64),
        KeyValue::new("s.uint32", i64::from(u32::MAX)),
        KeyValue::new("s.uint64", 64_i64),
        KeyValue::new("s.sint32", -7_i64),
        KeyValue::new("s.sint64", -8_i64),
        KeyValue::new("s.fixed32", 9_i64),
        KeyValue::new("s.fixed64", 10_i64),
        KeyValue::new("s.sfixed32", -11_i64),
        KeyValue::new("s.sfixed64", -12_i64),
        KeyValue::new("s.bool", true),
        KeyValue::new("s.string", "hello"),
        KeyValue::new("s.bytes", 3_i64),
        KeyValue::new("s.colour", "COLOUR_GREEN"),
    ];
    assert_eq!(attributes.len(), expected.len(), "{attributes:?}");
    for (got, want) in attributes.iter().zip(expected.iter()) {
        assert_eq!(got, want);
    }
}

#[test]
fn u64_beyond_i64_and_unknown_enum_values_do_not_panic() {
    let message = Scalars {
        f_uint64: u64::MAX,
        f_fixed64: i64::MAX as u64 + 1,
        colour: 42,
        ..Scalars::default()
    };
    let attributes = recorded(&message);
    let value = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(
        value("s.uint64"),
        Some(Value::String("18446744073709551615".into()))
    );
    assert_eq!(
        value("s.fixed64"),
        Some(Value::String("9223372036854775808".into()))
    );
    assert_eq!(value("s.colour"), Some(Value::I64(42)));
}

#[test]
fn repeated_and_map_fields_are_counted() {
    let message = Collections {
        tags: vec!["a".into(), "b".into(), "c".into()],
        counts: BTreeMap::from([("x".into(), 1), ("y".into(), 2)]),
        colours: vec![Colour::Red as i32],
        addresses: vec![Address::default(), Address::default()],
    };
    assert_eq!(
        recorded(&message),
        vec![
            KeyValue::new("c.tags", 3_i64),
            KeyValue::new("c.counts", 2_i64),
            KeyValue::new("c.has_colours", true),
            KeyValue::new("c.addresses", 2_i64),
        ]
    );
    assert_eq!(
        recorded(&Collections::default()),
        vec![
            KeyValue::new("c.tags", 0_i64),
            KeyValue::new("c.counts", 0_i64),
            KeyValue::new("c.has_colours", false),
            KeyValue::new("c.addresses", 0_i64),
        ]
    );
}

#[test]
fn absent_optional_fields_are_not_recorded() {
    assert_eq!(
        recorded(&Optionals::default()),
        vec![KeyValue::new("o.vip_set", false)]
    );
    let message = Optionals {
        nickname: Some("bob".into()),
        age: Some(0),
        colour: Some(Colour::Red as i32),
        vip: Some(false),
    };
    assert_eq!(
        recorded(&message),
        vec![
            KeyValue::new("o.nickname", "bob"),
            KeyValue::new("o.age", 0_i64),
            KeyValue::new("o.colour", "COLOUR_RED"),
            KeyValue::new("o.vip_set", true),
        ]
    );
}

#[test]
fn redaction_never_records_the_raw_value() {
    let message = Redacted {
        customer_id: "cust-123".into(),
        card: prost::bytes::Bytes::from_static(b"4111111111111111"),
        note: "leave at the door".into(),
        token: "secret-token".into(),
        pin: 1234,
        home: Some(Address {
            city: "Lisbon".into(),
            ..Address::default()
        }),
        plain: "visible".into(),
        comment: "a field's own max_length: 5 characters".into(),
    };
    let attributes = recorded(&message);
    assert_eq!(
        attributes,
        vec![
            KeyValue::new("customer.id", redact::hash(b"cust-123").as_str().to_owned()),
            KeyValue::new(
                "card.hash",
                redact::hash(b"4111111111111111").as_str().to_owned()
            ),
            KeyValue::new("note.length", 17_i64),
            KeyValue::new("token.present", true),
            KeyValue::new("pin.present", true),
            KeyValue::new("home.present", true),
            // PRESENT on a message field records the annotated fields inside it too.
            KeyValue::new("address.city", "Lisbon"),
            KeyValue::new("plain", "visible"),
            KeyValue::new("comment", "a fie"),
        ]
    );
    let text = format!("{attributes:?}");
    for secret in [
        "cust-123",
        "4111111111111111",
        "leave at the door",
        "secret-token",
        "1234",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
    // The hash is stable, so calls of one customer still correlate.
    assert_eq!(recorded(&message)[0], attributes[0]);
}

#[test]
fn present_mode_reports_defaults_as_absent() {
    let attributes = recorded(&Redacted::default());
    assert!(attributes.contains(&KeyValue::new("token.present", false)));
    assert!(attributes.contains(&KeyValue::new("pin.present", false)));
    assert!(attributes.contains(&KeyValue::new("home.present", false)));
    assert!(attributes.contains(&KeyValue::new("note.length", 0_i64)));
}

#[test]
fn oneof_records_only_the_set_variant() {
    assert_eq!(recorded(&Choice::default()), vec![]);
    let voucher = Choice {
        payment: Some(choice::PaymentOneOf::Voucher("V-1".into())),
        r#type: Some(choice::Type::Self_(true)),
    };
    assert_eq!(
        recorded(&voucher),
        vec![
            KeyValue::new("choice.voucher", "V-1"),
            KeyValue::new("choice.self", true),
        ]
    );
    let card = Choice {
        payment: Some(choice::PaymentOneOf::Card(choice::Payment {
            method: "visa".into(),
        })),
        r#type: None,
    };
    assert_eq!(
        recorded(&card),
        vec![KeyValue::new("payment.method", "visa")]
    );
    let colour = Choice {
        payment: Some(choice::PaymentOneOf::Colour(Colour::Red as i32)),
        r#type: None,
    };
    assert_eq!(
        recorded(&colour),
        vec![KeyValue::new("choice.colour", "COLOUR_RED")]
    );
}

#[test]
fn nested_messages_are_recorded_through_their_fields_across_packages() {
    #[allow(deprecated)]
    let message = Order {
        id: "ord-1".into(),
        first_line: Some(order::Line {
            sku: "SKU-9".into(),
        }),
        shipping: Some(Address {
            city: "Porto".into(),
            street: "not annotated".into(),
            locator: Some(address::Locator::PoBox(12)),
        }),
        scalars: None,
        nothing: Some(()),
    };
    assert_eq!(
        recorded(&message),
        vec![
            KeyValue::new("order.id", "ord-1"),
            KeyValue::new("line.sku", "SKU-9"),
            KeyValue::new("address.city", "Porto"),
            KeyValue::new("address.po_box", 12_i64),
        ]
    );
    let without_nested = Order {
        id: "ord-2".into(),
        ..Order::default()
    };
    assert_eq!(
        recorded(&without_nested),
        vec![KeyValue::new("order.id", "ord-2")]
    );
}

#[test]
fn recursive_messages_record_their_own_fields_only() {
    let leaf = TreeNode {
        name: "leaf".into(),
        ..TreeNode::default()
    };
    let node = TreeNode {
        name: "root".into(),
        left: Some(Box::new(leaf.clone())),
        children: vec![leaf.clone(), leaf],
        forest: Some(Box::new(Forest {
            label: "inner".into(),
            root: None,
        })),
    };
    assert_eq!(
        recorded(&node),
        vec![
            KeyValue::new("node.name", "root"),
            KeyValue::new("node.children", 2_i64),
        ]
    );
    let forest = Forest {
        label: "woods".into(),
        root: Some(Box::new(node)),
    };
    assert_eq!(
        recorded(&forest),
        vec![KeyValue::new("forest.label", "woods")]
    );
}

#[test]
fn acronyms_and_rootless_package() {
    let header = HttpHeader {
        url_path: "/a/b".into(),
    };
    assert_eq!(
        recorded(&header),
        vec![KeyValue::new("http.url_path", "/a/b")]
    );
    let ping = Ping {
        label: "pong".into(),
    };
    assert_eq!(recorded(&ping), vec![KeyValue::new("ping.label", "pong")]);
}

#[test]
fn build_rs_annotations_on_a_proto_without_options() {
    let invoice = Invoice {
        number: "INV-7".into(),
        lines: None,
        customer: Some("ACME".into()),
        totals: Some(Totals { gross: Some(12.5) }),
    };
    assert_eq!(
        recorded(&invoice),
        vec![
            KeyValue::new("invoice.number", "INV-7"),
            KeyValue::new(
                "invoice.customer",
                redact::hash(b"ACME").as_str().to_owned()
            ),
            KeyValue::new("invoice.gross", 12.5),
        ]
    );
    let minimal = Invoice {
        number: "INV-8".into(),
        lines: Some(3),
        ..Invoice::default()
    };
    assert_eq!(
        recorded(&minimal),
        vec![
            KeyValue::new("invoice.number", "INV-8"),
            KeyValue::new("invoice.lines", 3_i64),
        ]
    );
}

#[test]
fn builder_type_options_pass_through_to_prost() {
    // build.rs asks for a BTreeMap and bytes::Bytes here; the generated impls adapt.
    let message = Collections {
        counts: BTreeMap::from([("k".to_owned(), 1)]),
        ..Collections::default()
    };
    assert!(recorded(&message).contains(&KeyValue::new("c.counts", 1_i64)));
    let card = Redacted {
        card: prost::bytes::Bytes::from_static(b"4111"),
        ..Redacted::default()
    };
    assert!(recorded(&card).contains(&KeyValue::new(
        "card.hash",
        redact::hash(b"4111").as_str().to_owned()
    )));
}

#[test]
fn several_files_of_one_package() {
    let receipt = Receipt {
        number: "R-1".into(),
        order: Some(Order {
            id: "ord-3".into(),
            ..Order::default()
        }),
    };
    assert_eq!(
        recorded(&receipt),
        vec![
            KeyValue::new("receipt.number", "R-1"),
            KeyValue::new("order.id", "ord-3"),
        ]
    );
}
