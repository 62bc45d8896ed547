//! A hop of a call chain: an `HTTPThings` server that serves each call by calling the next
//! hop through a traced client.

use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

use crate::kitchen::sink::v1::http_things_client::HttpThingsClient;
use crate::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use crate::kitchen::sink::v1::HttpHeader;
use crate::things::HeaderStream;

/// A client of the next hop, traced by `tonic_traced::client::layer()`.
pub type NextHop = HttpThingsClient<tonic_traced::client::TracedClient<Channel>>;

/// Connects a traced client to `address`.
pub async fn traced_client(address: std::net::SocketAddr) -> NextHop {
    let endpoint = Channel::from_shared(format!("http://{address}")).expect("loopback URI");
    let channel = endpoint.connect().await.expect("the next hop is listening");
    HttpThingsClient::new(
        tower::ServiceBuilder::new()
            .layer(tonic_traced::client::layer().with_server(endpoint.uri()))
            .service(channel),
    )
}

/// `GetHTTPThing` streams from the next hop's `WatchHTTPThings` and answers with the last
/// update; `WatchHTTPThings` sends two updates, each fetched from the next hop's
/// `GetHTTPThing`: the first with `ok`, the second with the caller's commands.
#[derive(Debug, Clone)]
pub struct Relay {
    /// Where calls go next.
    pub next: NextHop,
}

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Relay {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        let mut updates = self
            .next
            .clone()
            .watch_http_things(request.into_inner())
            .await?
            .into_inner();
        let mut last = None;
        while let Some(update) = updates.message().await? {
            last = Some(update);
        }
        last.map(Response::new)
            .ok_or_else(|| Status::not_found("the stream was empty"))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        let commands = request.into_inner().url_path;
        let next = self.next.clone();
        let updates = tokio_stream::iter(["ok".to_owned(), commands]).then(move |url_path| {
            let mut next = next.clone();
            async move {
                let reply = next.get_http_thing(HttpHeader { url_path }).await?;
                Ok(reply.into_inner())
            }
        });
        Ok(Response::new(Box::pin(updates)))
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("a relay does not take uploads"))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        Err(Status::unimplemented("a relay does not chat"))
    }
}

/// The relay, ready to add to a tonic router.
pub fn server(next: NextHop) -> HttpThingsServer<Relay> {
    HttpThingsServer::new(Relay { next })
}
