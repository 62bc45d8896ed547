//! Example services traced with tonic-traced, from the tutorials the project grew from.

pub mod capitalize_service;
pub mod chat_service;
pub mod client_binary;
pub mod loopback;
pub mod order_service;
pub mod payment_service;
pub mod server_binary;
pub mod upload_service;

/// `payment.PaymentService` and `payment.OrderService` from `proto/payment.proto`.
pub mod payment {
    #![allow(missing_docs)]
    tonic::include_proto!("payment");
}

/// `rpc.Fetch`, the OpenCensus tutorial's service, from `proto/capitalize.proto`.
pub mod rpc {
    #![allow(missing_docs)]
    tonic::include_proto!("rpc");
}

/// `files.FileService`, a client-streaming upload, from `proto/files.proto`.
pub mod files {
    #![allow(missing_docs)]
    tonic::include_proto!("files");
}

/// `chat.ChatService`, a bidirectional-streaming chat, from `proto/chat.proto`.
pub mod chat {
    #![allow(missing_docs)]
    tonic::include_proto!("chat");
}
