//! The decoder both generated codecs use: it decodes like the user's codec and reports each
//! message, with its decoded size, to the call it belongs to.

use tonic::codec::{BufferSettings, DecodeBuf, Decoder};
use tonic::Status;

use crate::SpanAttributes;

/// Where a [`TracedDecoder`] reports the messages it decodes: the server finds the call in the
/// current context, a generated client's codec is linked to its call.
pub trait ReportDecoded {
    /// `message` was just decoded from `size` bytes.
    fn decoded(&self, size: usize, message: &dyn SpanAttributes);
}

/// Decodes like the wrapped decoder and reports each message.
#[derive(Debug)]
pub struct TracedDecoder<D, R> {
    inner: D,
    report: R,
}

impl<D, R> TracedDecoder<D, R> {
    pub(crate) fn new(inner: D, report: R) -> Self {
        TracedDecoder { inner, report }
    }
}

impl<D, R> Decoder for TracedDecoder<D, R>
where
    D: Decoder<Error = Status>,
    D::Item: SpanAttributes,
    R: ReportDecoded,
{
    type Item = D::Item;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        let size = bytes::Buf::remaining(src);
        let decoded = self.inner.decode(src)?;
        if let Some(message) = &decoded {
            self.report.decoded(size, message);
        }
        Ok(decoded)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
