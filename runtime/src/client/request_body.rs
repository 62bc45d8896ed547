//! The request body of a traced call: written with the call's context current, so the client
//! codec can note each message's fields, and read for message boundaries.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use pin_project_lite::pin_project;
use tonic::body::Body;
use tonic::Status;

use super::codec::SentFields;
use crate::call_fields::record_fields;
use crate::framing::MessageFraming;
use crate::messages::{record_message, Direction, MessageMode, MessageSize};
use crate::metrics::CallMetrics;

pin_project! {
    /// Wraps the body tonic encodes the request messages into.
    pub(crate) struct TracedRequestBody {
        #[pin]
        inner: Body,
        // The call's span context.
        span_cx: Context,
        // A sampled call's: the same with the call's `SentFields`, current while tonic
        // encodes messages.
        encode_cx: Option<Context>,
        metrics: CallMetrics,
        messages: MessageMode,
        // Unary and server-streaming calls: the one request's fields go on the call's span.
        single_request: bool,
        framing: MessageFraming,
        sent: u64,
        // The first frame, read by `prefetch` before the call was sent, not yet written.
        prefetched: Option<Frame<Bytes>>,
    }
}

impl TracedRequestBody {
    /// The body of a call whose span is in `span_cx`; the encoder notes the messages' fields
    /// only when the span is recording.
    pub(crate) fn new(
        inner: Body,
        span_cx: Context,
        metrics: CallMetrics,
        messages: MessageMode,
        single_request: bool,
    ) -> Self {
        let encode_cx = span_cx
            .span()
            .is_recording()
            .then(|| span_cx.with_value(SentFields::default()));
        TracedRequestBody {
            inner,
            span_cx,
            encode_cx,
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

    /// Polls the inner body under the encoding context and notes what each frame holds.
    fn poll_inner(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        let polled = match this.encode_cx {
            Some(encode_cx) => {
                let _encoding = encode_cx.clone().attach();
                this.inner.poll_frame(task)
            }
            None => this.inner.poll_frame(task),
        };
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let span_cx = &*this.span_cx;
                let fields = this.encode_cx.as_ref().and_then(Context::get::<SentFields>);
                let metrics = &*this.metrics;
                let (sent, messages, single) = (this.sent, *this.messages, *this.single_request);
                this.framing.feed(data, |prefix| {
                    *sent += 1;
                    metrics.sent(prefix.length);
                    let noted = fields.map(SentFields::next).unwrap_or_default();
                    if single && *sent == 1 {
                        record_fields(span_cx, None, noted.clone());
                    }
                    record_message(
                        span_cx,
                        messages,
                        Direction::Sent,
                        *sent,
                        || frame_size(prefix),
                        |attributes| attributes.extend(noted),
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
