//! README command #1 with `OTEL_EXPORTER_OTLP_ENDPOINT` set: the demo's traces and metrics go
//! to that collector (a real OTLP receiver on loopback) instead of the terminal.

mod common;
mod otlp_receiver;

use common::example;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use otlp_receiver::{attributes, Receiver, Transport};

const SERVICE: &str = "tonic-traced-demo";
const PAYMENT: &str = "payment.PaymentService/ProcessPayment";

#[test]
fn demo_exports_to_the_configured_collector() {
    let receiver = Receiver::start();
    let output = example(env!("CARGO_BIN_EXE_demo"))
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            receiver.endpoint(Transport::Grpc),
        )
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("order updates: 10 received"), "{stdout}");
    assert!(
        !stderr.contains("\ntrace ") && !stderr.contains("metrics ·"),
        "nothing on the console when a collector is configured:\n{stderr}"
    );

    // Four payments, each a CLIENT and a SERVER span, flushed when the demo exits.
    let payments = receiver.spans(SERVICE, PAYMENT, 8);
    let of_kind = |kind: SpanKind| {
        payments
            .iter()
            .filter(|received| received.span.kind == kind as i32)
            .count()
    };
    assert_eq!(
        (of_kind(SpanKind::Client), of_kind(SpanKind::Server)),
        (4, 4)
    );
    // The handler's raw-API child span sits under its SERVER span, in the client's trace.
    for validate in receiver.spans(SERVICE, "validate_payment", 4) {
        let server = payments
            .iter()
            .find(|received| received.span.span_id == validate.span.parent_span_id)
            .expect("validate_payment's parent was exported");
        assert_eq!(server.span.kind, SpanKind::Server as i32);
        assert_eq!(server.span.trace_id, validate.span.trace_id);
        let client = payments
            .iter()
            .find(|received| received.span.span_id == server.span.parent_span_id)
            .expect("the SERVER span's parent is the demo's CLIENT span");
        assert_eq!(client.span.kind, SpanKind::Client as i32);
    }
    // The order stream: the client's one request and the server's ten updates, each update's
    // span with the order and that update's status.
    let sent = receiver.spans(SERVICE, "message SENT", 11);
    let mut statuses: Vec<String> = sent
        .iter()
        .map(|received| attributes(&received.span.attributes))
        .filter(|attributes| attributes.contains_key("order.status"))
        .map(|attributes| {
            assert_eq!(
                attributes["order.id"],
                Value::StringValue("order-42".into())
            );
            match &attributes["order.status"] {
                Value::StringValue(status) => status.clone(),
                other => panic!("order.status is a string, not {other:?}"),
            }
        })
        .collect();
    statuses.sort();
    let expected: Vec<String> = (0..10)
        .map(|step| format!("Processing step {step}"))
        .collect();
    assert_eq!(statuses, expected);

    let duration = receiver.latest_metric(SERVICE, "rpc.server.duration", |_| true);
    assert_eq!(duration.metric.unit, "ms");
}
