//! The tower layer: a CLIENT span per call, trace context injected into the metadata.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use tonic::body::Body;
use tonic::Code;
use tower_layer::Layer;
use tower_service::Service;

use super::call_error::CallError;
use super::codec::{CallLink, LinkedCall, Single};
use super::identity::CallIdentity;
use super::request_body::TracedRequestBody;
use super::response::ResponseFuture;
use super::server_target::ServerTarget;
use crate::call_filter::{BadMethodPattern, CallFilter};
use crate::call_info::CallStart;
use crate::call_sink::CallSink;
use crate::codec_link::CodecLink;
use crate::config::{self, Active, Config};
use crate::deadline::deadline;
use crate::keys;
use crate::messages::Messages;
use crate::metadata::{self, MetadataCapture};
use crate::metrics::{CallMetrics, Side};
use crate::propagation::inject_trace_context;
use crate::rpc_span::{Ending, RpcSpan};
use crate::semconv::SemconvMode;
use crate::{MessageMode, RpcKind};

/// Traces every call of the client it wraps; see [`layer`].
#[derive(Debug, Clone, Default)]
pub struct TracedClientLayer {
    options: ClientOptions,
}

/// What a layer was told, shared by the services it makes.
#[derive(Clone)]
struct ClientOptions {
    messages: Option<MessageMode>,
    /// The server given to the layer, for `server.address` and `server.port`.
    server: Option<ServerTarget>,
    /// Which calls are traced, besides the configuration's filter.
    filter: CallFilter,
    /// Paths (`pkg.Svc/Method`) whose calls name their method though tonic's `GrpcMethod`
    /// does not.
    known_methods: HashSet<String>,
    /// Which final codes make the CLIENT span an error.
    is_error: fn(Code) -> bool,
    /// Metadata keys this layer records besides the configuration's, each way.
    request_metadata: Vec<String>,
    response_metadata: Vec<String>,
    /// Both lists' keys, resolved at the first call.
    metadata: OnceLock<Arc<MetadataCapture>>,
    /// The layer's own configuration, if it was given one.
    config: Option<&'static Active>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            messages: None,
            server: None,
            filter: CallFilter::default(),
            known_methods: HashSet::new(),
            is_error: |code| code != Code::Ok,
            request_metadata: Vec::new(),
            response_metadata: Vec::new(),
            metadata: OnceLock::new(),
            config: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("messages", &self.messages)
            .field("server", &self.server)
            .field("filter", &self.filter)
            .field("known_methods", &self.known_methods)
            .field("request_metadata", &self.request_metadata)
            .field("response_metadata", &self.response_metadata)
            .field("own_config", &self.config.is_some())
            .finish_non_exhaustive()
    }
}

/// The layer to put around a tonic `Channel` (or any gRPC transport service).
///
/// ```
/// use tonic::transport::Channel;
/// use tower_layer::Layer;
///
/// # #[tokio::main]
/// # async fn main() {
/// let channel = Channel::from_static("http://127.0.0.1:50051").connect_lazy();
/// let traced = tonic_traced::client::layer().layer(channel);
/// // Hand `traced` to a generated client, `PaymentServiceClient::new(traced)`, as here to the
/// // generic client generated clients are made of.
/// let _client = tonic::client::Grpc::new(traced);
/// # }
/// ```
pub fn layer() -> TracedClientLayer {
    TracedClientLayer::default()
}

impl TracedClientLayer {
    /// How streamed messages are recorded: spans by default on streaming calls of generated
    /// clients, nothing on unary calls.
    pub fn messages(mut self, mode: MessageMode) -> Self {
        self.options.messages = Some(mode);
        self
    }

    /// The server the wrapped channel connects to, for `server.address` and `server.port`.
    /// Needed when the client is made with `new` rather than `with_origin`: a `Channel`
    /// adds its address below this layer, where the request cannot be seen.
    pub fn with_server(mut self, uri: &http::Uri) -> Self {
        self.options.server = uri.authority().and_then(ServerTarget::of);
        self
    }

