//! The `main` of the client binaries: a traced channel to the server their argument names.

use tonic::transport::Channel;
use tonic_traced::client::TracedClient;

/// A channel to `address` (`host:port`, or a URI such as `http://payment-service:50051`)
/// whose calls are traced by `tonic_traced::client::layer()`, which also gets the server's
/// address for `server.address`/`server.port`. Errors name `program`.
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
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| format!("{program}: cannot connect to {address}: {error}"))?;
    Ok(tower::ServiceBuilder::new()
        .layer(tonic_traced::client::layer().with_server(endpoint.uri()))
        .service(channel))
}
