//! The first tutorial's services on our side of the interop tests: the examples' payment
//! service and order-update stream served and called with tonic-traced, the three calls each
//! peer client makes, and what our spans of them must show whatever the peer's language.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags,
    TraceId, TraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::order_service::OrderUpdates;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::order_service_server::OrderServiceServer;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::payment_service_server::PaymentServiceServer;
use tonic_traced_examples::payment::{OrderRequest, PaymentRequest};
use tonic_traced_examples::payment_service::Payments;

use crate::harness::{attribute, remote_parent, serve, Telemetry};

/// Updates per order stream: the tutorial's ten, on both sides.
pub const UPDATES: usize = 10;

/// The three calls each client makes, in order: method, status code, messages received.
pub const CALLS: [(&str, Code, usize); 3] = [
    ("payment.PaymentService/ProcessPayment", Code::Ok, 0),
    ("payment.OrderService/StreamOrderUpdates", Code::Ok, UPDATES),
    (
        "payment.PaymentService/ProcessPayment",
        Code::FailedPrecondition,
        0,
    ),
];

/// Attributes the conventions renamed after the peers' releases (otelgrpc 0.70 and the Java
/// agent 2.31 follow semantic-conventions 1.40–1.44): our name, then theirs.
pub const RENAMED_SINCE_THE_PEERS: [(&str, &str); 1] =
    [("rpc.status_code", "rpc.response.status_code")];

/// The name the peers give our attribute `key`.
pub fn peer_name(key: &str) -> &str {
    RENAMED_SINCE_THE_PEERS
        .iter()
        .find(|(ours, _)| *ours == key)
        .map_or(key, |(_, theirs)| theirs)
}

/// The gRPC status code's name, as the current conventions record it in `rpc.status_code`
/// (`rpc.response.status_code` before 1.45).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        other => panic!("no call ends with {other:?}"),
    }
}

/// Serves the examples' payment and order services on loopback.
pub async fn our_server() -> SocketAddr {
    let orders = OrderUpdates {
        updates: UPDATES,
        interval: Duration::from_millis(10),
    };
    serve(
        Server::builder()
            .add_service(PaymentServiceServer::new(Payments::default()))
            .add_service(OrderServiceServer::new(orders)),
    )
    .await
}

/// The three calls of [`CALLS`], made by our traced clients to `address` under `parent`.
pub async fn our_calls(address: SocketAddr, parent: Context) {
    async move {
        let channel = traced_channel(address).await.unwrap();
        let mut payments = PaymentServiceClient::new(channel.clone());
        let mut orders = OrderServiceClient::new(channel);
        let payment = |amount| PaymentRequest {
            amount,
            currency: "USD".into(),
            customer_id: "cust-123".into(),
        };
        let approved = payments.process_payment(payment(99.99)).await.unwrap();
        assert_eq!(approved.into_inner().status, "approved");
        let mut updates = orders
            .stream_order_updates(OrderRequest {
                order_id: "order-1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut received = 0;
        while updates.message().await.unwrap().is_some() {
            received += 1;
        }
        assert_eq!(received, UPDATES);
        let declined = payments.process_payment(payment(6000.0)).await.unwrap_err();
        assert_eq!(declined.code(), Code::FailedPrecondition);
    }
    .with_context(parent)
    .await;
}

/// A remote parent with the `tracestate` `state`: the caller of our client.
pub fn caller(sampled: bool, state: &str) -> (TraceId, SpanId, Context) {
    let (trace_id, span_id, _) = remote_parent(sampled);
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let state = TraceState::from_str(state).unwrap();
    let context = SpanContext::new(trace_id, span_id, flags, true, state);
    (
        trace_id,
        span_id,
        Context::new().with_remote_span_context(context),
    )
}

/// A peer client's report of its calls matches [`CALLS`].
pub fn assert_peer_client_saw(calls: &[Json]) {
    assert_eq!(calls.len(), CALLS.len(), "{calls:?}");
    for (call, (method, code, messages)) in calls.iter().zip(CALLS) {
        assert!(method.ends_with(call["method"].as_str().unwrap()), "{call}");
        assert_eq!(call["code"], code as i32, "{call}");
        assert_eq!(call["messages"], messages, "{call}");
    }
}

/// The status rules of the conventions, which the official instrumentations follow: a CLIENT
/// span is an error for every code but OK, a SERVER span only for the codes that mean the
/// server failed (not FAILED_PRECONDITION). For a peer's span as JSON.
pub fn assert_their_status(theirs: &Json, code: Code) {
    let error = code != Code::Ok && theirs["kind"] == "CLIENT";
    let expected = if error { "ERROR" } else { "UNSET" };
    assert_eq!(theirs["status"], expected, "{theirs}");
}

/// Ours follow the same rules.
pub fn assert_our_status(ours: &SpanData, code: Code) {
    if code != Code::Ok && ours.span_kind == SpanKind::Client {
        assert!(matches!(ours.status, Status::Error { .. }), "{ours:?}");
    } else {
        assert_eq!(ours.status, Status::Unset, "{ours:?}");
    }
}

/// Our message spans (`name`) of a stream: one per update, children of our RPC span.
pub fn assert_our_message_spans(telemetry: &Telemetry, rpc: &SpanData, name: &str) {
    let messages: Vec<SpanData> = telemetry
        .trace(rpc.span_context.trace_id())
        .into_iter()
        .filter(|span| span.parent_span_id == rpc.span_context.span_id() && span.name == name)
        .collect();
    assert_eq!(messages.len(), UPDATES, "{name} spans of {}", rpc.name);
    for message in &messages {
        assert_eq!(
            attribute(message, "order.id"),
            Some("order-1".into()),
            "{message:?}"
        );
    }
}

/// Nothing of an unsampled trace is recorded here: no span exported, none even open.
pub async fn assert_nothing_recorded_here(telemetry: &Telemetry, trace_id: TraceId) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(telemetry.trace(trace_id).is_empty(), "{trace_id}");
    assert_eq!(telemetry.open_spans(trace_id), 0);
}
