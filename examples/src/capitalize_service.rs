//! The OpenCensus tutorial's `Fetch` service: capitalizes the bytes it is sent.
//!
//! The tutorial traced `Capitalize` by hand — a span named `(*fetchIt).Capitalize` with the
//! payload's length as `len`. Here `#[traced_service]` makes the span (`rpc.Fetch/Capitalize`,
//! SERVER, child of the client's context) and the `(tonic_traced.field)` annotations in
//! `proto/capitalize.proto` put `id` and `len` on it, and on the client's span.

use tonic::{Request, Response, Status};

use crate::rpc::fetch_server::Fetch;
use crate::rpc::Payload;

/// The tutorial's `fetchIt`: answers each payload with its data in ASCII upper case.
#[derive(Debug, Default)]
pub struct FetchIt;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Fetch for FetchIt {
    async fn capitalize(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        let payload = request.into_inner();
        Ok(Response::new(Payload {
            id: payload.id,
            data: payload.data.to_ascii_uppercase(),
        }))
    }
}
