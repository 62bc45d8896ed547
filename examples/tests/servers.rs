//! `payment-server` and `order-server`, the binaries `deploy/` runs: each, started as its own
//! process, answers a real call from a traced client over loopback.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdout, Command, Stdio};

use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::{OrderRequest, OrderUpdate, PaymentRequest};

/// A command for `binary` with no `OTEL_*` variable of the test's environment and no export.
fn server(binary: &str) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OTEL_") {
            command.env_remove(name);
        }
    }
    command
        .env_remove("PORT")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("NO_COLOR", "1");
    command
}

/// A started server, killed however the test ends.
struct Running {
    child: Child,
    /// Kept open so that the server's later output does not fail on a closed pipe.
    _stdout: BufReader<ChildStdout>,
    address: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and reads the address from its first line, `listening on ADDR`.
fn start(command: &mut Command) -> Running {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the server prints");
    let Some(address) = first.trim_end().strip_prefix("listening on ") else {
        let _ = child.kill();
        let mut stderr = String::new();
        let _ = child
            .stderr
            .take()
            .expect("piped stderr")
            .read_to_string(&mut stderr);
        panic!("the first line is not `listening on ADDR`: {first:?}\nstderr:\n{stderr}");
    };
    let address = address.parse().expect("ADDR is a socket address");
    Running {
        child,
        _stdout: stdout,
        address,
    }
}

#[tokio::test]
async fn payment_server_approves_a_payment() {
    let server = start(server(env!("CARGO_BIN_EXE_payment-server")).arg("127.0.0.1:0"));
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
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let server = start(server(env!("CARGO_BIN_EXE_payment-server")).env("PORT", port.to_string()));
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
    let server = start(server(env!("CARGO_BIN_EXE_order-server")).arg("127.0.0.1:0"));
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
