//! The response stream of a server-streaming or bidi RPC: owns the RPC span until the stream
//! ends, and records each sent message.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;
use tonic::{Code, Status};

use crate::messages::{Direction, MessageSize, TracedMessage};
use crate::rpc_span::RpcSpan;

pin_project! {
    /// The stream `#[traced_service]` puts around a handler's response stream. The RPC span
    /// ends with the last message (`OK`), the first error (its status), or when the client
    /// goes away and the stream is dropped (`CANCELLED` or `DEADLINE_EXCEEDED`). Each poll
    /// runs with the span's context current, except under `messages = totals`.
    pub struct TracedStream<S> {
        #[pin]
        inner: S,
        span: Option<RpcSpan>,
        sent: u64,
        in_context: bool,
    }
}

impl<S> TracedStream<S> {
    /// The response stream `inner` of the call whose span is `span`, polled in the span's
    /// context if `in_context`.
    pub(crate) fn new(span: RpcSpan, inner: S, in_context: bool) -> Self {
        TracedStream {
            inner,
            span: Some(span),
            sent: 0,
            in_context,
        }
    }
}

impl<S, M> Stream for TracedStream<S>
where
    S: Stream<Item = Result<M, Status>>,
    M: TracedMessage,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        let Some(span) = this.span.as_mut() else {
            return this.inner.poll_next(task);
        };
        let _attached = this.in_context.then(|| span.cx.clone().attach());
        // Polled into place: the item, often large (a `Status`), is not moved on its way out.
        let mut polled = Poll::Pending;
        let poll = AssertUnwindSafe(|| polled = this.inner.as_mut().poll_next(task));
        if let Err(panic) = catch_unwind(poll) {
            span.end_with_panic(&*panic);
            resume_unwind(panic)
        }
        match &polled {
            Poll::Ready(Some(Ok(message))) => {
                *this.sent += 1;
                let size = span.size_of(message);
                span.metrics.sent(size);
                span.messages.record(
                    Direction::Sent,
                    *this.sent,
                    || MessageSize::Uncompressed(size),
                    |sink| message.record_attributes(sink),
                );
            }
            Poll::Ready(end) => end_stream(this.span, end),
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Ends the span of a stream that ended (`None`, `OK`) or failed (`Some(Err(status))`).
#[cold]
fn end_stream<M>(span: &mut Option<RpcSpan>, end: &Option<Result<M, Status>>) {
    let Some(mut span) = span.take() else {
        return;
    };
    match end {
        Some(Err(status)) => {
            span.record_server_response(status.metadata());
            span.end_with_status(status);
        }
        _ => span.end(Code::Ok, ""),
    }
}
