//! How an RPC records its messages: one span or event per message, with the semantic
//! conventions' message attributes and the message's own annotated fields, or only their
//! counts and bytes per direction on the RPC span.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue};

use crate::call_sink::CallSink;
use crate::config::Active;
use crate::keys;
use crate::SpanAttributes;

/// How streamed messages appear in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageMode {
    /// A child span of the RPC span per message (the default for streams).
    Spans,
    /// An event named `message` on the RPC span per message.
    Events,
    /// Nothing per message: the RPC span counts the messages and their bytes each way
    /// (`tonic_traced.messages.sent`, `.received`, `.sent_bytes`, `.received_bytes`, and
    /// `.sent_compressed_bytes` / `.received_compressed_bytes` for messages whose size is known
    /// only compressed), and a response stream is polled without the span's context. For long
    /// streams.
    Totals,
    /// Nothing per message (the default for unary calls).
    Off,
}

impl MessageMode {
    /// Whether a response stream is polled with the RPC span's context current: in every mode
    /// but `Totals`, which leaves out everything it can per message.
    pub(crate) fn polls_in_context(self) -> bool {
        self != MessageMode::Totals
    }
}

/// Which way a message travelled, as `rpc.message.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Written by this side.
    Sent,
    /// Read by this side.
    Received,
}

impl Direction {
    /// The attribute keys of this direction's totals: messages, uncompressed bytes, and
    /// compressed bytes of the messages whose uncompressed size is not known.
    fn total_keys(self) -> [&'static str; 3] {
        match self {
            Direction::Sent => [
                "tonic_traced.messages.sent",
                "tonic_traced.messages.sent_bytes",
                "tonic_traced.messages.sent_compressed_bytes",
            ],
            Direction::Received => [
                "tonic_traced.messages.received",
                "tonic_traced.messages.received_bytes",
                "tonic_traced.messages.received_compressed_bytes",
            ],
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "SENT",
            Direction::Received => "RECEIVED",
        }
    }

    fn span_name(self) -> &'static str {
        match self {
            Direction::Sent => "message SENT",
            Direction::Received => "message RECEIVED",
        }
    }
}

/// A message that can be recorded: its annotated fields and its encoded size.
pub trait TracedMessage: SpanAttributes {
    /// The message's size on the wire before compression, in bytes.
    fn encoded_size(&self) -> usize;
}

impl<T: SpanAttributes + prost::Message> TracedMessage for T {
    fn encoded_size(&self) -> usize {
        self.encoded_len()
    }
}

/// A message's size, as known where it is observed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MessageSize {
    /// Encoded, before compression: `rpc.message.uncompressed_size`.
    Uncompressed(usize),
    /// Only the compressed size is on the wire: `rpc.message.compressed_size`.
    Compressed(usize),
}

/// How one RPC records its messages: shared by every part of the call that sees one (the
/// request body or decoder, the response stream or body), so each message costs no lookup.
/// Empty when no message is recorded: mode `Off`, or the RPC span not recording.
#[derive(Clone, Default)]
pub(crate) struct Messages(Option<Arc<MessageLog>>);

/// The recording RPC's messages: its span, its tracer and what is left of its budget.
struct MessageLog {
    rpc: Context,
    mode: MessageMode,
    config: &'static Active,
    /// Messages this RPC may still record, both directions together.
    left: AtomicU64,
    /// Messages the budget left out.
    unrecorded: AtomicU64,
    /// Mode `Totals`: what went each way, sent first.
    totals: [Totals; 2],
}

/// The messages of one direction and their bytes. Each direction has one writer, the part of
/// the call that sees its messages, so a message costs loads and stores, not atomic updates.
#[derive(Default)]
struct Totals {
    messages: AtomicU64,
    /// Encoded bytes, before compression.
    bytes: AtomicU64,
    /// Of the messages whose uncompressed size is not known: how many, and their bytes.
    compressed_messages: AtomicU64,
    compressed_bytes: AtomicU64,
}

/// The attribute of an RPC span that counts its messages left unrecorded by the cap.
const UNRECORDED_MESSAGES: &str = "tonic_traced.messages.unrecorded";

impl Messages {
    /// The messages of the RPC whose span is in `rpc`, recorded as `mode` says, at most
    /// `limit` of them.
    pub(crate) fn new(
        rpc: &Context,
        mode: MessageMode,
        limit: u64,
        config: &'static Active,
    ) -> Self {
        if mode == MessageMode::Off || !rpc.span().is_recording() {
            return Messages(None);
        }
        Messages(Some(Arc::new(MessageLog {
            rpc: rpc.clone(),
            mode,
            config,
            left: AtomicU64::new(limit),
            unrecorded: AtomicU64::new(0),
            totals: Default::default(),
        })))
    }

    /// Whether messages are recorded, one by one or in totals: the mode is not `Off` and the
    /// RPC span records.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Whether each message is recorded with its fields: a span or an event per message.
    pub(crate) fn records_each(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|log| matches!(log.mode, MessageMode::Spans | MessageMode::Events))
    }

    /// Records message number `id` (1-based per direction), with the attributes `fields` adds;
    /// in mode `Totals` only counts it and its size. Does nothing, and reads no field, when no
    /// message is recorded or the RPC span has ended.
    #[inline]
    pub(crate) fn record(
        &self,
        direction: Direction,
        id: u64,
        size: impl FnOnce() -> MessageSize,
        fields: impl FnOnce(&mut CallSink<'_>),
    ) {
        let Some(log) = &self.0 else {
            return;
        };
        if log.mode == MessageMode::Totals {
            log.totals[direction as usize].add(size());
        } else {
            log.record(direction, id, size, fields);
        }
    }

    /// Adds what the RPC span says of its messages when it ends: in mode `Totals` the counts
    /// and bytes each way, else how many messages the cap left out, if any.
    pub(crate) fn summary(&self, attributes: &mut Vec<KeyValue>) {
        let Some(log) = &self.0 else {
            return;
        };
        if log.mode == MessageMode::Totals {
            for direction in [Direction::Sent, Direction::Received] {
                log.totals[direction as usize].summary(direction, attributes);
            }
            return;
        }
        let unrecorded = log.unrecorded.load(Ordering::Relaxed);
        if unrecorded > 0 {
            attributes.push(KeyValue::new(
                Key::from_static_str(UNRECORDED_MESSAGES),
                unrecorded as i64,
            ));
        }
    }
}

