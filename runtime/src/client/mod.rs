//! Client-side instrumentation: a tower layer for tonic clients, one line to add; see
//! [`layer`] for an example.

mod call_error;
pub(crate) mod codec;
pub(crate) mod identity;
mod layer;
mod request_body;
mod response;
pub(crate) mod server_target;

pub use call_error::CallError;
pub use layer::{layer, TracedClient, TracedClientLayer};
pub use response::{ResponseFuture, TracedResponseBody};
