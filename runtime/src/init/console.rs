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
//!    ├─ message RECEIVED                            +10.0ms  0.20ms              ▇
//!    └─ … 9 more message spans                      +11.0ms   8.2ms               ▇▇▇▇▇▇▇▇▇▇
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tonic::Code;

use super::terminal::colour_wanted;
use crate::status::code_name;

/// Spans kept while their traces' roots are running; past this, the oldest traces are printed
/// unfinished.
const MAX_BUFFERED_SPANS: usize = 10_000;
/// Columns of the timeline bar.
const BAR_WIDTH: usize = 30;
/// Message spans shown under one parent; the rest are summarised in one line.
const MESSAGE_SPANS_SHOWN: usize = 3;
/// Events shown under one span; the rest are summarised in one line.
const EVENTS_SHOWN: usize = 5;

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

/// The text of one trace: a header, then its spans as a tree, then a blank line.
fn render_trace(trace_id: TraceId, spans: &[SpanData], complete: bool, colored: bool) -> String {
    let timeline = Timeline::of(spans);
    let style = Style { colored };
    let mut header = format!(
        "trace {trace_id} · {} · {}",
        plural(spans.len(), "span"),
        format_duration(timeline.total),
    );
    if !complete {
        header.push_str(" · incomplete");
    }
    let mut text = style.paint(&header, BOLD);
    text.push('\n');
    let lines = tree_lines(spans, &timeline);
    let widths = Widths::of(&lines);
    for line in &lines {
        let rendered = match line {
            Line::Row(row) => row.render(&widths, &style),
            Line::Detail { tree, text } => {
                format!("{}{}", style.paint(tree, DIM), style.paint(text, DIM))
            }
        };
        text.push_str(rendered.trim_end());
        text.push('\n');
    }
    text.push('\n');
    text
}

/// The time a trace covers, from its first span's start to its last span's end.
struct Timeline {
    start: SystemTime,
    total: Duration,
}

impl Timeline {
    fn of(spans: &[SpanData]) -> Self {
        let start = spans.iter().map(|span| span.start_time).min();
        let start = start.unwrap_or(SystemTime::UNIX_EPOCH);
        let end = spans
            .iter()
            .map(|span| span.end_time)
            .max()
            .unwrap_or(start);
        Timeline {
            start,
            total: end.duration_since(start).unwrap_or_default(),
        }
    }

    /// Time from the trace's start to `time`, zero for times before it.
    fn offset(&self, time: SystemTime) -> Duration {
        time.duration_since(self.start).unwrap_or_default()
    }

    /// The bar of an interval: at least one cell, placed in proportion to the trace's time.
    fn bar(&self, start: SystemTime, end: SystemTime) -> String {
        let (from, to) = (self.offset(start), self.offset(end));
        let total = self.total.as_secs_f64();
        let (first, last) = if total > 0.0 {
            let scale = BAR_WIDTH as f64 / total;
            let first = ((from.as_secs_f64() * scale).round() as usize).min(BAR_WIDTH - 1);
            let last = (to.as_secs_f64() * scale).round() as usize;
            (first, last.clamp(first + 1, BAR_WIDTH))
        } else {
            (0, 1)
        };
        (0..BAR_WIDTH)
            .map(|cell| {
                if (first..last).contains(&cell) {
                    '▇'
                } else {
                    ' '
                }
            })
            .collect()
    }
}

/// A node of the printed tree: a span, or a summary of message spans folded away.
enum Node<'a> {
    Span(usize),
    Folded(Vec<&'a SpanData>),
}

/// The glyphs drawn before a node's name, and before its details and children; none for roots.
#[derive(Default)]
struct Branch {
    glyph: String,
    lead: String,
}

impl Branch {
    fn child(&self, last: bool) -> Self {
        let (glyph, lead) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        Branch {
            glyph: format!("{}{glyph}", self.lead),
            lead: format!("{}{lead}", self.lead),
        }
    }
}

/// One printed line under the header.
enum Line {
    Row(Row),
    /// Attributes or an event, under the span's name.
    Detail {
        tree: String,
        text: String,
    },
}

