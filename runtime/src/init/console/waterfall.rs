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
enum Node {
    Span(usize),
    Folded(Fold),
}

/// Message spans folded away under one parent, with the spans that go with them.
#[derive(Default)]
struct Fold {
    /// The hidden message spans.
    messages: usize,
    /// Every hidden span: the messages, the spans of the work that followed each of them,
    /// and all their descendants.
    spans: Vec<usize>,
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
    for kids in &mut children {
        kids.sort_by_key(by_start);
    }
    let mut lines = Vec::new();
    let mut stack: Vec<(Node, Branch)> = fold_messages(&roots, spans, &children)
        .into_iter()
        .rev()
        .map(|node| (node, Branch::default()))
        .collect();
    while let Some((node, branch)) = stack.pop() {
        let i = match node {
            Node::Span(i) => i,
            Node::Folded(fold) => {
                lines.push(Line::Row(Row::folded(&fold, spans, &branch, timeline)));
                continue;
            }
        };
        let span = &spans[i];
        let kids = fold_messages(&children[i], spans, &children);
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

/// The children to print, in start order: all but the message spans after the first few of
/// each direction, which are folded into one summary node where the first of them would be.
///
/// A hidden message takes with it its descendants, and the work that followed it: the
/// `INTERNAL` spans under the same parent that start after it and before the next message
/// (message spans are never a parent, so a handler's `#[tracing::instrument]` span for the
/// message it just read is the message's sibling). Client and server spans and spans that
/// ended in error stay shown.
fn fold_messages(children: &[usize], spans: &[SpanData], tree: &[Vec<usize>]) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut fold = Fold::default();
    // Where the fold goes: the position of the first hidden message.
    let mut fold_at = None;
    // Each direction's first messages are shown: a bidi stream shows some of both.
    let (mut sent, mut received) = (0, 0);
    // Whether the last message before the current child was hidden.
    let mut after_hidden = false;
    for &i in children {
        let span = &spans[i];
        let shown = match span.name.as_ref() {
            "message SENT" => &mut sent,
            "message RECEIVED" => &mut received,
            _ => {
                let goes_with_message = after_hidden
                    && span.span_kind == SpanKind::Internal
                    && !matches!(span.status, Status::Error { .. });
                if goes_with_message {
                    fold.add_subtree(i, tree);
                } else {
                    nodes.push(Node::Span(i));
                }
                continue;
            }
        };
        *shown += 1;
        after_hidden = *shown > MESSAGE_SPANS_SHOWN;
        if after_hidden {
            fold_at.get_or_insert(nodes.len());
            fold.messages += 1;
            fold.add_subtree(i, tree);
        } else {
            nodes.push(Node::Span(i));
        }
    }
    if let Some(at) = fold_at {
        nodes.insert(at, Node::Folded(fold));
    }
    nodes
}

impl Fold {
    /// Hides span `i` and its descendants.
    fn add_subtree(&mut self, i: usize, tree: &[Vec<usize>]) {
        let mut pending = vec![i];
        while let Some(i) = pending.pop() {
            self.spans.push(i);
            pending.extend(&tree[i]);
        }
    }
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
    matches!(key, "rpc.grpc.status_code" | "rpc.status_code")
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

    /// The summary line of message spans folded away, with the time they and the spans
    /// hidden with them cover: `… 7 more message spans`, then `and 7 spans with them` when
    /// other spans were hidden too.
    fn folded(fold: &Fold, spans: &[SpanData], branch: &Branch, timeline: &Timeline) -> Self {
        let hidden = || fold.spans.iter().map(|&i| &spans[i]);
        let start = hidden().map(|span| span.start_time).min();
        let start = start.unwrap_or(timeline.start);
        let end = hidden().map(|span| span.end_time).max().unwrap_or(start);
        let mut name = format!("… {}", plural(fold.messages, "more message span"));
        let others = fold.spans.len() - fold.messages;
        if others > 0 {
            name.push_str(&format!(" and {} with them", plural(others, "span")));
        }
        Row {
            tree: branch.glyph.clone(),
            name,
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
            ("rpc.status_code", value) => Some(clean(&value.to_string())),
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

    use super::*;

    const TRACE: TraceId =
        TraceId::from_bytes(0x0af7651916cd43dd8448eb211c80319c_u128.to_be_bytes());

    /// An ended INTERNAL span of `TRACE`, from `start` to `end` microseconds.
    fn span(id: u64, parent: u64, name: &str, start: u64, end: u64) -> SpanData {
        super::super::test_spans::span(TRACE, id, parent, name, start, end)
    }

    /// A SERVER span, id 1, from 0 to 10 ms.
    fn server() -> SpanData {
        let mut server = span(1, 0, "files.FileService/Upload", 0, 10_000);
        server.span_kind = SpanKind::Server;
        server
    }

    /// Each printed row's tree glyphs and name, and its offset, without the other columns or
    /// the detail lines.
    fn rows(spans: &[SpanData]) -> Vec<String> {
        render_trace(TRACE, spans, true, false)
            .lines()
            .skip(1)
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                let name_at = line.find(|c| !" │├└─".contains(c))?;
                let (tree, rest) = line.split_at(name_at);
                let name = rest.split("  ").next()?;
                let offset = rest.split_whitespace().find(|c| c.starts_with('+'))?;
                Some(format!("{tree}{name} {offset}"))
            })
            .collect()
    }

