//! One signal's OTLP exporter section: the per-signal variables, each before the generic one.

use std::time::Duration;

use super::env::{Env, Var};
use super::values::{choice, headers, millis, name_of, show_millis, url, PROTOCOLS};
use super::{ConfigError, OtlpConfig, OtlpProtocol};

/// The generic endpoint, shared by the signals.
const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The variable names and URL path of one OTLP signal.
pub(super) struct Signal {
    /// Which exporters the signal goes to.
    pub(super) exporter: &'static str,
    /// The signal's own endpoint, used as is.
    endpoint: &'static str,
    /// The signal's own protocol.
    protocol: &'static str,
    /// The signal's own headers.
    headers: &'static str,
    /// The signal's own timeout.
    timeout: &'static str,
    /// What HTTP appends to the generic endpoint for this signal.
    path: &'static str,
}

/// The traces signal's variables.
pub(super) const TRACES: Signal = Signal {
    exporter: "OTEL_TRACES_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    path: "/v1/traces",
};

/// The metrics signal's variables.
pub(super) const METRICS: Signal = Signal {
    exporter: "OTEL_METRICS_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    path: "/v1/metrics",
};

/// Whether an endpoint variable for this signal is set, which makes OTLP its default exporter
/// (even when its value is bad and ignored: the intent to export over OTLP is clear).
pub(super) fn otlp_endpoint_set(env: &Env, signal: &Signal) -> bool {
    env.var(signal.endpoint).is_some() || env.var(OTLP_ENDPOINT).is_some()
}

/// One signal's OTLP settings, each per-signal variable before the generic one.
pub(super) fn otlp(env: &Env, signal: &Signal) -> Result<OtlpConfig, ConfigError> {
    let protocol_of = |var: &Var| choice(var, "an OTLP protocol", PROTOCOLS);
    let protocol = env
        .read(signal.protocol, protocol_of)?
        .or_read(env, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol_of)?
        .or_default(env, OtlpProtocol::Grpc, |protocol| {
            name_of(PROTOCOLS, protocol).to_owned()
        });
    let headers_of = |var: &Var| headers(var, protocol);
    Ok(OtlpConfig {
        endpoint: endpoint(env, signal, protocol)?,
        protocol,
        headers: env
            .read(signal.headers, headers_of)?
            .or_read(env, "OTEL_EXPORTER_OTLP_HEADERS", headers_of)?
            .or_default(env, Vec::new(), |headers| {
                if headers.is_empty() {
                    "none".to_owned()
                } else {
                    "the headers (values hidden)".to_owned()
                }
            }),
        timeout: env
            .read(signal.timeout, millis)?
            .or_read(env, "OTEL_EXPORTER_OTLP_TIMEOUT", millis)?
            .or_default(env, Duration::from_secs(10), show_millis),
    })
}

