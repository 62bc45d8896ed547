//! A `Ledger` service traced with options, and a request type whose attributes are recorded
//! by a hand-written impl that counts its calls.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use tonic::codegen::tokio_stream::{self, Stream};
use tonic::{Request, Response, Status};

use crate::kitchen::sink::v1::ledger_server::{Ledger, LedgerServer};
use crate::kitchen::sink::v1::{Counted, Entry};

/// How many times `Counted::record_attributes` ran, across the test binary.
pub static COUNTED_RECORDINGS: AtomicUsize = AtomicUsize::new(0);

impl tonic_traced::SpanAttributes for Counted {
    fn record_attributes(&self, sink: &mut dyn tonic_traced::AttributeSink) {
        COUNTED_RECORDINGS.fetch_add(1, Ordering::SeqCst);
        sink.record(
            "counted.note",
            tonic_traced::AttributeValue::Str(&self.note),
        );
    }
}

/// Echoes entries; streams send the request entry three times.
#[derive(Debug, Default)]
pub struct Books;

/// A boxed stream of entries.
pub type EntryStream = Pin<Box<dyn Stream<Item = Result<Entry, Status>> + Send>>;

/// A stream of `entry`, three times.
pub fn three(entry: Entry) -> EntryStream {
    Box::pin(tokio_stream::iter(vec![Ok(entry); 3]))
}

/// Message spans for every method unless the method says otherwise.
#[tonic_traced::traced_service(messages = spans)]
#[tonic::async_trait]
impl Ledger for Books {
    type WatchStream = EntryStream;

    #[traced(messages = events)]
    async fn watch(&self, request: Request<Entry>) -> Result<Response<Self::WatchStream>, Status> {
        Ok(Response::new(three(request.into_inner())))
    }

    type SilentStream = EntryStream;

    #[traced(messages = off)]
    async fn silent(
        &self,
        request: Request<Entry>,
    ) -> Result<Response<Self::SilentStream>, Status> {
        Ok(Response::new(three(request.into_inner())))
    }

    #[traced(skip)]
    async fn skipped(&self, request: Request<Entry>) -> Result<Response<Entry>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn record(&self, request: Request<Counted>) -> Result<Response<Entry>, Status> {
        Ok(Response::new(Entry {
            account: request.into_inner().note,
            cents: 100,
        }))
    }
}

/// The service, ready to add to a tonic router.
pub fn server() -> LedgerServer<Books> {
    LedgerServer::new(Books)
}
