//! Server-side instrumentation, called by the code `#[traced_service]` writes.

mod call;
mod codec;
mod in_context;
mod options;
mod peer;
mod response_stream;

pub use call::{RequestBody, ServerCall};
pub use codec::{CallSlot, ServerCodec};
pub use options::MethodTracing;
pub use response_stream::TracedStream;
