//! Where a call came from, as tonic's transport reports it.

#[cfg(feature = "transport")]
use std::{cell::RefCell, net::IpAddr, sync::Arc};

use opentelemetry::KeyValue;
#[cfg(feature = "transport")]
use opentelemetry::StringValue;
use tonic::Request;

#[cfg(feature = "transport")]
use crate::keys;

/// The client's address and port, as tonic's transport reports them.
#[cfg(feature = "transport")]
pub(super) fn peer_attributes<T>(request: &Request<T>, attributes: &mut Vec<KeyValue>) {
    if let Some(peer) = request.remote_addr() {
        attributes.push(KeyValue::new(
            keys::NETWORK_PEER_ADDRESS,
            address_text(peer.ip()),
        ));
        attributes.push(KeyValue::new(
            keys::NETWORK_PEER_PORT,
            i64::from(peer.port()),
        ));
    }
}

/// `ip` as text. Formatted once for as long as the calls a thread serves come from the same
/// address (most servers have few clients, each keeping its connection), then shared.
#[cfg(feature = "transport")]
fn address_text(ip: IpAddr) -> StringValue {
    thread_local! {
        static LAST: RefCell<Option<(IpAddr, Arc<str>)>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, text)) if *seen == ip => text.clone().into(),
        _ => {
            let text: Arc<str> = ip.to_string().into();
            *last = Some((ip, text.clone()));
            text.into()
        }
    })
}

/// Without tonic's transport, nothing reports the address.
#[cfg(not(feature = "transport"))]
pub(super) fn peer_attributes<T>(_request: &Request<T>, _attributes: &mut Vec<KeyValue>) {}

#[cfg(all(test, feature = "transport"))]
mod tests {
    use super::*;

    #[test]
    fn each_address_reads_as_itself() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        for ip in [v4, v4, v6, v4, v6, v6] {
            assert_eq!(address_text(ip).as_str(), ip.to_string());
        }
    }
}
