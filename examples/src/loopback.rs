//! Servers on free loopback ports and traced channels to them, for the demos.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::transport::Channel;
use tonic_traced::client::TracedClient;

use crate::client_binary::connect_traced;

/// Serves `router` on a free loopback port in the background; returns its address.
pub async fn serve(router: Router) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(router.serve_with_incoming(TcpIncoming::from(listener)));
    Ok(address)
}

/// A [traced channel](connect_traced) to the loopback server at `address`.
pub async fn traced_channel(
    address: SocketAddr,
) -> Result<TracedClient<Channel>, tonic::transport::Error> {
    let endpoint = Channel::from_shared(format!("http://{address}")).expect("loopback URI");
    connect_traced(endpoint).await
}
