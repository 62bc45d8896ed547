//! The golden generated code of tonic-traced-build (`build-support/tests/golden/inventory.rs`)
//! compiles against the real runtime and records what its proto annotates.

use opentelemetry::KeyValue;
use tonic_traced::{redact, SpanAttributes};

#[allow(clippy::all, dead_code)]
mod inventory {
    include!("../../build-support/tests/golden/inventory.rs");
}

use inventory::{reserve_request, ReserveRequest, ReserveResult, Status, Warehouse};

fn recorded(message: &impl SpanAttributes) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    message.record_attributes(&mut attributes);
    attributes
}

#[test]
fn golden_code_records_the_annotated_fields() {
    let request = ReserveRequest {
        sku: "SKU-1".into(),
        quantity: 3,
        note: Some("fragile".into()),
        tags: vec!["a".into(), "b".into()],
        warehouse: Some(Warehouse { code: "W1".into() }),
        hold: Some(reserve_request::Hold::Indefinite(true)),
        r#type: "standard".into(),
    };
    assert_eq!(
        recorded(&request),
        [
            KeyValue::new("inventory.sku", redact::hash(b"SKU-1").as_str().to_owned()),
            KeyValue::new("inventory.quantity", 3_i64),
            KeyValue::new("inventory.note", 7_i64),
            KeyValue::new("inventory.tags", 2_i64),
            KeyValue::new("warehouse.code", "W1"),
            KeyValue::new("inventory.hold", true),
            KeyValue::new("inventory.type", "standard"),
        ]
    );
    let result = ReserveResult {
        status: Status::Lost as i32,
        receipt: vec![0; 4],
    };
    assert_eq!(
        recorded(&result),
        [
            KeyValue::new("inventory.status", "STATUS_LOST"),
            KeyValue::new("inventory.receipt", 4_i64),
        ]
    );
}
