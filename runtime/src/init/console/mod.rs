//! The console exporter: each finished trace printed as a waterfall, the default when no
//! exporter is configured.
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

mod waterfall;

use std::fmt;
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::terminal::colour_wanted;
use waterfall::render_trace;

/// Spans kept while their traces' roots are running; past this, the oldest traces are printed
/// unfinished.
const MAX_BUFFERED_SPANS: usize = 10_000;
/// A [`SpanExporter`] that prints each trace as a tree with a timeline: the spans of this
/// process, with their durations, statuses and key attributes.
///
/// A trace is printed at the end of the batch in which its local root (a span without a parent,
/// or whose parent is in another process) ended. A client and a server in one process make one
/// tree when their spans arrive in the same batch, as they do with the batch span processor.
/// Traces still buffered at flush or shutdown, or pushed out when the buffer is full, are
/// printed as they are and marked `incomplete`.
pub struct ConsoleExporter {
    colored: bool,
    state: Mutex<State>,
}

/// Where traces are printed, and the spans of those not printed yet.
struct State {
    out: Box<dyn Write + Send>,
    /// Unprinted spans per trace, oldest trace first.
    pending: Vec<(TraceId, Vec<SpanData>)>,
}

impl ConsoleExporter {
    /// Prints to stdout, in colour when stdout is a terminal and `NO_COLOR` is unset.
    pub fn new() -> Self {
        Self::with_writer(std::io::stdout(), colour_wanted(&std::io::stdout()))
    }

    /// Prints to `out`, with ANSI colours when `colored`.
    pub fn with_writer(out: impl Write + Send + 'static, colored: bool) -> Self {
        ConsoleExporter {
            colored,
            state: Mutex::new(State {
                out: Box::new(out),
                pending: Vec::new(),
            }),
        }
    }

    /// Prints every buffered trace, finished or not.
    fn print_all(&self) -> OTelSdkResult {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for (trace_id, spans) in std::mem::take(&mut state.pending) {
            state.print(trace_id, &spans, false, self.colored)?;
        }
        state.flush()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("colored", &self.colored)
            .finish_non_exhaustive()
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut finished = Vec::new();
        for span in batch {
            let trace_id = span.span_context.trace_id();
            if is_local_root(&span) && !finished.contains(&trace_id) {
                finished.push(trace_id);
            }
            state.buffer(span);
        }
        for trace_id in finished {
            if let Some(spans) = state.take(trace_id) {
                state.print(trace_id, &spans, true, self.colored)?;
            }
        }
        while state.buffered_spans() > MAX_BUFFERED_SPANS {
            let (trace_id, spans) = state.pending.remove(0);
            state.print(trace_id, &spans, false, self.colored)?;
        }
        state.flush()
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.print_all()
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.print_all()
    }
}

impl State {
    /// Adds a span to its trace's buffer.
    fn buffer(&mut self, span: SpanData) {
        let trace_id = span.span_context.trace_id();
        match self.pending.iter_mut().find(|(id, _)| *id == trace_id) {
            Some((_, spans)) => spans.push(span),
            None => self.pending.push((trace_id, vec![span])),
        }
    }

    /// Removes a trace's spans from the buffer.
    fn take(&mut self, trace_id: TraceId) -> Option<Vec<SpanData>> {
        let position = self.pending.iter().position(|(id, _)| *id == trace_id)?;
        Some(self.pending.remove(position).1)
    }

    /// The number of spans in the buffer.
    fn buffered_spans(&self) -> usize {
        self.pending.iter().map(|(_, spans)| spans.len()).sum()
    }

    /// Writes one trace.
    fn print(
        &mut self,
        trace_id: TraceId,
        spans: &[SpanData],
        complete: bool,
        colored: bool,
    ) -> OTelSdkResult {
        let text = render_trace(trace_id, spans, complete, colored);
        self.out.write_all(text.as_bytes()).map_err(write_error)
    }

    /// Flushes the writer.
    fn flush(&mut self) -> OTelSdkResult {
        self.out.flush().map_err(write_error)
    }
}

