//! The codec generated clients use: the user's codec, noting the annotated fields of each
//! request message while a traced call's request body is being written.

use std::collections::VecDeque;
use std::sync::Mutex;

use opentelemetry::{Context, KeyValue};
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::Status;

use crate::SpanAttributes;

/// Wraps the codec named by `codec_path` (prost's by default) in generated client code.
#[derive(Debug, Default)]
pub struct ClientCodec<C> {
    inner: C,
}

impl<C> Codec for ClientCodec<C>
where
    C: Codec,
    C::Encode: SpanAttributes,
{
    type Encode = C::Encode;
    type Decode = C::Decode;
    type Encoder = TracedEncoder<C::Encoder>;
    type Decoder = C::Decoder;

    fn encoder(&mut self) -> Self::Encoder {
        TracedEncoder {
            inner: self.inner.encoder(),
        }
    }

    fn decoder(&mut self) -> Self::Decoder {
        self.inner.decoder()
    }
}

/// Encodes like the wrapped encoder and hands each message's attributes to the traced call.
#[derive(Debug)]
pub struct TracedEncoder<E> {
    inner: E,
}

impl<E> Encoder for TracedEncoder<E>
where
    E: Encoder<Error = Status>,
    E::Item: SpanAttributes,
{
    type Item = E::Item;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        SentFields::note(&item);
        self.inner.encode(item, dst)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}

/// Put in the context a sampled call's request body is written under: the encoder leaves each
/// message's attributes here, and the body takes them as it finds each message's frame.
#[derive(Debug, Default)]
pub(crate) struct SentFields(Mutex<VecDeque<Vec<KeyValue>>>);

impl SentFields {
    fn note(message: &dyn SpanAttributes) {
        Context::map_current(|cx| {
            if let Some(fields) = cx.get::<SentFields>() {
                let mut attributes = Vec::new();
                message.record_attributes(&mut attributes);
                if let Ok(mut queue) = fields.0.lock() {
                    queue.push_back(attributes);
                }
            }
        });
    }

    /// The attributes of the next message written, if the encoder noted them.
    pub(crate) fn next(&self) -> Vec<KeyValue> {
        self.0
            .lock()
            .ok()
            .and_then(|mut queue| queue.pop_front())
            .unwrap_or_default()
    }
}
