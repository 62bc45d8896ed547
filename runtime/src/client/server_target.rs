//! The server a client calls, as its URI names it: `server.address` and `server.port` of its
//! CLIENT spans and, under the stable conventions, of its `rpc.client.call.duration` series.

use http::uri::Authority;
use opentelemetry::KeyValue;

use crate::host_and_port::host_and_port;
use crate::keys;

/// The host and port of the authority a client calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ServerTarget {
    address: String,
    port: Option<u16>,
}

impl ServerTarget {
    /// The target `authority` names: its host (an IPv6 address without its brackets), and its
    /// port when it has one; `None` when it names no host.
    pub(crate) fn of(authority: &Authority) -> Option<Self> {
        let (host, port) = host_and_port(authority.as_str())?;
        Some(ServerTarget {
            address: host.to_owned(),
            port,
        })
    }

    /// Pushes `server.address` and, when known, `server.port`.
    pub(crate) fn push_attributes(&self, attributes: &mut Vec<KeyValue>) {
        attributes.push(KeyValue::new(keys::SERVER_ADDRESS, self.address.clone()));
        if let Some(port) = self.port {
            attributes.push(KeyValue::new(keys::SERVER_PORT, i64::from(port)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        for (authority, address, port) in [
            ("payments.example:50051", "payments.example", Some(50051)),
            ("127.0.0.1:8080", "127.0.0.1", Some(8080)),
            ("[::1]:443", "::1", Some(443)),
            ("payments.example", "payments.example", None),
        ] {
            let target = ServerTarget::of(&authority.parse().unwrap()).unwrap();
            assert_eq!(target.address, address, "{authority}");
            assert_eq!(target.port, port, "{authority}");
        }
    }
}