fn write_error(error: std::io::Error) -> OTelSdkError {
    OTelSdkError::InternalFailure(format!("console exporter: {error}"))
}

/// Whether the span is the first of its trace in this process: it has no parent, or its parent
/// is in another process.
fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use std::time::SystemTime;

    use opentelemetry::trace::{Event, SpanContext, SpanKind, Status, TraceFlags, TraceState};
    use opentelemetry::InstrumentationScope;
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

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

    /// `micros` after a fixed instant.
    fn at(micros: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_micros(micros)
    }

    /// An ended span of `TRACE`, from `start` to `end` microseconds.
    fn span(id: u64, parent: u64, name: &'static str, start: u64, end: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TRACE,
                SpanId::from_bytes(id.to_be_bytes()),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from_bytes(parent.to_be_bytes()),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: at(start),
            end_time: at(end),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        }
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

    fn export(exporter: &ConsoleExporter, batch: Vec<SpanData>) {
        run(exporter.export(batch)).unwrap();
    }

    /// Polls a future that never waits, as `ConsoleExporter::export` does not.
    fn run<F: std::future::Future>(future: F) -> F::Output {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("export waited"),
        }
    }

    /// Exports the batches to a plain exporter, then returns what it printed.
    fn printed(batches: Vec<Vec<SpanData>>) -> String {
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::with_writer(buffer.clone(), false);
        for batch in batches {
            export(&exporter, batch);
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
    fn waits_for_the_local_root() {
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::with_writer(buffer.clone(), false);
        let mut spans = payment_trace_in_end_order();
        let ended = spans.split_off(spans.len() - 2);
        export(&exporter, spans);
        assert_eq!(buffer.text(), "");
        // The server span's parent is remote, but the client in the same batch is its parent.
        export(&exporter, ended);
        let text = buffer.text();
        assert_eq!(text.matches("trace ").count(), 1);
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 15 spans · 25.0ms\n",
        );
        exporter.force_flush().unwrap();
        assert_eq!(
            buffer.text(),
            text,
            "the printed trace was dropped from the buffer"
        );
    }

    #[test]
    fn a_server_span_with_a_remote_parent_ends_the_trace() {
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
    fn flush_prints_incomplete_traces() {
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::with_writer(buffer.clone(), false);
        let (_client, mut rest) = payment_trace();
        rest.pop();
        export(&exporter, rest);
        assert_eq!(buffer.text(), "");
        exporter.force_flush().unwrap();
        let text = buffer.text();
        assert_contains(
            &text,
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 13 spans · 16.2ms · incomplete\n",
        );
        // Their parent has not ended: every span is a root.
        assert_contains(&text, "\nvalidate_payment ");
        assert_contains(&text, "\n… 6 more message spans ");
        exporter.shutdown().unwrap();
        assert_eq!(buffer.text(), text);
    }

    #[test]
    fn the_buffer_is_bounded() {
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::with_writer(buffer.clone(), false);
        let unfinished = |n: u64| {
            let mut child = span(n + 1, 1, "work", n, n + 1);
            child.span_context = SpanContext::new(
                TraceId::from_bytes(u128::from(n + 1).to_be_bytes()),
                child.span_context.span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            child
        };
        export(
            &exporter,
            (0..MAX_BUFFERED_SPANS as u64).map(unfinished).collect(),
        );
        assert_eq!(buffer.text(), "");
        export(&exporter, vec![unfinished(MAX_BUFFERED_SPANS as u64)]);
        assert!(buffer.text().starts_with(
            "trace 00000000000000000000000000000001 · 1 span · 0.00ms · incomplete\n"
        ));
        assert_eq!(buffer.text().matches("trace ").count(), 1);
    }

    #[test]
    fn colours_only_when_asked() {
        let (client, mut rest) = payment_trace();
        let server = rest.last_mut().unwrap();
        server.status = Status::error("card declined");
        let buffer = Buffer::default();
        let exporter = ConsoleExporter::with_writer(buffer.clone(), true);
        export(&exporter, rest.into_iter().chain([client]).collect());
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
