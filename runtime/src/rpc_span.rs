//! The span of one RPC, SERVER or CLIENT: its context, and how it ends.

use std::any::Any;
use std::time::Instant;

use opentelemetry::trace::{Status as SpanStatus, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use tonic::Code;

use crate::call_info::CallEnd;
use crate::call_sink::CallSink;
use crate::config::Active;
use crate::error_details::detail_attributes;
use crate::keys;
use crate::messages::{Messages, TracedMessage};
use crate::metadata::{self, MetadataCapture};
use crate::metrics::{CallMetrics, Side};
use crate::status::code_name;

/// A started RPC span, with what the call records besides: its metrics, its messages and the
/// configuration it started under. Ending it records the status the semantic conventions ask
/// for; dropping it unended means the caller went away: `DEADLINE_EXCEEDED` past the
/// deadline, else `CANCELLED`.
pub(crate) struct RpcSpan {
    pub(crate) cx: Context,
    pub(crate) metrics: CallMetrics,
    pub(crate) messages: Messages,
    pub(crate) config: &'static Active,
    /// Whether the span in `cx` records, asked once: it does until it ends.
    pub(crate) recording: bool,
    side: Side,
    deadline: Option<Instant>,
    is_error: fn(Code) -> bool,
    ended: bool,
}

/// What an [`RpcSpan`] ends by: its side, the caller's deadline, and which final codes are
/// errors.
pub(crate) struct Ending {
    pub(crate) side: Side,
    pub(crate) deadline: Option<Instant>,
    pub(crate) is_error: fn(Code) -> bool,
}

impl RpcSpan {
    /// The span in `cx` of a call under `config`, ending as `ending` says.
    pub(crate) fn new(
        cx: Context,
        config: &'static Active,
        metrics: CallMetrics,
        messages: Messages,
        ending: Ending,
    ) -> Self {
        RpcSpan {
            recording: cx.span().is_recording(),
            cx,
            metrics,
            messages,
            config,
            side: ending.side,
            deadline: ending.deadline,
            is_error: ending.is_error,
            ended: false,
        }
    }

    /// The encoded size of `message` when the metrics or the message records need it, else 0
    /// (without encoding anything).
    #[inline]
    pub(crate) fn size_of<M: TracedMessage + ?Sized>(&self, message: &M) -> usize {
        if self.metrics.is_on() || self.messages.is_on() {
            message.encoded_size()
        } else {
            0
        }
    }

    /// Records the keys `capture` picks of `headers`, sent or received `direction`.
    pub(crate) fn record_metadata(
        &self,
        capture: &MetadataCapture,
        direction: metadata::Direction,
        headers: &http::HeaderMap,
    ) {
        capture.record(&self.cx, direction, headers, &self.config.fields);
    }

    /// Records the response metadata (headers, or an error's trailers) that the
    /// configuration has servers record.
    pub(crate) fn record_server_response(&self, metadata: &tonic::metadata::MetadataMap) {
        let capture = &self.config.server_metadata;
        self.record_metadata(capture, metadata::Direction::Response, metadata.as_ref());
    }

    /// Ends the span with the final gRPC status. A call cancelled after its deadline passed
    /// ended because of the deadline: tonic reports an expired `grpc-timeout` as `CANCELLED`.
    pub(crate) fn end(&mut self, code: Code, message: &str) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let code = if code == Code::Cancelled && self.deadline_passed() {
            Code::DeadlineExceeded
        } else {
            code
        };
        let span = self.cx.span();
        // A non-recording span has nothing to end; on the unsampled fast paths it is the
        // caller's, not this call's.
        let recording = self.recording;
        let sampled = recording && span.span_context().is_sampled();
        self.metrics.record(
            code,
            (self.is_error)(code),
            sampled.then(|| span.span_context()),
        );
        if !recording {
            return;
        }
        let semconv = self.config.semconv;
        if semconv.old {
            span.set_attribute(KeyValue::new(keys::RPC_GRPC_STATUS_CODE, code as i64));
        }
        if semconv.stable {
            span.set_attribute(KeyValue::new(keys::RPC_STATUS_CODE, code_name(code)));
        }
        let mut summary = Vec::new();
        self.messages.summary(&mut summary);
        if !summary.is_empty() {
            span.set_attributes(summary);
        }
        if (self.is_error)(code) {
            if semconv.stable {
                span.set_attribute(KeyValue::new(keys::ERROR_TYPE, code_name(code)));
            }
            let description = if message.is_empty() {
                code_name(code).to_owned()
            } else {
                self.config.fields.limited(message).to_owned()
            };
            span.add_event(
                "exception",
                vec![
                    KeyValue::new(keys::EXCEPTION_TYPE, code_name(code)),
                    KeyValue::new(keys::EXCEPTION_MESSAGE, description.clone()),
                ],
            );
            span.set_status(SpanStatus::error(description));
        }
        if let Some(hook) = &self.config.call_attributes {
            let mut attributes = Vec::new();
            let call = CallEnd {
                side: self.side,
                code,
                message,
            };
            let mut sink = CallSink {
                attributes: &mut attributes,
                values: &self.config.fields,
            };
            hook.on_end(&call, &mut sink);
            span.set_attributes(attributes);
        }
        span.end();
    }

    /// Ends the span with `status`, recording what its error details say when it has any.
    pub(crate) fn end_with_status(&mut self, status: &tonic::Status) {
        if !self.ended && !status.details().is_empty() && self.recording {
            let limit = self.config.fields.length_limit;
            let details = detail_attributes(status.details(), limit);
            self.cx.span().set_attributes(details);
        }
        self.end(status.code(), status.message());
    }

    /// Ends the span of a handler that panicked: an error with the panic message, recorded as
    /// `INTERNAL`, the status a panic-catching layer answers with.
    pub(crate) fn end_with_panic(&mut self, payload: &(dyn Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("handler panicked");
        let is_error = std::mem::replace(&mut self.is_error, |_| true);
        self.end(Code::Internal, &format!("handler panicked: {message}"));
        self.is_error = is_error;
    }
}

impl RpcSpan {
    /// Whether the caller's deadline has passed.
    pub(crate) fn deadline_passed(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }
}

impl Drop for RpcSpan {
    fn drop(&mut self) {
        if !self.ended {
            self.end(Code::Cancelled, "the call was dropped before it completed");
        }
    }
}
