//! Starts the SERVER span of one RPC and drives the handler inside it.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::{Link, SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::Context;
use tonic::{Code, Request, Response, Status, Streaming};

use super::codec::{CallSlot, ReceivedMessages};
use super::headers::RequestHeaders;
use super::in_context::InContext;
use super::options::MethodTracing;
use super::peer::peer_attributes;
use super::response_stream::TracedStream;
use crate::call_fields::{record_message_fields, RecordedFields};
use crate::config;
use crate::deadline::timeout_deadline;
use crate::limits::MessageBudget;
use crate::messages::{record_message, Direction, MessageMode, MessageSize, TracedMessage};
use crate::metadata;
use crate::metrics::{CallMetrics, Side};
use crate::propagation::extract_remote_context;
use crate::rpc_span::RpcSpan;
use crate::w3c_fast_path::w3c_remote_context;
use crate::{RpcKind, RpcMethod};

/// What a handler receives: one message (unary and server streaming) or a stream of them.
pub trait RequestBody {
    /// The single request message, recorded on the RPC span when it is sampled.
    fn message(&self) -> Option<&dyn TracedMessage>;
}

impl<T: TracedMessage> RequestBody for T {
    fn message(&self) -> Option<&dyn TracedMessage> {
        Some(self)
    }
}

impl<T> RequestBody for Streaming<T> {
    fn message(&self) -> Option<&dyn TracedMessage> {
        None
    }
}

/// One traced RPC on the server, from the request's arrival to its final status.
pub struct ServerCall {
    span: RpcSpan,
    messages: MessageMode,
    /// The keys of the annotated fields on the span, so the response's do not repeat them.
    fields: RecordedFields,
}

impl ServerCall {
    /// Starts the SERVER span of `request` as a child of the remote context in its metadata.
    /// Request attributes are read only when the span is sampled.
    pub fn start<T: RequestBody>(
        tracing: &'static MethodTracing,
        generated: &'static RpcMethod,
        request: &Request<T>,
    ) -> Self {
        let config = config::active();
        let method = tracing.identity(generated);
        let semconv = config.semconv;
        let messages = tracing.messages(method.kind != RpcKind::Unary);
        let metrics = CallMetrics::start(
            Side::Server,
            Cow::Borrowed(method.service),
            Cow::Borrowed(method.method),
            Cow::Borrowed(method.full_name),
        );
        let request_size = request
            .get_ref()
            .message()
            .filter(|_| sizes_wanted(messages))
            .map(|message| message.encoded_size());
        if let Some(size) = request_size {
            metrics.received(size);
        }
        // Taken for every call, so that no decoder's slot outlives its call's start; a request
        // stream's decoder counts, and records, what is read from it.
        let request_stream = CallSlot::take_new().filter(|_| {
            matches!(
                method.kind,
                RpcKind::ClientStreaming | RpcKind::BidiStreaming
            )
        });
        let headers = RequestHeaders::scan(request.metadata().as_ref());
        let deadline = headers.grpc_timeout.and_then(timeout_deadline);
        let rpc_span = |cx: Context, metrics: CallMetrics| {
            if let Some(slot) = &request_stream {
                slot.connect(ReceivedMessages::new(cx.clone(), messages, metrics.clone()));
            }
            RpcSpan::new(cx, metrics, deadline, tracing.is_error(), semconv)
        };
        let fields = RecordedFields::default();
        let public_endpoint =
            tracing.public_endpoint() || config.is_public_endpoint(method.service);
        let fast_path = headers
            .lone_traceparent
            .filter(|_| config.w3c_parent_based)
            .and_then(w3c_remote_context);
        let remote = match fast_path {
            // The caller did not sample and the sampler follows it: the call runs in the
            // caller's context, which outgoing calls pass on.
            Some(remote) if !public_endpoint && !remote.span().span_context().is_sampled() => {
                return ServerCall {
                    span: rpc_span(remote, metrics),
                    messages,
                    fields,
                };
            }
            Some(remote) => remote,
            None => extract_remote_context(request.metadata()),
        };

        let mut builder = SpanBuilder::from_name(method.full_name)
            .with_kind(SpanKind::Server)
            .with_attributes(tracing.static_attributes(method, semconv));
        let parent = if public_endpoint {
            let remote_span = remote.span().span_context().clone();
            if remote_span.is_valid() {
                builder = builder.with_links(vec![Link::with_context(remote_span)]);
            }
            Context::new()
        } else {
            remote
        };
        let limit = tracing.max_messages().unwrap_or(config.messages_per_rpc);
        let cx = MessageBudget::attach(config.tracer.start(builder, &parent), messages, limit);
        let span = rpc_span(cx, metrics);

        let cx = &span.cx;
        if span.recording {
            let mut attributes = Vec::with_capacity(8);
            if let Some(message) = request.get_ref().message() {
                fields.record_new(message, &mut attributes);
            }
            peer_attributes(request, &mut attributes);
            cx.span().set_attributes(attributes);
            config.server_metadata.record(
                cx,
                metadata::Direction::Request,
                request.metadata().as_ref(),
            );
        }
        if let (Some(message), Some(size)) = (request.get_ref().message(), request_size) {
            record_message(
                cx,
                messages,
                Direction::Received,
                1,
                || MessageSize::Uncompressed(size),
                |attributes| message.record_attributes(attributes),
            );
        }
        ServerCall {
            span,
            messages,
            fields,
        }
    }

