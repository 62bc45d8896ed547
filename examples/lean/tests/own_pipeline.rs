//! The lean example end to end: with the application's own OTLP pipeline and tonic-traced's
//! core alone, its one call reaches a real OTLP receiver as one trace — the client's `tracing`
//! span, the CLIENT span, the SERVER span with the request's field, the handler's `tracing`
//! span under it — and the RPC metrics arrive through the application's meter provider.

#[path = "../../tests/otlp_receiver/mod.rs"]
mod otlp_receiver;

use std::process::Command;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use otlp_receiver::{attributes, Receiver, Transport};

const SERVICE: &str = "inventory";
const METHOD: &str = "inventory.v1.Inventory/GetItem";

#[test]
fn one_connected_trace_and_metrics_through_the_applications_pipeline() {
    let receiver = Receiver::start();
    let output = Command::new(env!("CARGO_BIN_EXE_tonic-traced-lean-example"))
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            receiver.endpoint(Transport::Grpc),
        )
        .env("OTEL_METRIC_EXPORT_INTERVAL", "100")
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.starts_with("sku-42 in stock: 7 (trace "), "{stdout}");

    let spans = receiver.spans(SERVICE, METHOD, 2);
    let kind = |kind: SpanKind| {
        spans
            .iter()
            .find(|received| received.span.kind == kind as i32)
            .unwrap_or_else(|| panic!("a {kind:?} span"))
    };
    let (client, server) = (kind(SpanKind::Client), kind(SpanKind::Server));
    let restock = &receiver.spans(SERVICE, "restock", 1)[0];
    let count = &receiver.spans(SERVICE, "count", 1)[0];
    for received in [client, server, count] {
        assert_eq!(received.span.trace_id, restock.span.trace_id);
    }
    let trace_id: String = restock
        .span
        .trace_id
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(stdout.contains(&trace_id), "{stdout} names {trace_id}");
    assert_eq!(client.span.parent_span_id, restock.span.span_id);
    assert_eq!(server.span.parent_span_id, client.span.span_id);
    assert_eq!(count.span.parent_span_id, server.span.span_id);
    assert_eq!(server.scope, "tonic-traced");
    assert!(
        server
            .span
            .events
            .iter()
            .any(|event| event.name == "looking up the item"),
        "the handler's log event is an event of the SERVER span: {:?}",
        server.span.events
    );

    let server_attributes = attributes(&server.span.attributes);
    let text = |value: &str| Some(Value::StringValue(value.to_owned()));
    assert_eq!(
        server_attributes.get("inventory.sku").cloned(),
        text("sku-42")
    );
    assert_eq!(
        server_attributes.get("rpc.method").cloned(),
        text("GetItem")
    );
    assert_eq!(
        server_attributes.get("rpc.grpc.status_code").cloned(),
        Some(Value::IntValue(0))
    );
    assert!(
        server_attributes.contains_key("network.peer.port"),
        "the transport feature records the peer"
    );

    let duration = receiver.latest_metric(SERVICE, "rpc.server.duration", |_| true);
    assert_eq!(duration.scope, "tonic-traced");
}
