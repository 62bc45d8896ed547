//! Client-side instrumentation: a tower layer for tonic clients, one line to add.
//!
//! ```ignore
//! let channel = Channel::from_static("http://payment:50051").connect().await?;
//! let client = PaymentServiceClient::new(
//!     tower::ServiceBuilder::new()
//!         .layer(tonic_traced::client::layer())
//!         .service(channel),
//! );
//! ```

mod call_error;
mod codec;
mod identity;
mod layer;
mod request_body;
mod response;

pub use call_error::CallError;
pub use codec::{CallLink, ClientCodec, TracedEncoder};
pub use identity::ClientMethod;
pub use layer::{layer, TracedClient, TracedClientLayer};
pub use response::{ResponseFuture, TracedResponseBody};