/// The per-signal endpoint as is, else the generic one (or the default) plus the signal's path
/// for HTTP.
fn endpoint(env: &Env, signal: &Signal, protocol: OtlpProtocol) -> Result<String, ConfigError> {
    let for_signal = |base: &str| match protocol {
        OtlpProtocol::Grpc => base.to_owned(),
        OtlpProtocol::HttpProtobuf => format!("{}{}", base.trim_end_matches('/'), signal.path),
    };
    let default = match protocol {
        OtlpProtocol::Grpc => for_signal("http://localhost:4317"),
        OtlpProtocol::HttpProtobuf => for_signal("http://localhost:4318"),
    };
    Ok(env
        .read(signal.endpoint, url)?
        .or_read(env, OTLP_ENDPOINT, |var| {
            url(var).map(|base| for_signal(&base))
        })?
        .or_default(env, default, String::clone))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

    #[test]
    fn endpoints() {
        let endpoints = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.endpoint, config.metrics.otlp.endpoint)
        };
        let pair = |traces: &str, metrics: &str| (traces.to_owned(), metrics.to_owned());
        let http = ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");

        assert_eq!(
            endpoints(&[]),
            pair("http://localhost:4317", "http://localhost:4317")
        );
        assert_eq!(
            endpoints(&[http]),
            pair(
                "http://localhost:4318/v1/traces",
                "http://localhost:4318/v1/metrics"
            )
        );
        // gRPC: the generic endpoint as is.
        assert_eq!(
            endpoints(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]),
            pair("http://collector:4317", "http://collector:4317")
        );
        // HTTP: the signal's path appended to the generic endpoint, after any base path.
        assert_eq!(
            endpoints(&[
                http,
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
            ]),
            pair(
                "http://collector:4318/v1/traces",
                "http://collector:4318/v1/metrics"
            )
        );
        assert_eq!(
            endpoints(&[http, ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/otlp/")]),
            pair(
                "http://c:4318/otlp/v1/traces",
                "http://c:4318/otlp/v1/metrics"
            )
        );
        // Per-signal: as is, over the generic one, for either protocol.
        let per_signal = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:4318/custom",
            ),
        ];
        assert_eq!(
            endpoints(&per_signal),
            pair("http://traces:4318/custom", "http://generic:4318")
        );
        assert_eq!(
            endpoints(&[per_signal[0], per_signal[1], http]),
            pair(
                "http://traces:4318/custom",
                "http://generic:4318/v1/metrics"
            )
        );
        assert_eq!(
            endpoints(&[
                http,
                (
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    "http://metrics:9090/m"
                )
            ]),
            pair("http://localhost:4318/v1/traces", "http://metrics:9090/m")
        );
    }

    #[test]
    fn bad_endpoints() {
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")]),
            r#"OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4317" is not a URL; use http://host:port"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://" is not a URL; use http://host:port"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "grpc://c:4317")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="grpc://c:4317" is not a URL; use http://host:port"#
        );
        assert_eq!(
            ok(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "HTTP://Collector:4317")])
                .traces
                .otlp
                .endpoint,
            "HTTP://Collector:4317"
        );
        // No TLS: https is refused for every endpoint variable, whatever its case.
        for name in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ] {
            for value in ["https://collector:4317", "HTTPS://collector"] {
                assert_eq!(
                    error(&[(name, value)]),
                    format!(
                        "{name}={value:?} uses https, but TLS is not supported: send to a \
                         collector over http:// (e.g. a sidecar or node-local collector)"
                    )
                );
            }
        }
    }

    #[test]
    fn protocols() {
        let protocols = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.protocol, config.metrics.otlp.protocol)
        };
        use OtlpProtocol::{Grpc, HttpProtobuf};
        assert_eq!(protocols(&[]), (Grpc, Grpc));
        assert_eq!(
            protocols(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/Protobuf")]),
            (HttpProtobuf, HttpProtobuf)
        );
        assert_eq!(
            protocols(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ]),
            (Grpc, HttpProtobuf)
        );
        assert_eq!(
            protocols(&[("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")]),
            (Grpc, HttpProtobuf)
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]),
            r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/json" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http/json" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
    }

    #[test]
    fn headers() {
        let headers = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.headers, config.metrics.otlp.headers)
        };
        let generic = (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20abc, x-tenant = t1",
        );
        let expected = strings(&[("authorization", "Bearer abc"), ("x-tenant", "t1")]);
        assert_eq!(headers(&[generic]), (expected.clone(), expected.clone()));
        // A per-signal variable replaces the generic one; it is not merged.
        assert_eq!(
            headers(&[
                generic,
                ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=k%3D1")
            ]),
            (expected, strings(&[("api-key", "k=1")]))
        );
    }

    #[test]
    fn per_signal_headers() {
        let config = ok(&[(
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "Authorization=Basic%20dXNlcjpwYXNz,x-scope-orgid=team-a",
        )]);
        assert_eq!(
            config.traces.otlp.headers,
            strings(&[
                ("Authorization", "Basic dXNlcjpwYXNz"),
                ("x-scope-orgid", "team-a")
            ])
        );
        assert_eq!(config.metrics.otlp.headers, []);
    }

    #[test]
    fn headers_that_cannot_be_sent_are_errors_naming_their_variable() {
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        ] {
            for protocol in ["grpc", "http/protobuf"] {
                let protocol = ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
                assert_eq!(
                    error(&[protocol, (name, "api key=secret")]),
                    format!(
                        r#"{name} (value hidden) has "api key", which is not a header name; use letters, digits and - _ . only"#
                    )
                );
                assert_eq!(
                    error(&[protocol, (name, "api-key=s%0Aecret")]),
                    format!(
                        r#"{name} (value hidden) has a value for "api-key" that a header cannot carry; use visible ASCII characters and spaces (after %XX decoding)"#
                    )
                );
                assert_eq!(
                    error(&[protocol, (name, "api-key=s%C3%A9cret")]),
                    format!(
                        r#"{name} (value hidden) has a value for "api-key" that a header cannot carry; use visible ASCII characters and spaces (after %XX decoding)"#
                    )
                );
            }
        }
        // Binary metadata is for gRPC only; over HTTP such a name is an ordinary header.
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "Token-Bin=abc")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_HEADERS (value hidden) has "Token-Bin", a binary gRPC metadata key, which cannot carry text; use a name that does not end in -bin"#
        );
        assert_eq!(
            ok(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "token-bin=abc"),
            ])
            .metrics
            .otlp
            .headers,
            strings(&[("token-bin", "abc")])
        );
    }

    #[test]
    fn header_errors_hide_the_value() {
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_HEADERS", "Bearer secret")]),
            r#"OTEL_EXPORTER_OTLP_HEADERS (value hidden) has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=sec%ret")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_HEADERS (value hidden) has a value for "api-key" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
    }

    #[test]
    fn timeouts() {
        let timeouts = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.timeout, config.metrics.otlp.timeout)
        };
        let ms = Duration::from_millis;
        assert_eq!(timeouts(&[]), (ms(10_000), ms(10_000)));
        assert_eq!(
            timeouts(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")]),
            (ms(2500), ms(2500))
        );
        assert_eq!(
            timeouts(&[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "100"),
                ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "200"),
            ]),
            (ms(100), ms(200))
        );
        for name in [
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
        ] {
            for value in ["10s", "-1", "0", "1.5"] {
                assert_eq!(
                    error(&[(name, value)]),
                    format!(
                        "{name}={value:?} is not a duration; \
                         use a positive whole number of milliseconds"
                    )
                );
            }
        }
    }

    #[test]
    fn lenient_keeps_otlp_for_a_bad_endpoint() {
        // Setting an endpoint says "export over OTLP", even with a value that cannot be used.
        let config = lenient(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
        assert_eq!(config.traces.exporters, [TracesExporter::Otlp]);
        assert_eq!(config.metrics.exporters, [MetricsExporter::Otlp]);
        assert_eq!(config.traces.otlp.endpoint, "http://localhost:4317");
        assert_eq!(config.metrics.otlp.endpoint, "http://localhost:4317");
        assert_eq!(
            config.warnings,
            [
                r#"OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317" is not a URL; use http://host:port; ignored, using the default: http://localhost:4317"#
            ]
        );
    }
}
