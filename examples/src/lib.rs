//! Example services traced with tonic-traced, from the tutorials the project grew from.

pub mod order_service;
pub mod payment_service;

/// `payment.PaymentService` and `payment.OrderService` from `proto/payment.proto`.
pub mod payment {
    #![allow(missing_docs)]
    tonic::include_proto!("payment");
}
