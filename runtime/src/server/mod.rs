//! Server-side instrumentation, called by the code `#[traced_service]` writes.

mod authority;
mod call;
mod codec;
#[cfg(feature = "handler-events")]
mod handler_events;
mod headers;
mod in_context;
mod options;
mod peer;
mod response_stream;

pub use authority::{called_authority, keep_authority};
pub use call::{RequestBody, ServerCall};
pub use codec::{CallSlot, ServerCodec};
#[cfg(feature = "handler-events")]
pub use handler_events::HandlerEvents;
pub use options::MethodTracing;
pub use response_stream::TracedStream;
