//! The Go tutorial's payment service: validates a payment, checks it for fraud, authorizes it
//! against the customer's limit and returns a transaction id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::trace::{Span, Status as SpanStatus, Tracer};
use opentelemetry::{global, KeyValue};
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::payment::payment_service_server::PaymentService;
use crate::payment::{PaymentRequest, PaymentResponse};

/// The currency the (simulated) fraud check knows; others go through a slow cross-border check.
const HOME_CURRENCY: &str = "USD";
/// How long the cross-border fraud check takes: over a second, so that the guide's "slow call"
/// searches (server spans over 1 s, `docs/finding-calls.md`) find it.
const CROSS_BORDER_CHECK: Duration = Duration::from_millis(1200);
/// Amounts above this are declined: the customer's limit.
const LIMIT: f64 = 5_000.0;
/// Amounts from which the (simulated) fraud check service is down.
const UNAVAILABLE_AMOUNT: f64 = 10_000.0;

/// Approves positive amounts up to the limit. Non-positive amounts are `INVALID_ARGUMENT`;
/// from 10,000 the fraud check is `UNAVAILABLE`; other currencies than USD wait 1.2 s for a
/// cross-border check; amounts over 5,000 are declined (`FAILED_PRECONDITION`).
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
        fraud_check(payment.amount, &payment.currency).await?;
        if payment.amount > LIMIT {
            // The reason in a machine-readable `ErrorInfo`, which the spans of both sides
            // record (`rpc.grpc.error_info.reason = OVER_LIMIT`).
            return Err(Status::with_error_details(
                Code::FailedPrecondition,
                format!(
                    "payment declined: {} is over the customer's limit of {LIMIT}",
                    payment.amount
                ),
                ErrorDetails::with_error_info("OVER_LIMIT", "payment.example", []),
            ));
        }
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
    let result = if payment.amount <= 0.0 {
        Err(Status::invalid_argument(format!(
            "amount must be positive, got {}",
            payment.amount
        )))
    } else if !is_currency_code(&payment.currency) {
        // The caller's text stays out of the message: it could be megabytes.
        Err(Status::invalid_argument(
            "currency must be a three-letter ISO 4217 code, such as USD",
        ))
    } else {
        // Known to be three letters: safe to record whole.
        span.set_attribute(KeyValue::new("payment.currency", payment.currency.clone()));
        Ok(())
    };
    if let Err(status) = &result {
        span.set_status(SpanStatus::error(status.message().to_owned()));
    }
    span.end();
    result
}

/// Three ASCII capital letters, as ISO 4217 currency codes are.
fn is_currency_code(currency: &str) -> bool {
    currency.len() == 3 && currency.bytes().all(|byte| byte.is_ascii_uppercase())
}

/// A `tracing` span: with `tonic_traced::init()` it becomes a child of the RPC span too. Its
/// fields (and so its log lines) are the amount and the currency, which `validate_payment`
/// has checked is a three-letter code: no request field reaches the log unbounded.
#[tracing::instrument]
async fn fraud_check(amount: f64, currency: &str) -> Result<(), Status> {
    if amount >= UNAVAILABLE_AMOUNT {
        tracing::warn!("fraud check service is down");
        return Err(Status::unavailable("fraud check service unavailable"));
    }
    if currency != HOME_CURRENCY {
        tokio::time::sleep(CROSS_BORDER_CHECK).await;
    }
    tracing::info!("fraud check passed");
    Ok(())
}
