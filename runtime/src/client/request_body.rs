//! The request body of a traced call, read for message boundaries: each message is counted,
//! and recorded with the fields a generated client's codec noted as it encoded it.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use opentelemetry::Context;
use pin_project_lite::pin_project;
use tonic::body::Body;
use tonic::Status;

use super::codec::CallLink;
use crate::call_fields::record_fields;
use crate::framing::MessageFraming;
use crate::messages::{Direction, MessageSize, Messages};
use crate::metrics::CallMetrics;

pin_project! {
    /// Wraps the body tonic encodes the request messages into.
    pub(crate) struct TracedRequestBody {
        #[pin]
        inner: Body,
        // The call's span context.
        span_cx: Context,
        // A generated client's recorded call: its codec notes each message's fields.
        link: Option<CallLink>,
        metrics: CallMetrics,
        messages: Messages,
        // Unary and server-streaming calls: the one request's fields go on the call's span.
        single_request: bool,
        framing: MessageFraming,
        sent: u64,
        // The first frame, read by `prefetch` before the call was sent, not yet written.
        prefetched: Option<Frame<Bytes>>,
    }
}

impl TracedRequestBody {
    /// The body of a call whose span is in `span_cx`; `link` is a generated client's recorded
    /// call, whose codec notes the messages' fields.
    pub(crate) fn new(
        inner: Body,
        span_cx: Context,
        link: Option<CallLink>,
        metrics: CallMetrics,
        messages: Messages,
        single_request: bool,
    ) -> Self {
        TracedRequestBody {
            inner,
            span_cx,
            link,
            metrics,
            messages,
            single_request,
            framing: MessageFraming::default(),
            sent: 0,
            prefetched: None,
        }
    }

    /// Encodes the first request message now, if it is ready, so that its fields are on the
    /// call's span even when the call never reaches the wire (connection refused, deadline
    /// passed while connecting): the transport writes the frame later as usual.
    pub(crate) fn prefetch(mut self: Pin<&mut Self>) {
        let mut task = TaskContext::from_waker(Waker::noop());
        if let Poll::Ready(Some(Ok(frame))) = self.as_mut().poll_inner(&mut task) {
            *self.project().prefetched = Some(frame);
        }
    }

    /// Polls the inner body and notes what each frame holds.
    fn poll_inner(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(task);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let span_cx = &*this.span_cx;
                let call = this.link.as_ref().and_then(|link| link.0.call());
                let (metrics, messages) = (&*this.metrics, &*this.messages);
                let (sent, single) = (this.sent, *this.single_request);
                this.framing.feed(data, |prefix| {
                    *sent += 1;
                    metrics.sent(prefix.length);
                    let noted = call.map(|call| call.next_sent()).unwrap_or_default();
                    if let Some(call) = call.filter(|_| single && *sent == 1) {
                        record_fields(span_cx, call.fields(), noted.clone());
                    }
                    messages.record(
                        Direction::Sent,
                        *sent,
                        || frame_size(prefix),
                        |sink| sink.attributes.extend(noted),
                    );
                });
            }
        }
        polled
    }
}

impl HttpBody for TracedRequestBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(frame) = self.as_mut().project().prefetched.take() {
            return Poll::Ready(Some(Ok(frame)));
        }
        self.poll_inner(task)
    }

    fn is_end_stream(&self) -> bool {
        self.prefetched.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.prefetched {
            Some(_) => SizeHint::default(),
            None => self.inner.size_hint(),
        }
    }
}

/// The size a message prefix tells: exact when uncompressed, else the compressed size.
pub(crate) fn frame_size(prefix: crate::framing::MessagePrefix) -> MessageSize {
    if prefix.compressed {
        MessageSize::Compressed(prefix.length)
    } else {
        MessageSize::Uncompressed(prefix.length)
    }
}
