//! The codec generated servers use: the user's codec, plus a span or event for every request
//! message a streaming handler reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::Context;
use tonic::codec::Codec;

use crate::decoder::{ReportDecoded, TracedDecoder};
use crate::messages::{record_message, Direction, MessageMode, MessageSize};
use crate::metrics::MessageTally;
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
    type Decoder = TracedDecoder<C::Decoder, CurrentCall>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        TracedDecoder::new(self.inner.decoder(), CurrentCall)
    }
}

/// Reports decoded request messages to the streaming RPC whose context is current.
#[derive(Debug, Clone, Copy)]
pub struct CurrentCall;

impl ReportDecoded for CurrentCall {
    fn decoded(&self, size: usize, message: &dyn SpanAttributes) {
        ReceivedMessages::record(size, message);
    }
}

/// Put in the context of a client-streaming or bidi handler: the request stream is decoded
/// while the handler polls it, so the decoder finds the RPC here.
pub(crate) struct ReceivedMessages {
    rpc: Context,
    mode: MessageMode,
    tally: Arc<MessageTally>,
    count: AtomicU64,
}

impl ReceivedMessages {
    pub(crate) fn new(rpc: Context, mode: MessageMode, tally: Arc<MessageTally>) -> Self {
        ReceivedMessages {
            rpc,
            mode,
            tally,
            count: AtomicU64::new(0),
        }
    }

    /// Counts a decoded message, and records it when the current context belongs to a
    /// sampled streaming RPC.
    fn record(size: usize, message: &dyn SpanAttributes) {
        Context::map_current(|cx| {
            if let Some(received) = cx.get::<ReceivedMessages>() {
                received.tally.received(size);
                let id = received.count.fetch_add(1, Ordering::Relaxed) + 1;
                record_message(
                    &received.rpc,
                    received.mode,
                    Direction::Received,
                    id,
                    || MessageSize::Uncompressed(size),
                    |attributes| message.record_attributes(attributes),
                );
            }
        });
    }
}
