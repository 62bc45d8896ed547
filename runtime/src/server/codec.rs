//! The codec generated servers use: the user's codec, plus a span or event for every request
//! message a streaming handler reads — wherever it reads them, in the handler or in a task it
//! spawned.
//!
//! tonic makes the request stream's decoder, then calls the handler, in one poll of one task:
//! the decoder leaves its [`CallSlot`] in a thread-local, and the traced handler, which starts
//! right away, takes it and puts its RPC there. The decoder then reports to its own call, not
//! to whatever context is current where the stream is read.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use opentelemetry::Context;
use tonic::codec::Codec;

use crate::decoder::{ReportDecoded, TracedDecoder};
use crate::messages::{record_message, Direction, MessageMode, MessageSize};
use crate::metrics::CallMetrics;
use crate::SpanAttributes;

/// Wraps the codec named by `codec_path` (prost's by default) in generated server code.
#[derive(Debug, Default)]
pub struct ServerCodec<C> {
    inner: C,
}

impl<C> Codec for ServerCodec<C>
where
    C: Codec,
    C::Decode: SpanAttributes,
{
    type Encode = C::Encode;
    type Decode = C::Decode;
    type Encoder = C::Encoder;
    type Decoder = TracedDecoder<C::Decoder, CallSlot>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        let slot = CallSlot::default();
        NEW_DECODER.with(|new| *new.borrow_mut() = Some(slot.clone()));
        TracedDecoder::new(self.inner.decoder(), slot)
    }
}

thread_local! {
    /// The slot of the decoder made last on this thread, until its handler takes it.
    static NEW_DECODER: RefCell<Option<CallSlot>> = const { RefCell::new(None) };
}

/// Where a request stream's decoder finds the RPC it belongs to, once the handler has started.
#[derive(Debug, Clone, Default)]
pub struct CallSlot(Arc<OnceLock<ReceivedMessages>>);

impl CallSlot {
    /// The slot of the decoder tonic just made for the request of the handler starting now.
    pub(crate) fn take_new() -> Option<CallSlot> {
        NEW_DECODER.with(|new| new.borrow_mut().take())
    }

    /// Connects the decoder to its RPC.
    pub(crate) fn connect(&self, received: ReceivedMessages) {
        let _first_connection_wins = self.0.set(received);
    }
}

impl ReportDecoded for CallSlot {
    fn decoded(&self, size: usize, message: &dyn SpanAttributes) {
        if let Some(received) = self.0.get() {
            received.record(size, message);
        }
    }
}

/// The RPC a request stream belongs to: its span, how messages are recorded, its metrics.
#[derive(Debug)]
pub(crate) struct ReceivedMessages {
    rpc: Context,
    mode: MessageMode,
    metrics: CallMetrics,
    count: AtomicU64,
}

impl ReceivedMessages {
    pub(crate) fn new(rpc: Context, mode: MessageMode, metrics: CallMetrics) -> Self {
        ReceivedMessages {
            rpc,
            mode,
            metrics,
            count: AtomicU64::new(0),
        }
    }

    /// Counts a decoded message, and records it when the RPC is sampled.
    fn record(&self, size: usize, message: &dyn SpanAttributes) {
        self.metrics.received(size);
        let id = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        record_message(
            &self.rpc,
            self.mode,
            Direction::Received,
            id,
            || MessageSize::Uncompressed(size),
            |attributes| message.record_attributes(attributes),
        );
    }
}
