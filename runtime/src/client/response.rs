//! The response side of a traced call: the span ends when the final status is known, from
//! the headers of a trailers-only response or from the trailers of a streamed one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf;
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::{Code, Status};

use super::call_error::CallError;
use super::request_body::frame_size;
use crate::framing::MessageFraming;
use crate::messages::{Direction, Messages};
use crate::metadata::{self, MetadataCapture};
use crate::rpc_span::RpcSpan;

pin_project! {
    /// The inner service's future, holding the call's span. Dropped unfinished, the span
    /// ends as `CANCELLED` (or `DEADLINE_EXCEEDED` past the call's deadline).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Option<RpcSpan>,
        // The response messages this body records: none when the codec records them.
        messages: Messages,
        // The response metadata keys to record, if any.
        metadata: Option<Arc<MetadataCapture>>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(
        inner: F,
        span: RpcSpan,
        messages: Messages,
        metadata: Option<Arc<MetadataCapture>>,
    ) -> Self {
        ResponseFuture {
            inner,
            span: Some(span),
            messages,
            metadata,
        }
    }

    /// The future of a call the layer passes on without tracing it.
    pub(crate) fn untraced(inner: F) -> Self {
        ResponseFuture {
            inner,
            span: None,
            messages: Messages::default(),
            metadata: None,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    E: CallError,
{
    type Output = Result<http::Response<TracedResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.inner.poll(task) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        // `None` for a call passed on untraced.
        let span = this.span.take();
        Poll::Ready(match result {
            Err(error) => {
                if let Some(mut span) = span {
                    span.end(error.code(), &error.to_string());
                }
                Err(error)
            }
            Ok(response) => {
                if let (Some(span), Some(metadata)) = (&span, &*this.metadata) {
                    span.record_metadata(
                        metadata,
                        metadata::Direction::Response,
                        response.headers(),
                    );
                }
                let open_span =
                    span.and_then(|mut span| (!end_if_final(&mut span, &response)).then_some(span));
                let messages = std::mem::take(this.messages);
                let metadata = this.metadata.take();
                Ok(response.map(|body| TracedResponseBody {
                    inner: body,
                    span: open_span,
                    messages,
                    metadata,
                    framing: MessageFraming::default(),
                    received: 0,
                }))
            }
        })
    }
}

/// Ends the span if `response` is final already: a trailers-only response carries its status
/// in the headers; a non-200 HTTP response maps to a gRPC status as the gRPC HTTP/2 spec says.
fn end_if_final<B>(span: &mut RpcSpan, response: &http::Response<B>) -> bool {
    if end_with_status_in(span, response.headers()) {
        return true;
    }
    let code = match response.status().as_u16() {
        200 => return false,
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    };
    span.end(code, &format!("HTTP status {}", response.status()));
    true
}

/// Ends the span with the status in `headers` (trailers, or a trailers-only response's
/// headers); false if they carry none. A plain OK is read without building a `Status`, which
/// copies the headers.
fn end_with_status_in(span: &mut RpcSpan, headers: &HeaderMap) -> bool {
    let Some(code) = headers.get(Status::GRPC_STATUS) else {
        return false;
    };
    if Code::from_bytes(code.as_bytes()) == Code::Ok && !headers.contains_key(Status::GRPC_MESSAGE)
    {
        span.end(Code::Ok, "");
    } else if let Some(status) = Status::from_header_map(headers) {
        span.end_with_status(&status);
    }
    true
}

pin_project! {
    /// The response body of a traced call: counts received messages and ends the span with
    /// the status in the trailers, or as `CANCELLED` when dropped before them.
    pub struct TracedResponseBody<B> {
        #[pin]
        inner: B,
        span: Option<RpcSpan>,
        messages: Messages,
        // The response metadata keys to record in the trailers, if any.
        metadata: Option<Arc<MetadataCapture>>,
        framing: MessageFraming,
        received: u64,
    }
}

/// An empty body with no call to trace, as interceptors need for the responses they make.
impl<B: Default> Default for TracedResponseBody<B> {
    fn default() -> Self {
        TracedResponseBody {
            inner: B::default(),
            span: None,
            messages: Messages::default(),
            metadata: None,
            framing: MessageFraming::default(),
            received: 0,
        }
    }
}

impl<B> HttpBody for TracedResponseBody<B>
where
    B: HttpBody,
    B::Error: std::fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(task);
        let Some(span) = this.span.as_mut() else {
            return polled;
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let (received, messages) = (this.received, &*this.messages);
                    let metrics = &span.metrics;
                    this.framing.feed(data.chunk(), |prefix| {
                        *received += 1;
                        metrics.received(prefix.length);
                        messages.record(
                            Direction::Received,
                            *received,
                            || frame_size(prefix),
                            |_| {},
                        );
                    });
                } else if let Some(trailers) = frame.trailers_ref() {
                    if let Some(metadata) = &*this.metadata {
                        span.record_metadata(metadata, metadata::Direction::Response, trailers);
                    }
                    if !end_with_status_in(span, trailers) {
                        span.end(
                            Code::Unknown,
                            "the server sent trailers without grpc-status",
                        );
                    }
                    *this.span = None;
                }
            }
            Poll::Ready(Some(Err(error))) => {
                span.end(Code::Unavailable, &error.to_string());
                *this.span = None;
            }
            Poll::Ready(None) => {
                span.end(Code::Unknown, "the response ended without trailers");
                *this.span = None;
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
