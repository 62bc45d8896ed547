//! One span or event per streamed message, with the semantic conventions' message attributes
//! and the message's own annotated fields.

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::config;
use crate::keys;
use crate::limits::MessageBudget;
use crate::SpanAttributes;

/// How streamed messages appear in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageMode {
    /// A child span of the RPC span per message (the default for streams).
    Spans,
    /// An event named `message` on the RPC span per message.
    Events,
    /// Nothing per message (the default for unary calls).
    Off,
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

/// Records message number `id` (1-based per direction) of the RPC whose span is in `rpc`,
/// with the attributes `fields` adds. Does nothing, and reads no field, when the RPC span is
/// not recording.
pub(crate) fn record_message(
    rpc: &Context,
    mode: MessageMode,
    direction: Direction,
    id: u64,
    size: impl FnOnce() -> MessageSize,
    fields: impl FnOnce(&mut Vec<KeyValue>),
) {
    if mode == MessageMode::Off || !rpc.span().is_recording() || !MessageBudget::take(rpc) {
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
    fields(&mut attributes);
    match mode {
        MessageMode::Spans => {
            let builder = SpanBuilder::from_name(direction.span_name())
                .with_kind(SpanKind::Internal)
                .with_attributes(attributes);
            config::active().tracer.record(builder, rpc);
        }
        MessageMode::Events => rpc.span().add_event("message", attributes),
        MessageMode::Off => {}
    }
}