    #[test]
    fn the_fold_line_is_where_the_first_hidden_message_is_in_time() {
        // A client stream: five chunks received, then the summary sent, spans in end order.
        let mut spans = vec![span(8, 1, "message SENT", 7_000, 7_010)];
        for n in 0..5 {
            let start = 1_000 + n * 1_000;
            spans.push(span(2 + n, 1, "message RECEIVED", start, start + 10));
        }
        spans.push(server());
        assert_eq!(
            rows(&spans),
            [
                "files.FileService/Upload +0ms",
                "├─ message RECEIVED +1.0ms",
                "├─ message RECEIVED +2.0ms",
                "├─ message RECEIVED +3.0ms",
                "├─ … 2 more message spans +4.0ms",
                "└─ message SENT +7.0ms",
            ]
        );
    }

    #[test]
    fn a_hidden_message_is_folded_with_the_work_that_followed_it_and_its_children() {
        // Each chunk received, then a `#[tracing::instrument]` span storing it (with a child
        // of its own), a sibling of the message as handlers make them; then a client call to
        // another service, a failed step and the summary sent.
        let mut spans = vec![server()];
        for n in 0..5 {
            let start = 1_000 + n * 1_000;
            let message = 10 + n * 10;
            spans.push(span(message, 1, "message RECEIVED", start, start + 10));
            spans.push(span(
                message + 1,
                1,
                "store_chunk",
                start + 100,
                start + 600,
            ));
            spans.push(span(
                message + 2,
                message + 1,
                "write",
                start + 200,
                start + 500,
            ));
        }
        // A span under the last message itself, which a custom tracer could make.
        spans.push(span(100, 50, "decode", 5_010, 5_020));
        let mut registry = span(101, 1, "registry.Registry/Lookup", 5_700, 5_800);
        registry.span_kind = SpanKind::Client;
        let mut failed = span(102, 1, "check_quota", 5_850, 5_900);
        failed.status = Status::error("over quota");
        spans.extend([registry, failed, span(103, 1, "message SENT", 7_000, 7_010)]);
        let shown = rows(&spans);
        assert_eq!(
            shown,
            [
                "files.FileService/Upload +0ms",
                "├─ message RECEIVED +1.0ms",
                "├─ store_chunk +1.1ms",
                "│  └─ write +1.2ms",
                "├─ message RECEIVED +2.0ms",
                "├─ store_chunk +2.1ms",
                "│  └─ write +2.2ms",
                "├─ message RECEIVED +3.0ms",
                "├─ store_chunk +3.1ms",
                "│  └─ write +3.2ms",
                "├─ … 2 more message spans and 5 spans with them +4.0ms",
                "├─ registry.Registry/Lookup +5.7ms",
                "├─ check_quota +5.9ms",
                "└─ message SENT +7.0ms",
            ],
        );
        // The fold line covers the hidden spans' time: from the fourth message to the end of
        // the last hidden `store_chunk`.
        let text = render_trace(TRACE, &spans, true, false);
        let fold = text.lines().find(|line| line.contains('…')).unwrap();
        assert!(fold.contains(" +4.0ms   1.6ms "), "{fold}");
    }

    #[test]
    fn a_fold_with_no_other_span_says_only_the_messages() {
        let mut spans = vec![server()];
        for n in 0..8 {
            let name = if n % 2 == 0 {
                "message RECEIVED"
            } else {
                "message SENT"
            };
            spans.push(span(2 + n, 1, name, 1_000 + n * 100, 1_050 + n * 100));
        }
        let shown = rows(&spans);
        assert_eq!(shown.len(), 8, "{shown:#?}");
        assert_eq!(shown[7], "└─ … 2 more message spans +1.6ms");
    }
}
