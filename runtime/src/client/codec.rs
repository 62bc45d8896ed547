//! The codec generated clients use: the user's codec, noting the annotated fields of each
//! request message while a traced call's request body is being written, and recording each
//! response message it decodes, with its fields, under the call's span.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry::{Context, KeyValue};
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::Status;

use crate::call_fields::record_message_fields;
use crate::decoder::{ReportDecoded, TracedDecoder};
use crate::messages::{record_message, Direction, MessageMode, MessageSize};
use crate::SpanAttributes;

/// Wraps the codec named by `codec_path` (prost's by default) in generated client code.
#[derive(Debug, Default)]
pub struct ClientCodec<C> {
    inner: C,
    link: CallLink,
}

impl<C> ClientCodec<C> {
    /// The link generated code puts in the call's request, for the layer to connect.
    pub fn call_link(&self) -> CallLink {
        self.link.clone()
    }
}

impl<C> Codec for ClientCodec<C>
where
    C: Codec,
    C::Encode: SpanAttributes,
    C::Decode: SpanAttributes,
{
    type Encode = C::Encode;
    type Decode = C::Decode;
    type Encoder = TracedEncoder<C::Encoder>;
    type Decoder = TracedDecoder<C::Decoder, CallLink>;

    fn encoder(&mut self) -> Self::Encoder {
        TracedEncoder {
            inner: self.inner.encoder(),
        }
    }

    fn decoder(&mut self) -> Self::Decoder {
        TracedDecoder::new(self.inner.decoder(), self.link.clone())
    }
}

/// Shared by one generated client call's codec and the layer: once the layer has connected it
/// to a recording call, the decoder records each response message under the call's span.
#[derive(Debug, Clone, Default)]
pub struct CallLink(Arc<OnceLock<LinkedCall>>);

#[derive(Debug)]
struct LinkedCall {
    rpc: Context,
    mode: MessageMode,
    /// Unary and client-streaming calls: the one response's fields go on the call's span.
    single_response: bool,
    received: AtomicU64,
}

impl CallLink {
    /// Connects the codec to the call whose span is in `rpc`.
    pub(crate) fn connect(&self, rpc: Context, mode: MessageMode, single_response: bool) {
        let _first_connection_wins = self.0.set(LinkedCall {
            rpc,
            mode,
            single_response,
            received: AtomicU64::new(0),
        });
    }
}

impl ReportDecoded for CallLink {
    fn decoded(&self, size: usize, message: &dyn SpanAttributes) {
        if let Some(call) = self.0.get() {
            let id = call.received.fetch_add(1, Ordering::Relaxed) + 1;
            if call.single_response && id == 1 {
                record_message_fields(&call.rpc, None, message);
            }
            record_message(
                &call.rpc,
                call.mode,
                Direction::Received,
                id,
                || MessageSize::Uncompressed(size),
                |attributes| message.record_attributes(attributes),
            );
        }
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
