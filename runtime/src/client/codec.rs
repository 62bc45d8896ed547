//! The codec generated clients use: the user's codec, noting the annotated fields of each
//! request message as it encodes it, and recording each response message it decodes, with its
//! fields, under the call's span. Both halves find the call through one [`CallLink`] (see
//! `codec_link`), which the client layer connects when the call is recorded.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use opentelemetry::{Context, KeyValue};
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::Status;

use crate::call_fields::{record_message_fields, RecordedFields};
use crate::call_sink::CallSink;
use crate::codec_link::CodecLink;
use crate::config::Active;
use crate::decoder::{ReportDecoded, TracedDecoder};
use crate::messages::{Direction, MessageSize, Messages};
use crate::SpanAttributes;

/// Wraps the codec named by `codec_path` (prost's by default) in generated client code.
#[derive(Debug, Default)]
pub struct ClientCodec<C> {
    inner: C,
    link: Option<CallLink>,
}

impl<C> ClientCodec<C> {
    /// The link of this codec's call: made, and offered to the call starting in this poll, by
    /// whichever half tonic makes first (the encoder).
    fn link(&mut self) -> CallLink {
        self.link
            .get_or_insert_with(|| CallLink(CodecLink::offer()))
            .clone()
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
            link: self.link(),
            inner: self.inner.encoder(),
        }
    }

    fn decoder(&mut self) -> Self::Decoder {
        TracedDecoder::new(self.inner.decoder(), self.link())
    }
}

/// Shared by one generated client call's codec and the layer: once the layer has connected it
/// to a recorded call, the encoder notes each request message's fields there and the decoder
/// records each response message under the call's span.
#[derive(Debug, Clone)]
pub struct CallLink(pub(crate) CodecLink<LinkedCall>);

/// Whether a call has a single request message, and a single response message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Single {
    pub(crate) request: bool,
    pub(crate) response: bool,
}

/// A recorded client call, as its codec sees it.
#[derive(Debug)]
pub(crate) struct LinkedCall {
    rpc: Context,
    config: &'static Active,
    messages: Messages,
    /// The keys of the annotated fields on the call's span.
    fields: RecordedFields,
    /// Unary and client-streaming calls: the one response's fields go on the call's span.
    single_response: bool,
    /// Whether the encoder notes each request message's fields: for the one request of a
    /// unary or server-streaming call, or for a span or event per message.
    notes_requests: bool,
    received: AtomicU64,
    /// The fields of the request messages encoded and not yet seen on the wire.
    sent: Mutex<VecDeque<Vec<KeyValue>>>,
}

impl LinkedCall {
    /// The recorded call whose span is in `rpc`; `single` says whether it has one request and
    /// whether it has one response.
    pub(crate) fn new(
        rpc: Context,
        config: &'static Active,
        messages: Messages,
        single: Single,
    ) -> Self {
        LinkedCall {
            rpc,
            config,
            notes_requests: single.request || messages.records_each(),
            messages,
            fields: RecordedFields::default(),
            single_response: single.response,
            received: AtomicU64::new(0),
            sent: Mutex::default(),
        }
    }

    /// The keys of the annotated fields on the call's span.
    pub(crate) fn fields(&self) -> &RecordedFields {
        &self.fields
    }

    /// Notes the fields of a request message being encoded, if they are recorded.
    fn note(&self, message: &dyn SpanAttributes) {
        if !self.notes_requests {
            return;
        }
        let mut attributes = Vec::new();
        message.record_attributes(&mut CallSink {
            attributes: &mut attributes,
            values: &self.config.fields,
        });
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(attributes);
    }

    /// The fields of the next request message written, as the encoder noted them.
    pub(crate) fn next_sent(&self) -> Vec<KeyValue> {
        if !self.notes_requests {
            return Vec::new();
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or_default()
    }
}

impl ReportDecoded for CallLink {
    fn decoded(&self, size: usize, message: &dyn SpanAttributes) {
        let Some(call) = self.0.call() else {
            return;
        };
        let id = call.received.fetch_add(1, Ordering::Relaxed) + 1;
        if call.single_response && id == 1 {
            record_message_fields(&call.rpc, &call.fields, message, &call.config.fields);
        }
        call.messages.record(
            Direction::Received,
            id,
            || MessageSize::Uncompressed(size),
            |sink| message.record_attributes(sink),
        );
    }
}

/// Encodes like the wrapped encoder and notes each message's fields for the traced call.
#[derive(Debug)]
pub struct TracedEncoder<E> {
    inner: E,
    link: CallLink,
}

impl<E> Encoder for TracedEncoder<E>
where
    E: Encoder<Error = Status>,
    E::Item: SpanAttributes,
{
    type Item = E::Item;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        if let Some(call) = self.link.0.call() {
            call.note(&item);
        }
        self.inner.encode(item, dst)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