impl Totals {
    /// Counts a message of `size`.
    #[inline]
    fn add(&self, size: MessageSize) {
        let bump = |counter: &AtomicU64, by: u64| {
            counter.store(counter.load(Ordering::Relaxed) + by, Ordering::Relaxed);
        };
        bump(&self.messages, 1);
        match size {
            MessageSize::Uncompressed(size) => bump(&self.bytes, size as u64),
            MessageSize::Compressed(size) => {
                bump(&self.compressed_messages, 1);
                bump(&self.compressed_bytes, size as u64);
            }
        }
    }

    /// The attributes of `direction`'s totals: the messages, their uncompressed bytes unless
    /// none had a known uncompressed size, and the compressed bytes of those that had not.
    fn summary(&self, direction: Direction, attributes: &mut Vec<KeyValue>) {
        let [messages_key, bytes_key, compressed_key] = direction.total_keys();
        let messages = self.messages.load(Ordering::Relaxed);
        let compressed = self.compressed_messages.load(Ordering::Relaxed);
        attributes.push(KeyValue::new(messages_key, messages as i64));
        if compressed < messages || messages == 0 {
            let bytes = self.bytes.load(Ordering::Relaxed);
            attributes.push(KeyValue::new(bytes_key, bytes as i64));
        }
        if compressed > 0 {
            let bytes = self.compressed_bytes.load(Ordering::Relaxed);
            attributes.push(KeyValue::new(compressed_key, bytes as i64));
        }
    }
}

impl MessageLog {
    /// Records message number `id` as a span or an event, with its size and fields, if the
    /// RPC span still records and the cap allows.
    #[inline(never)]
    fn record(
        &self,
        direction: Direction,
        id: u64,
        size: impl FnOnce() -> MessageSize,
        fields: impl FnOnce(&mut CallSink<'_>),
    ) {
        if !self.rpc.span().is_recording() || !self.take() {
            return;
        }
        let size = match size() {
            MessageSize::Uncompressed(size) => {
                KeyValue::new(keys::RPC_MESSAGE_UNCOMPRESSED_SIZE, size as i64)
            }
            MessageSize::Compressed(size) => {
                KeyValue::new(keys::RPC_MESSAGE_COMPRESSED_SIZE, size as i64)
            }
        };
        let mut attributes = Vec::with_capacity(8);
        attributes.extend([
            KeyValue::new(keys::RPC_MESSAGE_TYPE, direction.as_str()),
            KeyValue::new(keys::RPC_MESSAGE_ID, id as i64),
            size,
        ]);
        fields(&mut CallSink {
            attributes: &mut attributes,
            values: &self.config.fields,
        });
        match self.mode {
            MessageMode::Spans => {
                // The attributes moved in as they are: `with_attributes` would collect them
                // again, and is not always inlined.
                let mut builder = SpanBuilder::from_name(direction.span_name());
                builder.span_kind = Some(SpanKind::Internal);
                builder.attributes = Some(attributes);
                self.config.tracer.record(builder, &self.rpc);
            }
            MessageMode::Events => self.rpc.span().add_event("message", attributes),
            MessageMode::Totals | MessageMode::Off => {}
        }
    }

    /// Whether one more message may be recorded; counts it as unrecorded if not.
    fn take(&self) -> bool {
        let taken = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if !taken {
            self.unrecorded.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("mode", &self.0.as_ref().map(|log| log.mode))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(sizes: &[MessageSize]) -> Vec<(String, i64)> {
        let totals = Totals::default();
        for &size in sizes {
            totals.add(size);
        }
        let mut attributes = Vec::new();
        totals.summary(Direction::Sent, &mut attributes);
        attributes
            .into_iter()
            .map(|kv| match kv.value {
                opentelemetry::Value::I64(value) => (kv.key.to_string(), value),
                other => panic!("{other:?} is not an integer"),
            })
            .collect()
    }

    fn expected(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs
            .iter()
            .map(|(key, value)| (format!("tonic_traced.messages.{key}"), *value))
            .collect()
    }

    #[test]
    fn totals_give_compressed_bytes_only_for_messages_of_unknown_size() {
        use MessageSize::{Compressed, Uncompressed};
        assert_eq!(summary(&[]), expected(&[("sent", 0), ("sent_bytes", 0)]));
        assert_eq!(
            summary(&[Uncompressed(10), Uncompressed(5)]),
            expected(&[("sent", 2), ("sent_bytes", 15)])
        );
        assert_eq!(
            summary(&[Compressed(7), Compressed(3)]),
            expected(&[("sent", 2), ("sent_compressed_bytes", 10)])
        );
        assert_eq!(
            summary(&[Uncompressed(10), Compressed(4)]),
            expected(&[
                ("sent", 2),
                ("sent_bytes", 10),
                ("sent_compressed_bytes", 4)
            ])
        );
    }
}