    /// Runs the handler of a unary or client-streaming RPC; the span ends with its result.
    pub fn unary<R, F>(self, handler: F) -> impl Future<Output = Result<Response<R>, Status>>
    where
        R: TracedMessage,
        F: Future<Output = Result<Response<R>, Status>>,
    {
        let ServerCall {
            span,
            messages,
            fields,
        } = self;
        InContext::new(
            span,
            handler,
            move |mut span: RpcSpan, result: Result<Response<R>, Status>| {
                match &result {
                    Ok(response) => {
                        let message = response.get_ref();
                        let size = if sizes_wanted(messages) {
                            message.encoded_size()
                        } else {
                            0
                        };
                        span.metrics.sent(size);
                        if span.recording {
                            record_message_fields(&span.cx, Some(&fields), message);
                            record_response_metadata(&span.cx, response.metadata());
                            record_message(
                                &span.cx,
                                messages,
                                Direction::Sent,
                                1,
                                || MessageSize::Uncompressed(size),
                                |attributes| message.record_attributes(attributes),
                            );
                        }
                        span.end(Code::Ok, "");
                    }
                    Err(status) => {
                        record_response_metadata(&span.cx, status.metadata());
                        span.end_with_status(status);
                    }
                }
                result
            },
        )
    }

    /// Runs the handler of a server-streaming or bidi RPC; the span ends with the response
    /// stream, or with the handler's error.
    pub fn streaming<S, F>(
        self,
        handler: F,
    ) -> impl Future<Output = Result<Response<TracedStream<S>>, Status>>
    where
        F: Future<Output = Result<Response<S>, Status>>,
    {
        let ServerCall { span, messages, .. } = self;
        InContext::new(
            span,
            handler,
            move |mut span: RpcSpan, result: Result<Response<S>, Status>| match result {
                Ok(response) => {
                    record_response_metadata(&span.cx, response.metadata());
                    Ok(response.map(|stream| TracedStream::new(span, stream, messages)))
                }
                Err(status) => {
                    record_response_metadata(&span.cx, status.metadata());
                    span.end_with_status(&status);
                    Err(status)
                }
            },
        )
    }
}

/// Whether messages' encoded sizes are needed: by the RPC metrics or by message spans; they
/// are not computed otherwise.
fn sizes_wanted(messages: MessageMode) -> bool {
    config::active().instruments.is_some() || messages != MessageMode::Off
}

/// Records the response metadata (headers, or an error's trailers) the configuration picks.
pub(super) fn record_response_metadata(cx: &Context, metadata: &tonic::metadata::MetadataMap) {
    config::active()
        .server_metadata
        .record(cx, metadata::Direction::Response, metadata.as_ref());
}