    /// Traces only the calls `predicate` returns `true` for, besides those the configuration's
    /// [`filter`](Config::filter) leaves out: the others pass on untraced (no span, no
    /// metrics), still carrying the caller's trace context, so the server's span joins the
    /// caller's trace.
    pub fn filter(
        mut self,
        predicate: impl Fn(&CallStart<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.options.filter.require(Arc::new(predicate));
        self
    }

    /// Passes the calls of these methods on untraced (see [`filter`](Self::filter)): each
    /// `package.Service/Method`, or `package.Service/*` for all of a service's methods, as
    /// [`Config::skip_methods`] reads them; [`HEALTH_AND_REFLECTION`](crate::HEALTH_AND_REFLECTION)
    /// names the health and reflection services.
    pub fn skip_methods<P: AsRef<str>>(
        mut self,
        patterns: impl IntoIterator<Item = P>,
    ) -> Result<Self, BadMethodPattern> {
        self.options.filter.skip_methods(patterns)?;
        Ok(self)
    }

    /// Methods (`package.Service/Method`) this client calls without tonic's `GrpcMethod` on
    /// the request, as a hand-made request or a proxy does. Under the stable conventions the
    /// method of such a call is `_OTHER` (its span named `grpc`, its path in
    /// `rpc.method_original`, one metric series for them all) unless it is listed here;
    /// generated clients' methods are always known.
    pub fn known_methods<M: Into<String>>(mut self, methods: impl IntoIterator<Item = M>) -> Self {
        self.options
            .known_methods
            .extend(methods.into_iter().map(Into::into));
        self
    }

    /// Records these request metadata keys (any case) on this client's CLIENT spans, besides
    /// those of `Config::capture_client_request_metadata`; see the conventions' names there.
    pub fn capture_request_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.options
            .request_metadata
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Records these response metadata keys (headers and trailers) on this client's spans.
    pub fn capture_response_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.options
            .response_metadata
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Traces this layer's calls under `config` rather than under the process's installed
    /// configuration: its tracer and meter providers, propagator, conventions and bounds. The
    /// configuration is resolved here, once, and kept for the rest of the program.
    pub fn config(mut self, config: Config) -> Self {
        self.options.config = Some(config.resolve());
        self.options.metadata = OnceLock::new();
        self
    }

    /// Which final codes mark the CLIENT span as an error, as `is_error` does on a server;
    /// by default every code but `OK`, as the semantic conventions say for clients.
    pub fn is_error(mut self, is_error: fn(Code) -> bool) -> Self {
        self.options.is_error = is_error;
        self
    }
}

impl ClientOptions {
    /// The metadata this client records: the configuration's keys and the layer's.
    fn metadata(&self, config: &Active) -> Arc<MetadataCapture> {
        if self.request_metadata.is_empty() && self.response_metadata.is_empty() {
            return config.client_metadata.clone();
        }
        let names = &config.metadata_names;
        let merged = |config: &[String], layer: &[String]| [config, layer].concat();
        self.metadata
            .get_or_init(|| {
                Arc::new(MetadataCapture::new(
                    &merged(&names.client_request, &self.request_metadata),
                    &merged(&names.client_response, &self.response_metadata),
                    config.semconv,
                    names.sensitive,
                ))
            })
            .clone()
    }
}

impl<S> Layer<S> for TracedClientLayer {
    type Service = TracedClient<S>;

