//! The Go tutorial's payment service: validates a payment and returns a transaction id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::trace::{Span, Status as SpanStatus, Tracer};
use opentelemetry::{global, KeyValue};
use tonic::{Request, Response, Status};

use crate::payment::payment_service_server::PaymentService;
use crate::payment::{PaymentRequest, PaymentResponse};

/// Amounts from which the (simulated) fraud check takes its time.
const SLOW_AMOUNT: f64 = 200.0;
/// Amounts from which the (simulated) fraud check service is down.
const UNAVAILABLE_AMOUNT: f64 = 10_000.0;

/// Approves positive amounts: non-positive ones are `INVALID_ARGUMENT`, large ones wait for a
/// slow fraud check, very large ones find it `UNAVAILABLE`.
#[derive(Debug, Default)]
pub struct Payments {
    next_transaction: AtomicU64,
}

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl PaymentService for Payments {
    async fn process_payment(
        &self,
        request: Request<PaymentRequest>,
    ) -> Result<Response<PaymentResponse>, Status> {
        let payment = request.into_inner();
        validate_payment(&payment)?;
        fraud_check(payment.amount).await?;
        let number = self.next_transaction.fetch_add(1, Ordering::Relaxed) + 123;
        Ok(Response::new(PaymentResponse {
            transaction_id: format!("txn-{number}"),
            status: "approved".into(),
        }))
    }
}

/// The Go tutorial's child span, made with the raw OpenTelemetry API: it nests under the
/// RPC span because `#[traced_service]` makes that span's context current.
fn validate_payment(payment: &PaymentRequest) -> Result<(), Status> {
    let mut span = global::tracer("payment-service").start("validate_payment");
    span.set_attribute(KeyValue::new("payment.currency", payment.currency.clone()));
    let result = if payment.amount <= 0.0 {
        Err(Status::invalid_argument(format!(
            "amount must be positive, got {}",
            payment.amount
        )))
    } else {
        Ok(())
    };
    if let Err(status) = &result {
        span.set_status(SpanStatus::error(status.message().to_owned()));
    }
    span.end();
    result
}

/// A `tracing` span: with `tonic_traced::init()` it becomes a child of the RPC span too.
#[tracing::instrument]
async fn fraud_check(amount: f64) -> Result<(), Status> {
    if amount >= UNAVAILABLE_AMOUNT {
        tracing::warn!("fraud check service is down");
        return Err(Status::unavailable("fraud check service unavailable"));
    }
    if amount >= SLOW_AMOUNT {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tracing::info!("fraud check passed");
    Ok(())
}
