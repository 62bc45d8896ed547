//! README command #1: the payment and order services of the tutorials on loopback, a few
//! calls through traced clients (approved, slow, declined, failing, a stream), and the traces
//! they made, each printed as a waterfall on stderr as soon as its call ends, between the
//! demo's own lines on stdout.
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set the traces go to that collector instead.

use std::process::ExitCode;
use std::time::Duration;

use tonic::transport::Server;
use tonic_traced::status::code_name;
use tonic_traced_examples::loopback::{serve, traced_channel};
use tonic_traced_examples::order_service::OrderUpdates;
use tonic_traced_examples::output;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::order_service_server::OrderServiceServer;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::payment_service_server::PaymentServiceServer;
use tonic_traced_examples::payment::{OrderRequest, PaymentRequest};
use tonic_traced_examples::payment_service::Payments;
use tonic_traced_examples::say;

/// The variable that picks the request metadata traced servers record.
const CAPTURE_SERVER_METADATA: &str = "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST";

#[tokio::main]
async fn main() -> ExitCode {
    output::exit(run().await)
}

/// The demo; `Err` of a broken pipe when its output was closed.
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The environment, with one default of the demo's own: the servers record their callers'
    // `user-agent` metadata (docs/semantic-conventions.md, "gRPC metadata").
    let telemetry = tonic_traced::Init::default()
        .service_name("tonic-traced-demo")
        .install_with(|name| {
            std::env::var(name)
                .ok()
                .or_else(|| (name == CAPTURE_SERVER_METADATA).then(|| "user-agent".to_owned()))
        })?;

    let payments =
        serve(Server::builder().add_service(PaymentServiceServer::new(Payments::default())))
            .await?;
    let orders = serve(
        Server::builder().add_service(OrderServiceServer::new(OrderUpdates {
            updates: 10,
            interval: Duration::from_millis(20),
        })),
    )
    .await?;
    say!("payment service on {payments}, order service on {orders}\n")?;

    let mut payment_client = PaymentServiceClient::new(traced_channel(payments).await?);
    for (amount, currency, what) in [
        (99.99, "USD", "a payment"),
        (250.0, "EUR", "a slow payment (cross-border fraud check)"),
        (7_500.0, "USD", "a payment over the customer's limit"),
        (25_000.0, "USD", "a payment the fraud check cannot take"),
    ] {
        let request = PaymentRequest {
            amount,
            currency: currency.into(),
            customer_id: "cust-123".into(),
        };
        match payment_client.process_payment(request).await {
            Ok(reply) => {
                let reply = reply.into_inner();
                say!("{what}: {} {}", reply.transaction_id, reply.status)?;
            }
            Err(status) => say!("{what}: {}: {}", code_name(status.code()), status.message())?,
        }
    }

    let mut order_client = OrderServiceClient::new(traced_channel(orders).await?);
    let mut updates = order_client
        .stream_order_updates(OrderRequest {
            order_id: "order-42".into(),
        })
        .await?
        .into_inner();
    let mut received = 0;
    while updates.message().await?.is_some() {
        received += 1;
    }
    say!("order updates: {received} received\n")?;

    // Flushes the telemetry: with nothing configured, the metrics table prints.
    telemetry.shutdown()?;
    Ok(())
}
