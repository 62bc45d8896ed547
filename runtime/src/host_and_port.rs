//! The host and port an authority (`[userinfo@]host[:port]`) names, as `server.address` and
//! `server.port` record them: on SERVER spans from the request's `:authority`, on CLIENT spans
//! and the client duration from the URI the client calls.

/// `host[:port]`, after any `userinfo@`: the host without an IPv6 literal's brackets, and the
/// port when it is a number that fits. `None` when no host is left.
pub(crate) fn host_and_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(literal) => {
            let (host, rest) = literal.split_once(']')?;
            (host, rest.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port = port.and_then(|port| port.parse().ok());
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        for (authority, expected) in [
            ("example.com:50051", Some(("example.com", Some(50051)))),
            ("127.0.0.1:443", Some(("127.0.0.1", Some(443)))),
            ("[::1]:8080", Some(("::1", Some(8080)))),
            ("[2001:db8::7]", Some(("2001:db8::7", None))),
            ("example.com", Some(("example.com", None))),
            (
                "user:secret@example.com:81",
                Some(("example.com", Some(81))),
            ),
            ("example.com:", Some(("example.com", None))),
            ("example.com:99999", Some(("example.com", None))),
            ("example.com:http", Some(("example.com", None))),
            ("[::1", None),
            (":8080", None),
            ("", None),
            ("user@", None),
        ] {
            assert_eq!(host_and_port(authority), expected, "{authority:?}");
        }
    }
}
