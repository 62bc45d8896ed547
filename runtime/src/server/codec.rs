//! The codec generated servers use: the user's codec, plus a span or event for every request
//! message a streaming handler reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::Context;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::Status;

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
    type Decoder = TracedDecoder<C::Decoder>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        TracedDecoder {
            inner: self.inner.decoder(),
        }
    }
}

/// Decodes like the wrapped decoder and reports each message to the RPC it belongs to.
#[derive(Debug)]
pub struct TracedDecoder<D> {
    inner: D,
}

impl<D> Decoder for TracedDecoder<D>
where
    D: Decoder<Error = Status>,
    D::Item: SpanAttributes,
{
    type Item = D::Item;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let size = bytes::Buf::remaining(src);
        let decoded = self.inner.decode(src)?;
        if let Some(message) = &decoded {
            ReceivedMessages::record(size, message);
        }
        Ok(decoded)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
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