/// The lines of a trace's tree, depth first, children in start order. Spans whose parent is
/// not in `spans` are extra roots.
fn tree_lines(spans: &[SpanData], timeline: &Timeline) -> Vec<Line> {
    let index: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, span)| (span.span_context.span_id(), i))
        .collect();
    let mut roots = Vec::new();
    let mut children = vec![Vec::new(); spans.len()];
    for (i, span) in spans.iter().enumerate() {
        match index.get(&span.parent_span_id) {
            Some(&parent) if parent != i && span.parent_span_id != SpanId::INVALID => {
                children[parent].push(i)
            }
            _ => roots.push(i),
        }
    }
    let by_start = |&i: &usize| spans[i].start_time;
    roots.sort_by_key(by_start);
    let mut lines = Vec::new();
    let mut stack: Vec<(Node, Branch)> = fold_messages(&roots, spans)
        .into_iter()
        .rev()
        .map(|node| (node, Branch::default()))
        .collect();
    while let Some((node, branch)) = stack.pop() {
        let i = match node {
            Node::Span(i) => i,
            Node::Folded(folded) => {
                lines.push(Line::Row(Row::folded(&folded, &branch, timeline)));
                continue;
            }
        };
        let span = &spans[i];
        children[i].sort_by_key(by_start);
        let kids = fold_messages(&children[i], spans);
        lines.push(Line::Row(Row::span(span, &branch, timeline)));
        let tree = format!(
            "{}{}",
            branch.lead,
            if kids.is_empty() { "   " } else { "│  " }
        );
        lines.extend(
            details(span, timeline)
                .into_iter()
                .map(|text| Line::Detail {
                    tree: tree.clone(),
                    text,
                }),
        );
        let count = kids.len();
        for (k, kid) in kids.into_iter().enumerate().rev() {
            stack.push((kid, branch.child(k + 1 == count)));
        }
    }
    lines
}

/// The children to print: all but the message spans after the first few, which become one
/// summary node at the end.
fn fold_messages<'a>(children: &[usize], spans: &'a [SpanData]) -> Vec<Node<'a>> {
    let mut nodes = Vec::new();
    let mut folded = Vec::new();
    let mut messages = 0;
    for &i in children {
        if is_message(&spans[i]) {
            messages += 1;
            if messages > MESSAGE_SPANS_SHOWN {
                folded.push(&spans[i]);
                continue;
            }
        }
        nodes.push(Node::Span(i));
    }
    if !folded.is_empty() {
        nodes.push(Node::Folded(folded));
    }
    nodes
}

/// Whether the span is one of the per-message spans of a stream.
fn is_message(span: &SpanData) -> bool {
    span.name == "message SENT" || span.name == "message RECEIVED"
}

/// The detail lines of a span: its key attributes, then its events.
fn details(span: &SpanData, timeline: &Timeline) -> Vec<String> {
    let mut lines = Vec::new();
    let attributes = format_attributes(span.attributes.iter().filter(|kv| is_key_attribute(kv)));
    if !attributes.is_empty() {
        lines.push(attributes);
    }
    for event in span.events.iter().take(EVENTS_SHOWN) {
        let offset = format_duration(timeline.offset(event.timestamp));
        let attributes = format_attributes(&event.attributes);
        let line = format!("• {} +{offset} {attributes}", clean(&event.name));
        lines.push(line.trim_end().to_owned());
    }
    let hidden = span.events.len().saturating_sub(EVENTS_SHOWN);
    if hidden > 0 {
        lines.push(format!("… {}", plural(hidden, "more event")));
    }
    lines
}

/// Whether an attribute is worth a line: the gRPC status code, or anything that is not one of
/// the RPC, network and server attributes every call has (the user's annotated fields).
fn is_key_attribute(attribute: &KeyValue) -> bool {
    let key = attribute.key.as_str();
    matches!(key, "rpc.grpc.status_code" | "rpc.response.status_code")
        || !["rpc.", "network.", "server."]
            .iter()
            .any(|prefix| key.starts_with(prefix))
}

