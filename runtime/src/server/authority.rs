//! The `:authority` a client reached the server by, which the conventions record on SERVER
//! spans as `server.address` and `server.port`. tonic drops the request's URI before the
//! handler runs, so the generated server keeps the authority in the request's extensions
//! first (the one statement tonic-traced-build adds to tonic's `Service::call`).

use std::cell::RefCell;
use std::sync::Arc;

use http::uri::Authority;
use opentelemetry::{KeyValue, StringValue};

use crate::field_values::FieldValues;
use crate::host_and_port::host_and_port;
use crate::keys;

/// The request's `:authority`, kept in its extensions until the call's span starts.
#[derive(Clone)]
struct CalledAuthority(Authority);

/// Keeps `request`'s `:authority` in its extensions, where the call's span finds it. Costs a
/// reference count; the authority is read only when a span is started.
#[inline]
pub fn keep_authority<B>(mut request: http::Request<B>) -> http::Request<B> {
    if let Some(authority) = request.uri().authority() {
        let authority = CalledAuthority(authority.clone());
        request.extensions_mut().insert(authority);
    }
    request
}

/// The authority [`keep_authority`] kept in `extensions`, if any: for the benchmarks'
/// hand-written baseline, which records it as the call's span does.
pub fn called_authority(extensions: &http::Extensions) -> Option<&Authority> {
    extensions.get().map(|CalledAuthority(authority)| authority)
}

/// `server.address` (cut to the length limit of `values`: the caller chooses it) and, when
/// the authority has one, `server.port`, from the authority kept in `extensions`; nothing when
/// there is none or its host is empty.
pub(super) fn authority_attributes(
    extensions: &http::Extensions,
    values: &FieldValues,
    attributes: &mut Vec<KeyValue>,
) {
    let Some(authority) = called_authority(extensions) else {
        return;
    };
    let Some((host, port)) = parsed(authority, values) else {
        return;
    };
    attributes.push(KeyValue::new(keys::SERVER_ADDRESS, host));
    if let Some(port) = port {
        attributes.push(KeyValue::new(keys::SERVER_PORT, i64::from(port)));
    }
}

/// An authority seen last on a thread, with its host and port.
type Parsed = (Authority, Arc<str>, Option<u16>);

/// The host and port of `authority`, parsed once for as long as the calls a thread serves
/// name the same authority (a server is usually reached by few), then shared.
fn parsed(authority: &Authority, values: &FieldValues) -> Option<(StringValue, Option<u16>)> {
    thread_local! {
        static LAST: RefCell<Option<Parsed>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, host, port)) if seen.as_str() == authority.as_str() => {
            Some((host.clone().into(), *port))
        }
        _ => {
            let (host, port) = host_and_port(authority.as_str())?;
            let host: Arc<str> = values.limited(host).into();
            *last = Some((authority.clone(), host.clone(), port));
            Some((host.into(), port))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_authority_reads_as_itself() {
        let attributes = |authority: &str| {
            let request = http::Request::builder()
                .uri(format!("http://{authority}/a.B/C"))
                .body(())
                .unwrap();
            let mut attributes = Vec::new();
            let values = FieldValues {
                length_limit: 9,
                hash_key: None,
            };
            authority_attributes(
                keep_authority(request).extensions(),
                &values,
                &mut attributes,
            );
            attributes
        };
        for (authority, host, port) in [
            ("a.example:1", "a.example", Some(1)),
            ("a.example:1", "a.example", Some(1)),
            ("[::1]:2", "::1", Some(2)),
            ("a.example", "a.example", None),
            ("a.example:1", "a.example", Some(1)),
            ("long.a.example:3", "long.a.ex", Some(3)),
        ] {
            let mut expected = vec![KeyValue::new(keys::SERVER_ADDRESS, host)];
            expected.extend(port.map(|port: i64| KeyValue::new(keys::SERVER_PORT, port)));
            assert_eq!(attributes(authority), expected, "{authority}");
        }
        let no_authority = http::Request::builder().uri("/a.B/C").body(()).unwrap();
        let mut none = Vec::new();
        let values = FieldValues {
            length_limit: 9,
            hash_key: None,
        };
        authority_attributes(
            keep_authority(no_authority).extensions(),
            &values,
            &mut none,
        );
        assert!(none.is_empty());
    }
}
