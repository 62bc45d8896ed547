//! Starts the SERVER span of one RPC and drives the handler inside it.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::{Link, SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::Context;
use tonic::{Code, Request, Response, Status, Streaming};

use super::authority::authority_attributes;
use super::codec::{CallSlot, ReceivedMessages};
use super::headers::RequestHeaders;
use super::in_context::InContext;
use super::options::MethodTracing;
use super::peer::peer_attributes;
use super::response_stream::TracedStream;
use crate::call_fields::{record_message_fields, RecordedFields};
use crate::call_info::CallStart;
use crate::call_sink::CallSink;
use crate::codec_link::CodecLink;
use crate::config;
use crate::deadline::timeout_deadline;
use crate::messages::{Direction, MessageMode, MessageSize, Messages, TracedMessage};
use crate::metadata;
use crate::metrics::{CallMetrics, Side};
use crate::rpc_span::{Ending, RpcSpan};
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
    /// The keys of the annotated fields on the span, so the response's do not repeat them.
    fields: RecordedFields,
    /// Whether a response stream is polled with the span's context current.
    polls_in_context: bool,
}

impl ServerCall {
    /// Starts the SERVER span of `request` as a child of the remote context in its metadata.
    /// Request attributes are read only when the span is sampled. A call the configuration's
    /// filter leaves out gets no span and no metrics, and runs in the remote context.
    pub fn start<T: RequestBody>(
        tracing: &'static MethodTracing,
        generated: &'static RpcMethod,
        request: &Request<T>,
    ) -> Self {
        // Taken for every call, so that no decoder's link outlives its call's start.
        let link = CodecLink::<ReceivedMessages>::take();
        let config = config::active();
        let method = tracing.identity(generated);
        let streams_requests = matches!(
            method.kind,
            RpcKind::ClientStreaming | RpcKind::BidiStreaming
        );
        let request_stream = streams_requests
            .then(|| expect_link(link, method))
            .flatten();
        let call = CallStart {
            side: Side::Server,
            method: method.full_name,
            kind: Some(method.kind),
            metadata: request.metadata().as_ref(),
            extensions: request.extensions(),
        };
        let traced = config.filter.traces(&call);
        let configured = tracing.messages(method.kind != RpcKind::Unary);
        let polls_in_context = configured.polls_in_context();
        let mode = if traced { configured } else { MessageMode::Off };
        let metrics = CallMetrics::start(
            config.instruments().filter(|_| traced),
            Side::Server,
            Cow::Borrowed(method.service),
            Cow::Borrowed(method.method),
            Cow::Borrowed(method.full_name),
        );
        let request_size = request
            .get_ref()
            .message()
            .filter(|_| metrics.is_on() || mode != MessageMode::Off)
            .map(|message| message.encoded_size());
        if let Some(size) = request_size {
            metrics.received(size);
        }
        let headers = RequestHeaders::scan(request.metadata().as_ref());
        let ending = Ending {
            side: Side::Server,
            deadline: headers.grpc_timeout.and_then(timeout_deadline),
            is_error: tracing.is_error(),
        };
        let limit = tracing.max_messages().unwrap_or(config.messages_per_rpc);
        let rpc_span = |cx: Context, metrics: CallMetrics| {
            let messages = Messages::new(&cx, mode, limit, config);
            if let Some(CallSlot(link)) = &request_stream {
                link.connect(ReceivedMessages::new(messages.clone(), metrics.clone()));
            }
            RpcSpan::new(cx, config, metrics, messages, ending)
        };
        let fields = RecordedFields::default();
        let public_endpoint =
            tracing.public_endpoint() || config.is_public_endpoint(method.service);
        let fast_path = headers
            .lone_traceparent
            .filter(|_| config.unsampled_fast_path)
            .and_then(w3c_remote_context);
        let remote = match fast_path {
            // The caller did not sample and the sampler follows it: the call runs in the
            // caller's context, which outgoing calls pass on.
            Some(remote) if !public_endpoint && !remote.span().span_context().is_sampled() => {
                return ServerCall {
                    span: rpc_span(remote, metrics),
                    fields,
                    polls_in_context,
                };
            }
            Some(remote) => remote,
            None => config.propagation.extract(request.metadata()),
        };
        if !traced {
            // Left out: no span, but the calls the handler makes stay in the caller's trace
            // (unless the caller is not trusted with one).
            let cx = if public_endpoint {
                Context::new()
            } else {
                remote
            };
            return ServerCall {
                span: rpc_span(cx, metrics),
                fields,
                polls_in_context,
            };
        }

        // `server.*` before the span starts: the conventions make them sampling-relevant.
        let mut attributes = tracing.static_attributes(method, config.semconv);
        authority_attributes(request.extensions(), &config.fields, &mut attributes);
        let mut builder = SpanBuilder::from_name(method.full_name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes);
        let parent = if public_endpoint {
            let remote_span = remote.span().span_context().clone();
            if remote_span.is_valid() {
                builder = builder.with_links(vec![Link::with_context(remote_span)]);
            }
            Context::new()
        } else {
            remote
        };
        let span = rpc_span(config.tracer.start(builder, &parent), metrics);

        if span.recording {
            let mut attributes = Vec::with_capacity(8);
            if let Some(message) = request.get_ref().message() {
                let sink = CallSink {
                    attributes: &mut attributes,
                    values: &config.fields,
                };
                fields.record_new(message, sink);
            }
            if let Some(hook) = &config.call_attributes {
                let mut sink = CallSink {
                    attributes: &mut attributes,
                    values: &config.fields,
                };
                hook.on_start(&call, &mut sink);
            }
            peer_attributes(request, &mut attributes);
            span.cx.span().set_attributes(attributes);
            span.record_metadata(
                &config.server_metadata,
                metadata::Direction::Request,
                request.metadata().as_ref(),
            );
        }
        if let (Some(message), Some(size)) = (request.get_ref().message(), request_size) {
            span.messages.record(
                Direction::Received,
                1,
                || MessageSize::Uncompressed(size),
                |sink| message.record_attributes(sink),
            );
        }
        ServerCall {
            span,
            fields,
            polls_in_context,
        }
    }

