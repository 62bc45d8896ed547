//! Client-side instrumentation: a tower layer for tonic clients, one line to add.
//!
//! ```
//! use tonic::transport::Channel;
//! use tower_layer::Layer;
//!
//! # #[tokio::main]
//! # async fn main() {
//! let channel = Channel::from_static("http://127.0.0.1:50051").connect_lazy();
//! let traced = tonic_traced::client::layer().layer(channel);
//! // Hand `traced` to a generated client, `PaymentServiceClient::new(traced)`, as here to the
//! // generic client generated clients are made of.
//! let _client = tonic::client::Grpc::new(traced);
//! # }
//! ```

mod call_error;
pub(crate) mod codec;
pub(crate) mod identity;
mod layer;
mod request_body;
mod response;

pub use call_error::CallError;
pub use layer::{layer, TracedClient, TracedClientLayer};
pub use response::{ResponseFuture, TracedResponseBody};
