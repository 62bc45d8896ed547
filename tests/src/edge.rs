//! A public-facing service: callers' trace context becomes a link, the service is reported
//! under another name, and `NOT_FOUND` counts as an error.

use tonic::{Code, Request, Response, Status};

use crate::rootless_server::{Rootless, RootlessServer};
use crate::Ping;

/// The default server rule, plus `NOT_FOUND`.
pub fn not_found_is_an_error(code: Code) -> bool {
    code == Code::NotFound || tonic_traced::status::is_server_error(code)
}

/// Answers `missing` with `NOT_FOUND`, anything else by echoing it.
#[derive(Debug, Default)]
pub struct Edge;

#[tonic_traced::traced_service(
    public_endpoint,
    service_name = "edge.Gateway",
    is_error = not_found_is_an_error
)]
#[tonic::async_trait]
impl Rootless for Edge {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        match request.get_ref().label.as_str() {
            "missing" => Err(Status::not_found("no such thing")),
            "invalid" => Err(Status::invalid_argument("bad thing")),
            _ => Ok(Response::new(request.into_inner())),
        }
    }
}

/// The service, ready to add to a tonic router.
pub fn server() -> RootlessServer<Edge> {
    RootlessServer::new(Edge)
}
