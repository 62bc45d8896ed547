//! What a traced server reads of a request's headers before its handler runs, found in one
//! pass over them rather than a hash lookup per name.

use http::{HeaderMap, HeaderValue};

use crate::deadline::GRPC_TIMEOUT;
use crate::propagation::{BAGGAGE, TRACEPARENT, TRACESTATE};

/// The request headers a traced server reads.
#[derive(Debug, Default)]
pub(super) struct RequestHeaders<'a> {
    /// The `traceparent`, when it is the request's only propagation header: sent once, with
    /// no `tracestate` and no `baggage` (see `w3c_fast_path`).
    pub(super) lone_traceparent: Option<&'a HeaderValue>,
    /// The first `grpc-timeout`.
    pub(super) grpc_timeout: Option<&'a HeaderValue>,
}

impl<'a> RequestHeaders<'a> {
    /// Reads `headers` once.
    pub(super) fn scan(headers: &'a HeaderMap) -> Self {
        let mut traceparent = None;
        let mut lone = true;
        let mut grpc_timeout = None;
        // None of these is one of `http`'s standard headers, which compare unequal at once.
        for (name, value) in headers {
            if *name == TRACEPARENT {
                lone &= traceparent.replace(value).is_none();
            } else if *name == TRACESTATE || *name == BAGGAGE {
                lone = false;
            } else if *name == GRPC_TIMEOUT {
                grpc_timeout = grpc_timeout.or(Some(value));
            }
        }
        RequestHeaders {
            lone_traceparent: traceparent.filter(|_| lone),
            grpc_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pairs: &[(&'static str, &'static str)]) -> (Option<String>, Option<String>) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        let text = |value: Option<&HeaderValue>| value.map(|v| v.to_str().unwrap().to_owned());
        let read = RequestHeaders::scan(&headers);
        (text(read.lone_traceparent), text(read.grpc_timeout))
    }

    #[test]
    fn a_lone_traceparent_and_the_first_timeout() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let lone = Some(tp.to_owned());
        let timeout = Some("10S".to_owned());
        assert_eq!(
            scan(&[
                ("te", "trailers"),
                ("traceparent", tp),
                ("grpc-timeout", "10S")
            ]),
            (lone.clone(), timeout.clone())
        );
        assert_eq!(
            scan(&[
                ("grpc-timeout", "10S"),
                ("grpc-timeout", "1S"),
                ("traceparent", tp)
            ]),
            (lone, timeout.clone())
        );
        for not_alone in [
            &[("traceparent", tp), ("tracestate", "a=b")][..],
            &[("baggage", "k=v"), ("traceparent", tp)],
            &[("traceparent", tp), ("traceparent", tp)],
        ] {
            assert_eq!(scan(not_alone), (None, None), "{not_alone:?}");
        }
        assert_eq!(scan(&[("grpc-timeout", "10S")]), (None, timeout));
        assert_eq!(scan(&[]), (None, None));
    }
}
