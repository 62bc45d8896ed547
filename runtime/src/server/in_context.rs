//! Runs a handler future with its RPC span's context current on every poll.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use crate::rpc_span::RpcSpan;

pin_project! {
    /// Polls a handler's future with its RPC span's context current, then hands the span and
    /// the handler's output to `finish` (outside that context), which ends the span or hands
    /// it on: one future, with no `async` state machine around it. Dropped before completion,
    /// the span ends as cancelled; a panic ends it as an error and is then resumed.
    pub(crate) struct InContext<F, D> {
        #[pin]
        inner: F,
        state: Option<(RpcSpan, D)>,
    }
}

impl<F, D> InContext<F, D> {
    pub(crate) fn new(span: RpcSpan, inner: F, finish: D) -> Self {
        InContext {
            inner,
            state: Some((span, finish)),
        }
    }
}

impl<F, D, T> Future for InContext<F, D>
where
    F: Future,
    D: FnOnce(RpcSpan, F::Output) -> T,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<T> {
        let this = self.project();
        let (span, _) = this
            .state
            .as_mut()
            .expect("InContext polled after it completed");
        let attached = span.cx.clone().attach();
        let output = match catch_unwind(AssertUnwindSafe(|| this.inner.poll(task))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => output,
            Err(panic) => {
                span.end_with_panic(&*panic);
                resume_unwind(panic)
            }
        };
        drop(attached);
        let (span, finish) = this.state.take().expect("the state was checked above");
        Poll::Ready(finish(span, output))
    }
}
