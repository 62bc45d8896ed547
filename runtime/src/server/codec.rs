//! The codec generated servers use: the user's codec, plus a span or event for every request
//! message a streaming handler reads — wherever it reads them, in the handler or in a task it
//! spawned. The decoder finds its call through a [`CodecLink`] (see `codec_link`), so it
//! reports to its own call, not to whatever context is current where the stream is read.

use std::sync::atomic::{AtomicU64, Ordering};

use tonic::codec::Codec;

use crate::codec_link::CodecLink;
use crate::decoder::{ReportDecoded, TracedDecoder};
use crate::messages::{Direction, MessageSize, Messages};
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
        TracedDecoder::new(self.inner.decoder(), CallSlot(CodecLink::offer()))
    }
}

/// Where a request stream's decoder finds the RPC it belongs to, once the handler has started.
#[derive(Debug, Clone)]
pub struct CallSlot(pub(crate) CodecLink<ReceivedMessages>);

impl ReportDecoded for CallSlot {
    fn decoded(&self, size: usize, message: &dyn SpanAttributes) {
        if let Some(received) = self.0.call() {
            received.record(size, message);
        }
    }
}

/// The RPC a request stream belongs to: how its messages are recorded, its metrics.
#[derive(Debug)]
pub(crate) struct ReceivedMessages {
    messages: Messages,
    metrics: CallMetrics,
    count: AtomicU64,
}

impl ReceivedMessages {
    pub(crate) fn new(messages: Messages, metrics: CallMetrics) -> Self {
        ReceivedMessages {
            messages,
            metrics,
            count: AtomicU64::new(0),
        }
    }

    /// Counts a decoded message, and records it when the RPC is sampled.
    fn record(&self, size: usize, message: &dyn SpanAttributes) {
        self.metrics.received(size);
        let id = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        self.messages.record(
            Direction::Received,
            id,
            || MessageSize::Uncompressed(size),
            |sink| message.record_attributes(sink),
        );
    }
}
