//! The console exporter: each trace printed as a waterfall as soon as its spans in this process
//! have ended, the default when no exporter is configured.
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736 · 15 spans · 25.0ms
//! payment.PaymentService/ProcessPayment     CLIENT     +0ms  25.0ms  ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇  OK
//! │  rpc.grpc.status_code=0
//! └─ payment.PaymentService/ProcessPayment  SERVER   +1.2ms  22.5ms   ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇    OK
//!    │  rpc.grpc.status_code=0 payment.amount=99.99 payment.currency=USD
//!    ├─ validate_payment                             +3.0ms   4.1ms      ▇▇▇▇▇                       OK
//!    ├─ message RECEIVED                             +8.0ms  0.20ms            ▇
//!    ├─ message SENT                                 +9.0ms  0.20ms             ▇
//!    ├─ …
//!    └─ … 6 more message spans                      +14.0ms   5.2ms                   ▇▇▇▇▇▇
//! ```

mod output;
#[cfg(test)]
mod test_spans;
mod waterfall;

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{Span as _, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::config::{ConfigError, ConsoleOutput};
pub(crate) use output::ConsoleWriter;
use waterfall::render_trace;

/// Ended spans kept while other spans of their traces run; past this, the trace buffered
/// longest is printed unfinished.
const MAX_BUFFERED_SPANS: usize = 10_000;

/// A [`SpanProcessor`] that prints each trace as a tree with a timeline as soon as its last
/// span in this process ends: the spans of this process, with their durations, statuses and
/// key attributes. A client and a server in one process make one tree. Past the first 3
/// message spans of each direction under one parent, the rest are folded into one line placed
/// where the first of them falls in time, together with the spans of the work that followed
/// each hidden message (`… 7 more message spans and 7 spans with them`).
///
/// Only sampled spans are printed. The trace is rendered and written on the thread that ends
/// its last span, in one piece, to stderr unless told otherwise. Traces still running at
/// flush or shutdown, or pushed out when too many ended spans wait, are printed as they are and
/// marked `incomplete`.
pub struct ConsoleProcessor {
    out: ConsoleWriter,
    traces: Mutex<RunningTraces>,
    /// Whether printing failed once already.
    print_failed: AtomicBool,
}

/// The traces with spans running in this process.
#[derive(Default)]
struct RunningTraces {
    by_id: HashMap<TraceId, RunningTrace>,
    /// Ended spans held, across traces.
    buffered_spans: usize,
    /// Traces seen so far, to tell the oldest.
    started: u64,
}

/// A trace with spans running in this process.
struct RunningTrace {
    /// Its spans started and not yet ended.
    running: usize,
    /// Its spans ended and not yet printed.
    ended: Vec<SpanData>,
    /// When it was first seen, in [`RunningTraces::started`].
    order: u64,
    /// Whether part of it was printed already.
    partly_printed: bool,
}

/// Spans of one trace to print.
struct Printout {
    trace_id: TraceId,
    spans: Vec<SpanData>,
    complete: bool,
}

impl ConsoleProcessor {
    /// Prints to stderr, in colour when stderr is a terminal and `NO_COLOR` is unset.
    pub fn new() -> Self {
        Self::to(&ConsoleOutput::Stderr).expect("stderr needs no opening")
    }

    /// Prints where `output` says; fails when its file cannot be opened for appending.
    /// Coloured when printing to a terminal and `NO_COLOR` is unset in the environment.
    pub fn to(output: &ConsoleOutput) -> Result<Self, ConfigError> {
        Self::configured(output, no_color_in_environment())
    }

    /// Like [`to`](Self::to), with `NO_COLOR` as `init()` read it.
    pub(crate) fn configured(output: &ConsoleOutput, no_color: bool) -> Result<Self, ConfigError> {
        Ok(Self::from_writer(ConsoleWriter::open(output, no_color)?))
    }

    /// Prints to `out`, with ANSI colours when `colored`.
    pub fn with_writer(out: impl Write + Send + 'static, colored: bool) -> Self {
        Self::from_writer(ConsoleWriter::writer(out, colored))
    }

    fn from_writer(out: ConsoleWriter) -> Self {
        ConsoleProcessor {
            out,
            traces: Mutex::new(RunningTraces::default()),
            print_failed: AtomicBool::new(false),
        }
    }

    /// Notes a span of `trace_id` started.
    fn started(&self, trace_id: TraceId) {
        self.lock().started(trace_id);
    }

    /// Takes an ended span; prints its trace when no span of it runs here any more.
    fn ended(&self, span: SpanData) -> OTelSdkResult {
        let printouts = self.lock().ended(span);
        self.print(printouts)
    }

    /// Prints every buffered trace, finished or not.
    fn print_all(&self) -> OTelSdkResult {
        let printouts = self.lock().take_all();
        self.print(printouts)
    }

    /// Logs the first failure to print; later ones would say the same.
    fn warn_once(&self, error: OTelSdkError) {
        if !self.print_failed.swap(true, Ordering::Relaxed) {
            tracing::warn!("{error}; later traces may not print either");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RunningTraces> {
        self.traces.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes the traces, each in one piece.
    fn print(&self, printouts: Vec<Printout>) -> OTelSdkResult {
        for Printout {
            trace_id,
            spans,
            complete,
        } in printouts
        {
            let text = render_trace(trace_id, &spans, complete, self.out.colored());
            self.out.write_block(&text).map_err(|error| {
                OTelSdkError::InternalFailure(format!("console exporter: {error}"))
            })?;
        }
        Ok(())
    }
}

/// `NO_COLOR` as the process's environment has it, for a processor built outside `init()`
/// (which reads it through its lookup).
fn no_color_in_environment() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

impl Default for ConsoleProcessor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ConsoleProcessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleProcessor")
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

impl SpanProcessor for ConsoleProcessor {
    fn on_start(&self, span: &mut Span, _cx: &Context) {
        let context = span.span_context();
        if context.is_sampled() {
            self.started(context.trace_id());
        }
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            if let Err(error) = self.ended(span) {
                self.warn_once(error);
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.print_all()
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.print_all()
    }
}

impl RunningTraces {
    fn started(&mut self, trace_id: TraceId) {
        let next = &mut self.started;
        let trace = self.by_id.entry(trace_id).or_insert_with(|| {
            *next += 1;
            RunningTrace {
                running: 0,
                ended: Vec::new(),
                order: *next,
                partly_printed: false,
            }
        });
        trace.running += 1;
    }

    /// Buffers the span; returns its trace if that has no span running any more, and the
    /// oldest trace if too many spans are buffered.
    fn ended(&mut self, span: SpanData) -> Vec<Printout> {
        let trace_id = span.span_context.trace_id();
        let Some(trace) = self.by_id.get_mut(&trace_id) else {
            // Started before this processor saw it: print it on its own.
            return vec![Printout {
                trace_id,
                spans: vec![span],
                complete: false,
            }];
        };
        trace.ended.push(span);
        trace.running = trace.running.saturating_sub(1);
        self.buffered_spans += 1;
        if trace.running == 0 {
            let trace = self.by_id.remove(&trace_id).expect("found above");
            self.buffered_spans -= trace.ended.len();
            return vec![Printout {
                trace_id,
                complete: !trace.partly_printed,
                spans: trace.ended,
            }];
        }
        if self.buffered_spans > MAX_BUFFERED_SPANS {
            return self.take_oldest().into_iter().collect();
        }
        Vec::new()
    }

    /// The ended spans of the trace seen first among those holding any.
    fn take_oldest(&mut self) -> Option<Printout> {
        let trace_id = self
            .by_id
            .iter()
            .filter(|(_, trace)| !trace.ended.is_empty())
            .min_by_key(|(_, trace)| trace.order)
            .map(|(&trace_id, _)| trace_id)?;
        Some(self.take(trace_id))
    }

    /// The ended spans of every trace, in the order the traces were seen.
    fn take_all(&mut self) -> Vec<Printout> {
        let mut waiting: Vec<(u64, TraceId)> = self
            .by_id
            .iter()
            .filter(|(_, trace)| !trace.ended.is_empty())
            .map(|(&trace_id, trace)| (trace.order, trace_id))
            .collect();
        waiting.sort_unstable_by_key(|&(order, _)| order);
        waiting
            .into_iter()
            .map(|(_, trace_id)| self.take(trace_id))
            .collect()
    }

    /// The ended spans of a trace, marked incomplete; the trace stays to count its running
    /// spans.
    fn take(&mut self, trace_id: TraceId) -> Printout {
        let trace = self.by_id.get_mut(&trace_id).expect("a running trace");
        let spans = std::mem::take(&mut trace.ended);
        trace.partly_printed = true;
        self.buffered_spans -= spans.len();
        Printout {
            trace_id,
            spans,
            complete: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::trace::{Event, SpanContext, SpanKind, Status, TraceFlags, TraceState};
    use opentelemetry::KeyValue;

    use super::test_spans::at;
    use super::*;

    const TRACE: TraceId =
        TraceId::from_bytes(0x4bf92f3577b34da6a3ce929d0e0e4736_u128.to_be_bytes());
    const CHARGE: &str = "payment.PaymentService/ProcessPayment";

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// An ended INTERNAL span of `TRACE`, from `start` to `end` microseconds.
    fn span(id: u64, parent: u64, name: &str, start: u64, end: u64) -> SpanData {
        super::test_spans::span(TRACE, id, parent, name, start, end)
    }

    fn rpc_attributes(code: i64) -> Vec<KeyValue> {
        vec![
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", "payment.PaymentService"),
            KeyValue::new("rpc.method", "ProcessPayment"),
            KeyValue::new("rpc.grpc.status_code", code),
        ]
    }

    /// The test trace, children first as the SDK exports it: a client call, the server span
    /// with its annotated fields, a child, and twelve message spans. Returns (client, rest).
    fn payment_trace() -> (SpanData, Vec<SpanData>) {
        let mut client = span(1, 0, CHARGE, 0, 25_000);
        client.span_kind = SpanKind::Client;
        client.attributes = rpc_attributes(0);
        client
            .attributes
            .push(KeyValue::new("server.address", "127.0.0.1"));

        let mut server = span(2, 1, CHARGE, 1_200, 23_700);
        server.span_kind = SpanKind::Server;
        server.parent_span_is_remote = true;
        server.attributes = rpc_attributes(0);
        server.attributes.extend([
            KeyValue::new("network.peer.address", "127.0.0.1"),
            KeyValue::new("payment.amount", 99.99),
            KeyValue::new("payment.currency", "USD"),
            KeyValue::new("customer.note", "first order"),
        ]);

        let mut validate = span(3, 2, "validate_payment", 3_000, 7_100);
        validate.status = Status::Ok;
        validate.events.events.push(Event::new(
            "card verified",
            at(5_000),
            vec![KeyValue::new("card.network", "visa")],
            0,
        ));

        let mut rest = Vec::new();
        for n in 0..12 {
            let name = if n % 2 == 0 {
                "message RECEIVED"
            } else {
                "message SENT"
            };
            let start = 8_000 + n * 1_000;
            let mut message = span(10 + n, 2, name, start, start + 200);
            message.attributes = vec![
                KeyValue::new("rpc.message.type", &name[8..]),
                KeyValue::new("rpc.message.id", n as i64 / 2 + 1),
            ];
            rest.push(message);
        }
        rest.insert(0, validate);
        rest.push(server);
        (client, rest)
    }

    /// The test trace in the order the SDK exports it, children first.
    fn payment_trace_in_end_order() -> Vec<SpanData> {
        let (client, mut rest) = payment_trace();
        rest.push(client);
        rest
    }

    /// Starts every span, then ends them in order, as spans reach the processor.
    fn start_and_end(processor: &ConsoleProcessor, spans: Vec<SpanData>) {
        for span in &spans {
            processor.started(span.span_context.trace_id());
        }
        for span in spans {
            processor.ended(span).unwrap();
        }
    }

    /// What a plain processor printed for each group of spans started and ended.
    fn printed(groups: Vec<Vec<SpanData>>) -> String {
        let buffer = Buffer::default();
        let processor = ConsoleProcessor::with_writer(buffer.clone(), false);
        for spans in groups {
            start_and_end(&processor, spans);
        }
        buffer.text()
    }

    #[track_caller]
    fn assert_contains(text: &str, expected: &str) {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }

    #[test]
    fn prints_a_finished_trace_as_a_waterfall() {
        let text = printed(vec![payment_trace_in_end_order()]);
        let expected = [
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 15 spans · 25.0ms",
            "payment.PaymentService/ProcessPayment     CLIENT     +0ms  25.0ms  ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇  OK",
            "│  rpc.grpc.status_code=0 server.address=127.0.0.1",
            "└─ payment.PaymentService/ProcessPayment  SERVER   +1.2ms  22.5ms   ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇    OK",
            "   │  rpc.grpc.status_code=0 payment.amount=99.99 payment.currency=USD customer.note=\"first order\"",
            "   ├─ validate_payment                             +3.0ms   4.1ms      ▇▇▇▇▇                       OK",
            "   │     • card verified +5.0ms card.network=visa",
            "   ├─ message RECEIVED                             +8.0ms  0.20ms            ▇",
            "   ├─ message SENT                                 +9.0ms  0.20ms             ▇",
            "   ├─ message RECEIVED                            +10.0ms  0.20ms              ▇",
            "   ├─ message SENT                                +11.0ms  0.20ms               ▇",
            "   ├─ message RECEIVED                            +12.0ms  0.20ms                ▇",
            "   ├─ message SENT                                +13.0ms  0.20ms                  ▇",
            "   └─ … 6 more message spans                      +14.0ms   5.2ms                   ▇▇▇▇▇▇",
            "",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn prints_when_the_last_span_here_ends() {
        let buffer = Buffer::default();
        let processor = ConsoleProcessor::with_writer(buffer.clone(), false);
        let mut spans = payment_trace_in_end_order();
        for span in &spans {
            processor.started(span.span_context.trace_id());
        }
        let last = spans.split_off(spans.len() - 2);
        for span in spans {
            processor.ended(span).unwrap();
        }
        assert_eq!(buffer.text(), "", "printed while the server and client ran");
        // The server span's parent is remote, but the client here is its parent.
        for span in last {
            processor.ended(span).unwrap();
        }
        let text = buffer.text();
        assert_eq!(text.matches("trace ").count(), 1);
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 15 spans · 25.0ms\n",
        );
        processor.force_flush().unwrap();
        assert_eq!(buffer.text(), text, "the printed trace stayed buffered");
    }

    #[test]
    fn a_server_span_with_a_remote_parent_is_a_root() {
        let (_client, rest) = payment_trace();
        let text = printed(vec![rest]);
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 14 spans · 22.5ms\n",
        );
        assert_contains(
            &text,
            "\npayment.PaymentService/ProcessPayment  SERVER     +0ms  22.5ms",
        );
    }

    #[test]
    fn flush_prints_running_traces_as_incomplete() {
        let buffer = Buffer::default();
        let processor = ConsoleProcessor::with_writer(buffer.clone(), false);
        let (_client, mut rest) = payment_trace();
        let server = rest.pop().unwrap();
        processor.started(TRACE);
        start_and_end(&processor, rest);
        assert_eq!(buffer.text(), "");
        processor.force_flush().unwrap();
        let text = buffer.text();
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 13 spans · 16.2ms · incomplete\n",
        );
        // Their parent has not ended: every span is a root.
        assert_contains(&text, "\nvalidate_payment ");
        assert_contains(&text, "\n… 6 more message spans ");
        processor.shutdown().unwrap();
        assert_eq!(buffer.text(), text);
        // The server span, ending late, is the rest of that trace.
        processor.ended(server).unwrap();
        let rest = &buffer.text()[text.len()..];
        assert!(
            rest.starts_with(
                "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 1 span · 22.5ms · incomplete\n"
            ),
            "{rest}"
        );
    }

    #[test]
    fn the_buffer_is_bounded() {
        let buffer = Buffer::default();
        let processor = ConsoleProcessor::with_writer(buffer.clone(), false);
        // Traces whose parent span keeps running, each with one ended child.
        for n in 0..=MAX_BUFFERED_SPANS as u64 {
            let mut child = span(n + 1, 1, "work", n, n + 1);
            let trace_id = TraceId::from_bytes(u128::from(n + 1).to_be_bytes());
            child.span_context = SpanContext::new(
                trace_id,
                child.span_context.span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            processor.started(trace_id);
            processor.started(trace_id);
            processor.ended(child).unwrap();
            if n < MAX_BUFFERED_SPANS as u64 {
                assert_eq!(buffer.text(), "");
            }
        }
        assert!(buffer.text().starts_with(
            "trace 00000000000000000000000000000001 · 1 span · 0.00ms · incomplete\n"
        ));
        assert_eq!(buffer.text().matches("trace ").count(), 1);
    }

    #[test]
    fn prints_through_the_sdk_at_once_and_only_sampled_spans() {
        use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
        use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

        let buffer = Buffer::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(ConsoleProcessor::with_writer(buffer.clone(), false))
            .with_sampler(Sampler::TraceIdRatioBased(0.5))
            .build();
        let tracer = provider.tracer("console-test");
        let mut printed_traces = 0;
        for _ in 0..40 {
            let root = tracer.start("root");
            let sampled = root.span_context().is_sampled();
            let cx = Context::current().with_span(root);
            let child = tracer.start_with_context("child", &cx);
            drop(child);
            let before = buffer.text();
            drop(cx);
            let after = buffer.text();
            if sampled {
                printed_traces += 1;
                let new = &after[before.len()..];
                assert!(new.starts_with("trace "), "{new:?}");
                assert_contains(new, " · 2 spans · ");
                assert_contains(new, "\n└─ child ");
            } else {
                assert_eq!(after, before, "an unsampled trace was printed");
            }
        }
        assert!(
            printed_traces > 0 && printed_traces < 40,
            "{printed_traces}"
        );
        assert_eq!(buffer.text().matches("trace ").count(), printed_traces);
        provider.shutdown().unwrap();
    }

    #[test]
    fn colours_only_when_asked() {
        let (client, mut rest) = payment_trace();
        let server = rest.last_mut().unwrap();
        server.status = Status::error("card declined");
        let buffer = Buffer::default();
        let processor = ConsoleProcessor::with_writer(buffer.clone(), true);
        start_and_end(&processor, rest.into_iter().chain([client]).collect());
        let text = buffer.text();
        assert_contains(
            &text,
            "\x1b[1;31mpayment.PaymentService/ProcessPayment\x1b[0m",
        );
        assert_contains(&text, "\x1b[31mERROR: card declined\x1b[0m");
        assert_contains(&text, "\x1b[1mvalidate_payment\x1b[0m");
        assert_contains(&text, "\x1b[2m +3.0ms\x1b[0m");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let mut orphan = span(7, 99, "orphan\x1b[31m\nname", 5_000, 5_000);
        orphan.status = Status::error("bad\x1b[0m\tthing");
        orphan.attributes = vec![
            KeyValue::new("note", "\x1b]0;title\x07"),
            KeyValue::new("rpc.grpc.status_code", i64::MAX),
        ];
        let mut early_child = span(8, 9, "early child", 1_000, 500);
        early_child.status = Status::error("");
        let parent = span(9, 0, "parent", 2_000, 3_000);
        let self_parent = span(10, 10, "own parent", 2_500, 2_500);
        let mut many_events = span(11, 9, "chatty", 2_000, 2_000);
        for n in 0..8 {
            many_events
                .events
                .events
                .push(Event::new("message", at(2_000 + n), Vec::new(), 0));
        }
        let text = printed(vec![
            Vec::new(),
            vec![orphan, early_child, self_parent, many_events, parent],
        ]);
        assert!(!text.contains('\x1b'));
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 5 spans · 4.0ms\n",
        );
        for expected in [
            "\nparent ",
            "\n├─ early child ",
            " ERROR\n",
            "\n      • message +1.0ms\n",
            "\n      … 3 more events\n",
            "\nown parent ",
            "\norphan [31m name ",
            " ERROR: bad [0m thing\n",
            "note=\"\\u{1b}]0;title\\u{7}\" rpc.grpc.status_code=9223372036854775807",
        ] {
            assert_contains(&text, expected);
        }
        let zero = span(1, 0, "instant", 0, 0);
        assert_contains(&printed(vec![vec![zero]]), "\ninstant    +0ms  0ms  ▇\n");
    }
}
