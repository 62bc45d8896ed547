//! The proto identity of an RPC method, generated into each tonic server trait.

/// The four gRPC call shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RpcKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams in both directions.
    BidiStreaming,
}

/// One method as written in the proto file, e.g. `payment.PaymentService` / `ProcessPayment`.
///
/// `tonic-traced-build` adds a hidden associated function per method to each generated server
/// trait that returns this, so `<T as PaymentService>::…` finds it wherever the trait is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RpcMethod {
    /// Fully-qualified proto service name, `package.Service`.
    pub service: &'static str,
    /// Proto method name exactly as declared (`GetHTTPThing`, not a re-cased guess).
    pub method: &'static str,
    /// `package.Service/Method`, the span name.
    pub full_name: &'static str,
    /// Whether requests and responses are streamed.
    pub kind: RpcKind,
}