/// `key=value` pairs separated by spaces.
fn format_attributes<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> String {
    attributes
        .into_iter()
        .map(|kv| format!("{}={}", clean(kv.key.as_str()), format_value(&kv.value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as printed: strings quoted only when they would be ambiguous or unprintable.
fn format_value(value: &Value) -> String {
    match value {
        Value::String(text) => {
            let text = text.as_str();
            let plain = !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
            if plain {
                text.to_owned()
            } else {
                format!("{text:?}")
            }
        }
        other => clean(&other.to_string()),
    }
}

/// The text with control characters (newlines, escape sequences) replaced by spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A duration in milliseconds, with fewer decimals as it grows; seconds past ten.
fn format_duration(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if duration.is_zero() {
        "0ms".to_owned()
    } else if ms < 1.0 {
        format!("{ms:.2}ms")
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.1}s", ms / 1000.0)
    }
}

/// `1 span`, `2 spans`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// How a row is emphasised.
enum Tone {
    Normal,
    Error,
    Folded,
}

/// The columns of a span's line.
struct Row {
    tree: String,
    name: String,
    kind: &'static str,
    offset: String,
    duration: String,
    bar: String,
    status: String,
    tone: Tone,
}

impl Row {
    fn span(span: &SpanData, branch: &Branch, timeline: &Timeline) -> Self {
        let (status, tone) = match &span.status {
            Status::Error { description } if description.is_empty() => {
                ("ERROR".to_owned(), Tone::Error)
            }
            Status::Error { description } => {
                (format!("ERROR: {}", clean(description)), Tone::Error)
            }
            Status::Ok => ("OK".to_owned(), Tone::Normal),
            Status::Unset => (grpc_code(span).unwrap_or_default(), Tone::Normal),
        };
        let duration = span
            .end_time
            .duration_since(span.start_time)
            .unwrap_or_default();
        Row {
            tree: branch.glyph.clone(),
            name: clean(&span.name),
            kind: kind_label(&span.span_kind),
            offset: format!("+{}", format_duration(timeline.offset(span.start_time))),
            duration: format_duration(duration),
            bar: timeline.bar(span.start_time, span.end_time),
            status,
            tone,
        }
    }

    /// The summary line of message spans folded away, with the time they cover.
    fn folded(spans: &[&SpanData], branch: &Branch, timeline: &Timeline) -> Self {
        let start = spans.iter().map(|span| span.start_time).min();
        let start = start.unwrap_or(timeline.start);
        let end = spans
            .iter()
            .map(|span| span.end_time)
            .max()
            .unwrap_or(start);
        Row {
            tree: branch.glyph.clone(),
            name: format!("… {}", plural(spans.len(), "more message span")),
            kind: "",
            offset: format!("+{}", format_duration(timeline.offset(start))),
            duration: format_duration(end.duration_since(start).unwrap_or_default()),
            bar: timeline.bar(start, end),
            status: String::new(),
            tone: Tone::Folded,
        }
    }

    fn render(&self, widths: &Widths, style: &Style) -> String {
        let name_pad = widths.name - self.tree.chars().count() - self.name.chars().count();
        let (name_style, bar_style, status_style) = match self.tone {
            Tone::Normal => (BOLD, CYAN, ""),
            Tone::Error => (BOLD_RED, RED, RED),
            Tone::Folded => (DIM, DIM, ""),
        };
        format!(
            "{}{}{}  {:kind$}  {}  {:>duration$}  {}  {}",
            style.paint(&self.tree, DIM),
            style.paint(&self.name, name_style),
            " ".repeat(name_pad),
            self.kind,
            style.paint(&format!("{:>w$}", self.offset, w = widths.offset), DIM),
            self.duration,
            style.paint(&self.bar, bar_style),
            style.paint(&self.status, status_style),
            kind = widths.kind,
            duration = widths.duration,
        )
    }
}

/// The gRPC status name from the span's status code attribute, old or stable conventions.
fn grpc_code(span: &SpanData) -> Option<String> {
    span.attributes
        .iter()
        .find_map(|kv| match (kv.key.as_str(), &kv.value) {
            ("rpc.grpc.status_code", Value::I64(code)) => {
                let code = i32::try_from(*code).map_or(Code::Unknown, Code::from_i32);
                Some(code_name(code).to_owned())
            }
            ("rpc.response.status_code", value) => Some(clean(&value.to_string())),
            _ => None,
        })
}

/// `SERVER`, `CLIENT`, … and nothing for `INTERNAL`, the kind of most spans.
fn kind_label(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "SERVER",
        SpanKind::Client => "CLIENT",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "",
    }
}

/// The widths of the aligned columns, from the widest value in each.
struct Widths {
    name: usize,
    kind: usize,
    offset: usize,
    duration: usize,
}

impl Widths {
    fn of(lines: &[Line]) -> Self {
        let rows = || {
            lines.iter().filter_map(|line| match line {
                Line::Row(row) => Some(row),
                Line::Detail { .. } => None,
            })
        };
        let widest = |width: fn(&Row) -> usize| rows().map(width).max().unwrap_or(0);
        Widths {
            name: widest(|row| row.tree.chars().count() + row.name.chars().count()),
            kind: widest(|row| row.kind.len()),
            offset: widest(|row| row.offset.len()),
            duration: widest(|row| row.duration.len()),
        }
    }
}

const BOLD: &str = "1";
const BOLD_RED: &str = "1;31";
const DIM: &str = "2";
const RED: &str = "31";
const CYAN: &str = "36";

/// ANSI styling, or none.
struct Style {
    colored: bool,
}

impl Style {
    /// The text in the given SGR style; unchanged when not coloured or the style is empty.
    fn paint(&self, text: &str, sgr: &str) -> String {
        if self.colored && !sgr.is_empty() && !text.is_empty() {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::trace::{Event, SpanContext, TraceFlags, TraceState};
    use opentelemetry::InstrumentationScope;
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
            "│  rpc.grpc.status_code=0",
            "└─ payment.PaymentService/ProcessPayment  SERVER   +1.2ms  22.5ms   ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇    OK",
            "   │  rpc.grpc.status_code=0 payment.amount=99.99 payment.currency=USD customer.note=\"first order\"",
            "   ├─ validate_payment                             +3.0ms   4.1ms      ▇▇▇▇▇                       OK",
            "   │     • card verified +5.0ms card.network=visa",
            "   ├─ message RECEIVED                             +8.0ms  0.20ms            ▇",
            "   ├─ message SENT                                 +9.0ms  0.20ms             ▇",
            "   ├─ message RECEIVED                            +10.0ms  0.20ms              ▇",
            "   └─ … 9 more message spans                      +11.0ms   8.2ms               ▇▇▇▇▇▇▇▇▇▇",
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
            "\npayment.PaymentService/ProcessPayment  SERVER    +0ms  22.5ms",
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
        assert_contains(&text, "\n… 9 more message spans ");
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
