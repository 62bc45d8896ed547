//! Runs a handler future with its RPC span's context current on every poll.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use crate::rpc_span::RpcSpan;

pin_project! {
    /// Yields the span back with the handler's output, for the caller to end or hand on.
    /// Dropped before completion, the span ends as cancelled; a panic ends it as an error and
    /// is then resumed.
    pub(crate) struct InContext<F> {
        #[pin]
        inner: F,
        span: Option<RpcSpan>,
    }
}

impl<F> InContext<F> {
    pub(crate) fn new(span: RpcSpan, inner: F) -> Self {
        InContext {
            inner,
            span: Some(span),
        }
    }
}

impl<F: Future> Future for InContext<F> {
    type Output = (RpcSpan, F::Output);

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let span = this
            .span
            .as_mut()
            .expect("InContext polled after it completed");
        let _attached = span.cx.clone().attach();
        match catch_unwind(AssertUnwindSafe(|| this.inner.poll(task))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                let span = this.span.take().expect("the span was checked above");
                Poll::Ready((span, output))
            }
            Err(panic) => {
                span.end_with_panic(&*panic);
                resume_unwind(panic)
            }
        }
    }
}
