//! Traced channels for the clients of the examples: to the server a client binary's argument
//! names, or to any endpoint.

use tonic::transport::{Channel, Endpoint};
use tonic_traced::client::TracedClient;

/// A channel to `endpoint` whose calls are traced by `tonic_traced::client::layer()`, which
/// also gets the server's address for `server.address`/`server.port`.
pub async fn connect_traced(
    endpoint: Endpoint,
) -> Result<TracedClient<Channel>, tonic::transport::Error> {
    let channel = endpoint.connect().await?;
    Ok(tower::ServiceBuilder::new()
        .layer(tonic_traced::client::layer().with_server(endpoint.uri()))
        .service(channel))
}

/// A [traced channel](connect_traced) to `address` (`host:port`, or a URI such as
/// `http://payment-service:50051`); errors name `program`.
pub async fn traced_channel_to(
    program: &str,
    address: &str,
) -> Result<TracedClient<Channel>, String> {
    let uri = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let endpoint = Channel::from_shared(uri)
        .map_err(|error| format!("{program}: bad address {address:?}: {error}"))?;
    connect_traced(endpoint)
        .await
        .map_err(|error| format!("{program}: cannot connect to {address}: {error}"))
}