    fn layer(&self, inner: S) -> TracedClient<S> {
        TracedClient {
            inner,
            options: Arc::new(self.options.clone()),
        }
    }
}

/// A gRPC transport service whose calls are traced.
#[derive(Debug, Clone)]
pub struct TracedClient<S> {
    inner: S,
    options: Arc<ClientOptions>,
}

impl<S, ResBody> Service<http::Request<Body>> for TracedClient<S>
where
    S: Service<http::Request<Body>, Response = http::Response<ResBody>>,
    S::Error: CallError,
{
    type Response = http::Response<super::TracedResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // Taken for every call, so that no codec's link outlives its call's start.
        let link = CodecLink::<LinkedCall>::take();
        let config = self.options.config.unwrap_or_else(config::active);
        let identity =
            CallIdentity::of(&request, &self.options.known_methods, config.semconv.stable);
        let call = CallStart {
            side: Side::Client,
            method: identity.original.as_deref().unwrap_or(&identity.full_name),
            kind: identity.kind,
            metadata: request.headers(),
            extensions: request.extensions(),
        };
        if !(config.filter.traces(&call) && self.options.filter.traces(&call)) {
            config
                .propagation
                .inject(&Context::current(), request.headers_mut());
            return ResponseFuture::untraced(self.inner.call(request));
        }
        // Only a generated client's call has its codec's link; any other call is recorded from
        // its bodies alone.
        let link = identity
            .kind
            .and_then(|_| expect_link(link, &identity.full_name));
        let single_request = matches!(
            identity.kind,
            Some(RpcKind::Unary | RpcKind::ServerStreaming)
        );
        let single_response = matches!(
            identity.kind,
            Some(RpcKind::Unary | RpcKind::ClientStreaming)
        );
        let mode = self.options.messages.unwrap_or(match identity.kind {
            Some(RpcKind::Unary) | None => MessageMode::Off,
            Some(_) => MessageMode::Spans,
        });

        let parent = Context::current();
        // With W3C propagators and no baggage, all they would write is the span's
        // `traceparent` (and `tracestate`): written here without them.
        let no_baggage = parent.baggage().is_empty();
        let w3c_only = config.propagation.w3c_only && no_baggage;
        let unsampled = config.unsampled_fast_path && no_baggage && is_unsampled(&parent);
        if unsampled && config.instruments.is_none() {
            // Nothing of the call is recorded: the server is told the caller's unsampled span,
            // and the call and its bodies pass through untouched.
            inject_trace_context(parent.span().span_context(), request.headers_mut());
            return ResponseFuture::untraced(self.inner.call(request));
        }
        let cx = if unsampled {
            // A parent-based sampler would not record the call's span: the call runs in the
            // caller's context, and the server is told the caller's unsampled span.
            parent
        } else {
            // The conventions name a call of an unknown method after the RPC system.
            let name = match identity.original {
                Some(_) => Cow::Borrowed("grpc"),
                None => identity.full_name.clone(),
            };
            let builder = SpanBuilder::from_name(name)
                .with_kind(SpanKind::Client)
                .with_attributes(client_attributes(
                    &identity,
                    &request,
                    self.options.server.as_ref(),
                    config.semconv,
                ));
            config.tracer.start(builder, &parent)
        };
        if let Some(hook) = config.call_attributes.as_ref() {
            if cx.span().is_recording() {
                let mut attributes = Vec::new();
                let mut sink = CallSink {
                    attributes: &mut attributes,
                    values: &config.fields,
                };
                hook.on_start(&call, &mut sink);
                cx.span().set_attributes(attributes);
            }
        }
        let messages = Messages::new(&cx, mode, config.messages_per_rpc, config);
        let metadata = self.options.metadata(config);
        metadata.record(
            &cx,
            metadata::Direction::Request,
            request.headers(),
            &config.fields,
        );
        if w3c_only {
            inject_trace_context(cx.span().span_context(), request.headers_mut());
        } else {
            config.propagation.inject(&cx, request.headers_mut());
        }

        // A generated client's codec records the response messages, with their fields.
        let link = link.filter(|_| cx.span().is_recording());
        let body_messages = match &link {
            Some(CallLink(link)) => {
                let single = Single {
                    request: single_request,
                    response: single_response,
                };
                let call = LinkedCall::new(cx.clone(), config, messages.clone(), single);
                link.connect(call);
                Messages::default()
            }
            None => messages.clone(),
        };

        // The stable conventions' client duration is by server too.
        let server = config
            .instruments()
            .filter(|_| config.semconv.stable)
            .and_then(|_| server_target(&request, self.options.server.as_ref()));
        let metrics = CallMetrics::start(
            config.instruments(),
            Side::Client,
            identity.service,
            identity.method,
            identity.full_name,
        )
        .with_server(server);
        let ending = Ending {
            side: Side::Client,
            deadline: deadline(request.headers()),
            is_error: self.options.is_error,
        };
        let span = RpcSpan::new(
            cx.clone(),
            config,
            metrics.clone(),
            messages.clone(),
            ending,
        );
        // A generated client's codec notes the request's fields as it encodes it: for a
        // recorded single-request call, encoded now, so a call that never reaches the wire
        // still carries them.
        let prefetch = link.is_some() && single_request;
        let request = request.map(|body| {
            let mut body =
                TracedRequestBody::new(body, cx, link, metrics, messages, single_request);
            if prefetch {
                Pin::new(&mut body).prefetch();
            }
            Body::new(body)
        });
        ResponseFuture::new(
            self.inner.call(request),
            span,
            body_messages,
            (!metadata.is_empty()).then_some(metadata),
        )
    }
}

/// The link of a generated client's codec, whose encoder tonic makes just before the call
/// reaches this layer; its absence means a tonic whose order this crate does not know (or a
/// layer above this one that calls it later, such as a buffer), which is logged once, since
/// the call's messages then go unrecorded with their fields.
fn expect_link(link: Option<CodecLink<LinkedCall>>, method: &str) -> Option<CallLink> {
    if link.is_none() {
        static LOGGED: std::sync::Once = std::sync::Once::new();
        LOGGED.call_once(|| {
            tracing::error!(
                target: "tonic_traced",
                method,
                "a generated client's codec was not made just before its call reached the \
                 client layer: message fields are not recorded; put the layer right around the \
                 channel (below any buffer), and use the tonic version tonic-traced-build names"
            );
        });
    }
    link.map(CallLink)
}

/// Whether the caller's span is valid, unsampled and not recording.
fn is_unsampled(parent: &Context) -> bool {
    let span = parent.span();
    let span_context = span.span_context();
    span_context.is_valid() && !span_context.is_sampled() && !span.is_recording()
}

/// Names and target of the call, all known before it starts: the target from the request's
/// URI when the client has an origin, else as given to the layer.
fn client_attributes<B>(
    identity: &CallIdentity,
    request: &http::Request<B>,
    server: Option<&ServerTarget>,
    semconv: SemconvMode,
) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(6);
    semconv.push_method_attributes(
        &mut attributes,
        identity.service.clone(),
        identity.method.clone(),
        identity.full_name.clone(),
    );
    if let Some(original) = &identity.original {
        attributes.push(KeyValue::new(keys::RPC_METHOD_ORIGINAL, original.clone()));
    }
    if let Some(server) = server_target(request, server) {
        server.push_attributes(&mut attributes);
    }
    attributes
}

/// The server of the call: from the request's URI when the client has an origin, else as
/// given to the layer.
fn server_target<B>(
    request: &http::Request<B>,
    given: Option<&ServerTarget>,
) -> Option<ServerTarget> {
    match request.uri().authority() {
        Some(authority) => ServerTarget::of(authority),
        None => given.cloned(),
    }
}
