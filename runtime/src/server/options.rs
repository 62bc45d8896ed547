//! What `#[traced_service(...)]` and `#[traced(...)]` configure for one method.

use std::borrow::Cow;
use std::sync::OnceLock;

use opentelemetry::KeyValue;
use tonic::Code;

use crate::semconv::SemconvMode;
use crate::{MessageMode, RpcMethod};

/// Room for every attribute an RPC span gets (static, peer, request fields, status), so the
/// span's attribute list is allocated once.
const RPC_SPAN_ATTRIBUTES: usize = 16;

/// Settings of one traced method, a `static` in the code `#[traced_service]` writes.
#[derive(Debug)]
pub struct MethodTracing {
    messages: Option<MessageMode>,
    max_messages: Option<u64>,
    public_endpoint: bool,
    service_name: Option<&'static str>,
    is_error: fn(Code) -> bool,
    renamed: OnceLock<RpcMethod>,
    /// The attributes naming the method, made at the first call (the conventions are fixed
    /// once the configuration is in use).
    method_attributes: OnceLock<Vec<KeyValue>>,
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
            method_attributes: OnceLock::new(),
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

    /// A new SERVER span's attributes: those naming `method` in `semconv`, with room for the
    /// rest. All borrow the generated identity, so copying them allocates only the list.
    pub(crate) fn static_attributes(
        &self,
        method: &'static RpcMethod,
        semconv: SemconvMode,
    ) -> Vec<KeyValue> {
        let named = self.method_attributes.get_or_init(|| {
            let mut attributes = Vec::new();
            semconv.push_method_attributes(
                &mut attributes,
                Cow::Borrowed(method.service),
                Cow::Borrowed(method.method),
                Cow::Borrowed(method.full_name),
            );
            attributes
        });
        let mut attributes = Vec::with_capacity(RPC_SPAN_ATTRIBUTES);
        attributes.extend_from_slice(named);
        attributes
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
