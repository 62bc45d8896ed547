//! `payment-server` and `order-server`, the binaries `deploy/` runs: each, started as its own
//! process, answers a real call from a traced client over loopback; `payment-client` calls
//! `payment-server` as the Go tutorial's client does.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::run_example_with;
use common::{example, free_port, start_server};
use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::{OrderRequest, OrderUpdate, PaymentRequest};

/// [`example`] `binary`, exporting neither traces nor metrics.
fn server(binary: &str) -> Command {
    let mut command = example(binary);
    command
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_METRICS_EXPORTER", "none");
    command
}

#[tokio::test]
async fn payment_server_approves_a_payment() {
    let server = start_server(server(env!("CARGO_BIN_EXE_payment-server")).arg("127.0.0.1:0"));
    let channel = traced_channel(server.address).await.expect("connects");
    let reply = PaymentServiceClient::new(channel)
        .process_payment(PaymentRequest {
            amount: 99.99,
            currency: "USD".into(),
            customer_id: "customer-7".into(),
        })
        .await
        .expect("the payment is processed")
        .into_inner();
    assert_eq!(reply.transaction_id, "txn-123");
    assert_eq!(reply.status, "approved");
}

#[tokio::test]
async fn payment_server_listens_on_port_on_all_interfaces_by_default() {
    let port = free_port();
    let server =
        start_server(server(env!("CARGO_BIN_EXE_payment-server")).env("PORT", port.to_string()));
    assert_eq!(server.address, SocketAddr::from(([0, 0, 0, 0], port)));

    let loopback = SocketAddr::from(([127, 0, 0, 1], port));
    let channel = traced_channel(loopback).await.expect("connects");
    let status = PaymentServiceClient::new(channel)
        .process_payment(PaymentRequest {
            amount: -1.0,
            currency: "EUR".into(),
            customer_id: "customer-7".into(),
        })
        .await
        .expect_err("a negative amount is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(status.message(), "amount must be positive, got -1");
}

#[tokio::test]
async fn order_server_streams_ten_updates() {
    let server = start_server(server(env!("CARGO_BIN_EXE_order-server")).arg("127.0.0.1:0"));
    let channel = traced_channel(server.address).await.expect("connects");
    let mut updates = OrderServiceClient::new(channel)
        .stream_order_updates(OrderRequest {
            order_id: "order-42".into(),
        })
        .await
        .expect("the stream starts")
        .into_inner();
    let mut received = Vec::new();
    while let Some(update) = updates.message().await.expect("the stream goes on") {
        received.push(update);
    }
    let expected: Vec<OrderUpdate> = (0..10)
        .map(|step| OrderUpdate {
            order_id: "order-42".into(),
            status: format!("Processing step {step}"),
        })
        .collect();
    assert_eq!(received, expected);
}

#[test]
fn payment_client_gets_a_payment_approved() {
    let server = start_server(server(env!("CARGO_BIN_EXE_payment-server")).arg("127.0.0.1:0"));
    let (output, traces) = run_example_with(
        example(env!("CARGO_BIN_EXE_payment-client")).arg(server.address.to_string()),
    );
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Payment processed: txn-123 (approved)\n"),
        "{stdout}"
    );
    // The client's own trace: its CLIENT span with the payment's fields (the server's spans
    // are in the server's process).
    let [trace] = traces.as_slice() else {
        panic!("one trace: {stdout}");
    };
    let lines: Vec<&str> = trace.lines().collect();
    assert!(lines[0].contains("· 1 span "), "{trace}");
    assert!(
        lines[1].starts_with("payment.PaymentService/ProcessPayment  CLIENT")
            && lines[1].ends_with("  OK"),
        "{trace}"
    );
    assert!(
        lines[2].contains(
            "payment.amount=99.99 payment.currency=USD customer.id=fc3ce5a6986e1e05 \
             payment.transaction_id=txn-123 payment.status=approved rpc.grpc.status_code=0"
        ),
        "{trace}"
    );
}

#[test]
fn payment_client_reports_a_declined_payment_and_fails() {
    let server = start_server(server(env!("CARGO_BIN_EXE_payment-server")).arg("127.0.0.1:0"));
    let (output, traces) = run_example_with(example(env!("CARGO_BIN_EXE_payment-client")).args([
        &format!("http://{}", server.address),
        "7500",
        "USD",
    ]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    // Before it, the one warning that `customer.id` is hashed without a key.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "\npayment-client: payment failed: FAILED_PRECONDITION: payment declined: 7500 is \
             over the customer's limit of 5000\n"
        ),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("hashed without a key").count(),
        1,
        "{stderr}"
    );
    let [trace] = traces.as_slice() else {
        panic!("one trace: {traces:?}");
    };
    assert!(
        trace.contains("ERROR: payment declined") && trace.contains("rpc.grpc.status_code=9"),
        "{trace}"
    );
}

#[test]
fn payment_client_refuses_a_bad_amount() {
    let output = example(env!("CARGO_BIN_EXE_payment-client"))
        .args(["127.0.0.1:1", "ten"])
        .output()
        .expect("the client runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("payment-client: AMOUNT \"ten\" is not a number; usage: payment-client ADDR"),
        "{stderr}"
    );
}
