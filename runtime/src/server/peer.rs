//! Where a call came from and arrived, as tonic's transport reports them.

use opentelemetry::KeyValue;
use tonic::Request;

#[cfg(feature = "transport")]
use crate::keys;

/// The client's address and the port it called, as tonic's transport reports them.
#[cfg(feature = "transport")]
pub(super) fn peer_attributes<T>(request: &Request<T>, attributes: &mut Vec<KeyValue>) {
    if let Some(peer) = request.remote_addr() {
        attributes.push(KeyValue::new(
            keys::NETWORK_PEER_ADDRESS,
            peer.ip().to_string(),
        ));
        attributes.push(KeyValue::new(
            keys::NETWORK_PEER_PORT,
            i64::from(peer.port()),
        ));
    }
    if let Some(local) = request.local_addr() {
        attributes.push(KeyValue::new(keys::SERVER_PORT, i64::from(local.port())));
    }
}

/// Without tonic's transport, nothing reports the addresses.
#[cfg(not(feature = "transport"))]
pub(super) fn peer_attributes<T>(_request: &Request<T>, _attributes: &mut Vec<KeyValue>) {}
