//! The waterfall the console exporter prints: one trace as a tree of its spans with a
//! timeline, durations, statuses and key attributes, message spans and events folded.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use tonic::Code;

use crate::status::code_name;

/// Columns of the timeline bar.
const BAR_WIDTH: usize = 30;
/// Message spans shown under one parent, each direction; the rest are summarised in one line.
const MESSAGE_SPANS_SHOWN: usize = 3;
/// Events shown under one span; the rest are summarised in one line.
const EVENTS_SHOWN: usize = 5;

/// The text of one trace: a header, then its spans as a tree, then a blank line.
pub(super) fn render_trace(
    trace_id: TraceId,
    spans: &[SpanData],
    complete: bool,
    colored: bool,
) -> String {
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
    // Each direction's first messages are shown: a bidi stream shows some of both.
    let (mut sent, mut received) = (0, 0);
    for &i in children {
        let shown = match spans[i].name.as_ref() {
            "message SENT" => &mut sent,
            "message RECEIVED" => &mut received,
            _ => {
                nodes.push(Node::Span(i));
                continue;
            }
        };
        *shown += 1;
        if *shown > MESSAGE_SPANS_SHOWN {
            folded.push(&spans[i]);
        } else {
            nodes.push(Node::Span(i));
        }
    }
    if !folded.is_empty() {
        nodes.push(Node::Folded(folded));
    }
    nodes
}

/// The detail lines of a span: its key attributes, then its events.
fn details(span: &SpanData, timeline: &Timeline) -> Vec<String> {
    let mut lines = Vec::new();
    // Where the call went (`server.*`) after what it was about.
    let (target, about): (Vec<&KeyValue>, Vec<&KeyValue>) = span
        .attributes
        .iter()
        .filter(|kv| is_key_attribute(kv))
        .partition(|kv| kv.key.as_str().starts_with("server."));
    let attributes = format_attributes(about.into_iter().chain(target));
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

/// The attributes of a status's error details and of captured metadata, shown although they
/// are `rpc.*`.
const SHOWN_RPC_PREFIXES: [&str; 8] = [
    "rpc.grpc.status_details.",
    "rpc.grpc.error_info.",
    "rpc.grpc.bad_request.",
    "rpc.grpc.retry_info.",
    "rpc.grpc.request.metadata.",
    "rpc.grpc.response.metadata.",
    "rpc.request.metadata.",
    "rpc.response.metadata.",
];

/// Whether an attribute is worth a line: the gRPC status code, error details, metadata, or
/// anything that is not one of the RPC, network and server attributes every call has (the
/// user's annotated fields).
fn is_key_attribute(attribute: &KeyValue) -> bool {
    let key = attribute.key.as_str();
    matches!(key, "rpc.grpc.status_code" | "rpc.response.status_code")
        || SHOWN_RPC_PREFIXES
            .iter()
            .any(|prefix| key.starts_with(prefix))
        || !["rpc.", "network."]
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