    /// Runs the handler of a unary or client-streaming RPC; the span ends with its result.
    pub fn unary<R, F>(self, handler: F) -> impl Future<Output = Result<Response<R>, Status>>
    where
        R: TracedMessage,
        F: Future<Output = Result<Response<R>, Status>>,
    {
        let ServerCall { span, fields, .. } = self;
        InContext::new(
            span,
            handler,
            move |mut span: RpcSpan, result: Result<Response<R>, Status>| {
                match &result {
                    Ok(response) => {
                        let message = response.get_ref();
                        let size = span.size_of(message);
                        span.metrics.sent(size);
                        if span.recording {
                            record_message_fields(&span.cx, &fields, message, &span.config.fields);
                            span.record_server_response(response.metadata());
                            span.messages.record(
                                Direction::Sent,
                                1,
                                || MessageSize::Uncompressed(size),
                                |sink| message.record_attributes(sink),
                            );
                        }
                        span.end(Code::Ok, "");
                    }
                    Err(status) => {
                        span.record_server_response(status.metadata());
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
        let polls_in_context = self.polls_in_context;
        InContext::new(
            self.span,
            handler,
            move |mut span: RpcSpan, result: Result<Response<S>, Status>| match result {
                Ok(response) => {
                    span.record_server_response(response.metadata());
                    Ok(response.map(|stream| TracedStream::new(span, stream, polls_in_context)))
                }
                Err(status) => {
                    span.record_server_response(status.metadata());
                    span.end_with_status(&status);
                    Err(status)
                }
            },
        )
    }
}

/// The link of the request stream's decoder, which tonic makes just before the handler
/// starts; its absence means a tonic whose order this crate does not know, which is logged
/// once, since request messages then go unrecorded.
fn expect_link(link: Option<CodecLink<ReceivedMessages>>, method: &RpcMethod) -> Option<CallSlot> {
    if link.is_none() {
        static LOGGED: std::sync::Once = std::sync::Once::new();
        LOGGED.call_once(|| {
            tracing::error!(
                target: "tonic_traced",
                method = method.full_name,
                "the request stream's decoder was not made just before the handler started, as \
                 the tonic versions tonic-traced supports do: request messages of streams are \
                 not recorded; use the tonic version tonic-traced-build names"
            );
        });
    }
    link.map(CallSlot)
}
