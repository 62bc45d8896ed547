//! The Go tutorial's client, traced: `payment-client ADDR [AMOUNT [CURRENCY]]` asks the
//! `payment-server` at `ADDR` (`host:port` or a URI) to process one payment of `AMOUNT`
//! (default 99.99) in `CURRENCY` (default USD) for customer `cust-123`, with a 5 s deadline,
//! and prints `Payment processed: txn-… (approved)`. A refused payment is printed with its
//! status on stderr and the exit status is 1; bad arguments or an unreachable server, 2.
//!
//! Its CLIENT span carries the payment's annotated fields and is the parent of the server's
//! spans. With nothing configured the trace prints on stderr as a waterfall when the call ends;
//! with `OTEL_EXPORTER_OTLP_ENDPOINT` set it goes to that collector (as in `deploy/`).

use std::process::ExitCode;
use std::time::Duration;

use tonic_traced::status::code_name;
use tonic_traced_examples::client_binary;
use tonic_traced_examples::output;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::PaymentRequest;
use tonic_traced_examples::{say, warn_line};

/// How long the client waits for the payment service, as the tutorial's context timeout.
const DEADLINE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> ExitCode {
    match pay().await {
        Ok(outcome) => outcome,
        Err(error) if output::is_broken_pipe(&*error) => ExitCode::SUCCESS,
        Err(error) => {
            warn_line!("{error}");
            ExitCode::from(2)
        }
    }
}

/// Makes the payment the arguments describe; `Err` when it could not be asked for.
async fn pay() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let usage = "usage: payment-client ADDR [AMOUNT [CURRENCY]] (e.g. 127.0.0.1:50051 250 EUR)";
    let mut args = std::env::args().skip(1);
    let address = args.next().ok_or(usage)?;
    let amount = match args.next() {
        Some(amount) => amount
            .parse()
            .map_err(|_| format!("payment-client: AMOUNT {amount:?} is not a number; {usage}"))?,
        None => 99.99,
    };
    let currency = args.next().unwrap_or_else(|| "USD".to_owned());

    let telemetry = tonic_traced::Init::default()
        .service_name("payment-client")
        .install()?;
    let mut client = PaymentServiceClient::new(
        client_binary::traced_channel_to("payment-client", &address).await?,
    );

    let mut request = tonic::Request::new(PaymentRequest {
        amount,
        currency,
        customer_id: "cust-123".into(),
    });
    request.set_timeout(DEADLINE);
    let outcome = match client.process_payment(request).await {
        Ok(reply) => {
            let reply = reply.into_inner();
            say!(
                "Payment processed: {} ({})",
                reply.transaction_id,
                reply.status
            )?;
            ExitCode::SUCCESS
        }
        Err(status) => {
            warn_line!(
                "payment-client: payment failed: {}: {}",
                code_name(status.code()),
                status.message()
            );
            ExitCode::FAILURE
        }
    };

    // Flushes the telemetry: the span to a collector, if one is configured.
    telemetry.shutdown()?;
    Ok(outcome)
}
