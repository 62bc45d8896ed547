//! What `#[traced_service(...)]` and `#[traced(...)]` configure for one method.

use std::sync::OnceLock;

use tonic::Code;

use crate::{MessageMode, RpcMethod};

/// Settings of one traced method, a `static` in the code `#[traced_service]` writes.
#[derive(Debug)]
pub struct MethodTracing {
    messages: Option<MessageMode>,
    max_messages: Option<u64>,
    public_endpoint: bool,
    service_name: Option<&'static str>,
    is_error: fn(Code) -> bool,
    renamed: OnceLock<RpcMethod>,
}

impl MethodTracing {
    /// `messages`: `None` for the default (spans on streams, off for unary calls).
    /// `max_messages`: message spans or events per RPC; `None` for the configuration's.
    /// `public_endpoint`: the remote context becomes a link instead of the parent.
    /// `service_name`: replaces the proto service name in span names and `rpc.service`.
    /// `is_error`: which status codes mark the span as an error.
    pub const fn new(
        messages: Option<MessageMode>,
        max_messages: Option<u64>,
        public_endpoint: bool,
        service_name: Option<&'static str>,
        is_error: fn(Code) -> bool,
    ) -> Self {
        MethodTracing {
            messages,
            max_messages,
            public_endpoint,
            service_name,
            is_error,
            renamed: OnceLock::new(),
        }
    }

    pub(crate) fn messages(&self, streaming: bool) -> MessageMode {
        self.messages.unwrap_or(if streaming {
            MessageMode::Spans
        } else {
            MessageMode::Off
        })
    }

    /// Message spans or events recorded per RPC, when the method or service says.
    pub(crate) fn max_messages(&self) -> Option<u64> {
        self.max_messages
    }

    pub(crate) fn public_endpoint(&self) -> bool {
        self.public_endpoint
    }

    pub(crate) fn is_error(&self) -> fn(Code) -> bool {
        self.is_error
    }

    /// The method as traced: the generated identity, or that identity under the configured
    /// service name (built once, then reused).
    pub(crate) fn identity(&'static self, generated: &'static RpcMethod) -> &'static RpcMethod {
        let Some(service) = self.service_name else {
            return generated;
        };
        self.renamed.get_or_init(|| RpcMethod {
            service,
            full_name: Box::leak(format!("{service}/{}", generated.method).into_boxed_str()),
            ..*generated
        })
    }
}
