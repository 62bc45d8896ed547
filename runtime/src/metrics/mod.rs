//! RPC metrics, recorded for every call (sampled or not) when its span ends: duration, request
//! and response bytes, and messages per call, named as the semantic-convention mode says.
//!
//! Default (old conventions): `rpc.{server,client}.duration` (ms),
//! `rpc.{server,client}.{request,response}.size` (bytes per RPC) and
//! `rpc.{server,client}.{requests,responses}_per_rpc`, with `rpc.system`, `rpc.service`,
//! `rpc.method` and `rpc.grpc.status_code`. Stable (`OTEL_SEMCONV_STABILITY_OPT_IN=rpc`):
//! `rpc.{server,client}.call.duration` (s) with `rpc.system.name`, the fully-qualified
//! `rpc.method`, `rpc.status_code`, on failure `error.type` and, on the client,
//! `server.address` and `server.port`. `rpc/dup`: both.
//! No attribute names a caller or anything else without a bound. Sampled calls also hand their
//! durations to the configuration's [`ExemplarSink`], if it has one.

mod exemplar_sink;
mod instruments;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::SpanContext;
use tonic::Code;

use crate::client::server_target::ServerTarget;
pub use exemplar_sink::{ExemplarSeries, ExemplarSink, HistogramSeries};
use instruments::FinishedCall;
pub(crate) use instruments::Instruments;

/// Which end of the call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    Server,
    Client,
}

impl Side {
    /// The kind of this side's RPC span.
    pub(crate) fn span_kind(self) -> opentelemetry::trace::SpanKind {
        match self {
            Side::Server => opentelemetry::trace::SpanKind::Server,
            Side::Client => opentelemetry::trace::SpanKind::Client,
        }
    }
}

#[derive(Debug, Default)]
struct Direction {
    messages: AtomicU64,
    bytes: AtomicU64,
}

impl Direction {
    fn add(&self, bytes: usize) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn totals(&self) -> (u64, u64) {
        (
            self.messages.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// What the RPC metrics need of one call, from its start: its method, its start time and the
/// messages and bytes it moved each way, counted by whichever part of the call sees them (the
/// request body, the response stream, the decoder), each holding a clone. Empty when metrics
/// are off: such a call allocates nothing, reads no clock and counts nothing.
#[derive(Debug, Clone)]
pub(crate) struct CallMetrics(Option<Arc<Measured>>);

#[derive(Debug)]
struct Measured {
    instruments: &'static Instruments,
    side: Side,
    service: Cow<'static, str>,
    method: Cow<'static, str>,
    full_name: Cow<'static, str>,
    /// The server a client called, for the stable client duration.
    server: Option<ServerTarget>,
    started: Instant,
    sent: Direction,
    received: Direction,
}

impl CallMetrics {
    /// Starts timing a call of `service`/`method` (`full_name` is `service/method`) for
    /// `instruments`; `None` when metrics are off.
    pub(crate) fn start(
        instruments: Option<&'static Instruments>,
        side: Side,
        service: Cow<'static, str>,
        method: Cow<'static, str>,
        full_name: Cow<'static, str>,
    ) -> Self {
        CallMetrics(instruments.map(|instruments| {
            Arc::new(Measured {
                instruments,
                side,
                service,
                method,
                full_name,
                server: None,
                started: Instant::now(),
                sent: Direction::default(),
                received: Direction::default(),
            })
        }))
    }

    /// The server a client's call goes to, which its stable duration series names.
    pub(crate) fn with_server(mut self, server: Option<ServerTarget>) -> Self {
        if let Some(measured) = self.0.as_mut().and_then(Arc::get_mut) {
            measured.server = server;
        }
        self
    }

    /// Whether the call is measured: metrics are on.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Counts a message this side wrote, of `bytes` before compression.
    pub(crate) fn sent(&self, bytes: usize) {
        if let Some(measured) = &self.0 {
            measured.sent.add(bytes);
        }
    }

    /// Counts a message this side read, of `bytes` before compression.
    pub(crate) fn received(&self, bytes: usize) {
        if let Some(measured) = &self.0 {
            measured.received.add(bytes);
        }
    }

    /// Records the finished call with its final status; `is_error` is the side's error rule,
    /// `sampled` the call's span when it was sampled (its durations' exemplar).
    pub(crate) fn record(&self, code: Code, is_error: bool, sampled: Option<&SpanContext>) {
        let Some(measured) = &self.0 else {
            return;
        };
        let (sent, received) = (measured.sent.totals(), measured.received.totals());
        let (requests, responses) = match measured.side {
            Side::Server => (received, sent),
            Side::Client => (sent, received),
        };
        measured.instruments.record(&FinishedCall {
            side: measured.side,
            service: &measured.service,
            method: &measured.method,
            full_name: &measured.full_name,
            server: measured.server.as_ref(),
            code,
            is_error,
            seconds: measured.started.elapsed().as_secs_f64(),
            requests,
            responses,
            sampled: sampled.map(|span| (span.trace_id(), span.span_id())),
        });
    }
}
