//! The server a client calls, as its URI names it: `server.address` and `server.port` of its
//! CLIENT spans and, under the stable conventions, of its `rpc.client.call.duration` series.

use http::uri::Authority;
use opentelemetry::KeyValue;

use crate::keys;

/// The host and port of the authority a client calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ServerTarget {
    address: String,
    port: Option<u16>,
}

impl ServerTarget {
    /// The target `authority` names: its host, and its port when it has one.
    pub(crate) fn of(authority: &Authority) -> Self {
        ServerTarget {
            address: authority.host().to_owned(),
            port: authority.port_u16(),
        }
    }

    /// Pushes `server.address` and, when known, `server.port`.
    pub(crate) fn push_attributes(&self, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new(keys::SERVER_ADDRESS, self.address.clone()));
        if let Some(port) = self.port {
            attributes.push(KeyValue::new(keys::SERVER_PORT, i64::from(port)));
        }
    }
}
