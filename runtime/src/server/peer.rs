//! Where a call came from and arrived, as tonic's transport reports them.

#[cfg(feature = "transport")]
use opentelemetry::Key;
use opentelemetry::KeyValue;
use tonic::Request;

/// The client's address and the port it called, as tonic's transport reports them.
#[cfg(feature = "transport")]
pub(super) fn peer_attributes<T>(request: &Request<T>, attributes: &mut Vec<KeyValue>) {
    if let Some(peer) = request.remote_addr() {
        attributes.push(KeyValue::new(
            Key::from_static_str("network.peer.address"),
            peer.ip().to_string(),
        ));
        attributes.push(KeyValue::new(
            Key::from_static_str("network.peer.port"),
            i64::from(peer.port()),
        ));
    }
    if let Some(local) = request.local_addr() {
        attributes.push(KeyValue::new(
            Key::from_static_str("server.port"),
            i64::from(local.port()),
        ));
    }
}

/// Without tonic's transport, nothing reports the addresses.
#[cfg(not(feature = "transport"))]
pub(super) fn peer_attributes<T>(_request: &Request<T>, _attributes: &mut Vec<KeyValue>) {}
