//! The Go tutorial's payment service: approves a payment and returns a transaction id.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::{Request, Response, Status};

use crate::payment::payment_service_server::PaymentService;
use crate::payment::{PaymentRequest, PaymentResponse};

/// Approves positive amounts; anything else is `INVALID_ARGUMENT`.
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
        if payment.amount <= 0.0 {
            return Err(Status::invalid_argument(format!(
                "amount must be positive, got {}",
                payment.amount
            )));
        }
        let number = self.next_transaction.fetch_add(1, Ordering::Relaxed) + 123;
        Ok(Response::new(PaymentResponse {
            transaction_id: format!("txn-{number}"),
            status: "approved".into(),
        }))
    }
}
