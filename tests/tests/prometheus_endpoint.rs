//! `OTEL_METRICS_EXPORTER=prometheus`: `init()` serves the RPC metrics on `/metrics` at the
//! configured host and port, in the Prometheus text format, or in the OpenMetrics one, with
//! the trace exemplars of sampled calls, to a scraper that accepts it; a port in use or a host
//! that is not this machine's is an error naming the variable to change.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use opentelemetry::trace::{
    FutureExt as _, SpanContext, TraceContextExt as _, TraceFlags, TraceState,
};
use opentelemetry::Context;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{env_lookup, header, in_root_span, remote_parent, serve};
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;

/// What Prometheus 2.42 asks for.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
    application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// An HTTP/1.1 GET, as a scraper makes it, with `accept` if given; returns the status line,
/// the `Content-Type` and the body.
fn get(port: u16, path: &str, accept: Option<&str>) -> (String, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the endpoint listens");
    let accept = accept.map_or(String::new(), |accept| format!("Accept: {accept}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or_default();
    (
        head.lines().next().unwrap().to_owned(),
        content_type.to_owned(),
        body.to_owned(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_metrics_are_served_for_scraping() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let vars = |port: &str| {
        env_lookup(&[
            ("OTEL_METRICS_EXPORTER", "prometheus"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", port),
            ("OTEL_SERVICE_NAME", "scraped"),
            // Both conventions' duration histograms, each with its exemplars.
            ("OTEL_SEMCONV_STABILITY_OPT_IN", "rpc/dup"),
        ])
    };
    let error = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .install_with(vars(&taken_port))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("OTEL_EXPORTER_PROMETHEUS_PORT: cannot serve /metrics on 127.0.0.1:")
            && error.contains(&taken_port)
            && error.ends_with("choose a free port"),
        "{error}"
    );
    // 192.0.2.1 is reserved for documentation: not an address of this machine.
    let error = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .install_with(env_lookup(&[
            ("OTEL_METRICS_EXPORTER", "prometheus"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "192.0.2.1"),
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("OTEL_EXPORTER_PROMETHEUS_HOST: cannot serve /metrics on 192.0.2.1:9464")
            && error.ends_with("use localhost, 0.0.0.0 or one of its addresses"),
        "{error}"
    );

    let port = free_port();
    let telemetry = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .install_with(vars(&port.to_string()))
        .unwrap();
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = traced_client(address).await;
    client.get_http_thing(header("ok")).await.unwrap();
    client.get_http_thing(header("ok")).await.unwrap();
    let status = client.get_http_thing(header("code=14")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    // The last OK call, sampled, in a trace of the test's own.
    let (sampled_trace, reply) = in_root_span(client.get_http_thing(header("ok"))).await;
    reply.unwrap();
    // A call its caller did not sample, failing with a status of its own (a series apart).
    let (unsampled_trace, caller, _) = remote_parent(false);
    let unsampled = Context::new().with_remote_span_context(SpanContext::new(
        unsampled_trace,
        caller,
        TraceFlags::default(),
        true,
        TraceState::default(),
    ));
    let status = client
        .get_http_thing(header("code=5"))
        .with_context(unsampled)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let (status_line, content_type, body) =
        tokio::task::spawn_blocking(move || get(port, "/metrics", None))
            .await
            .unwrap();
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert_eq!(content_type, "text/plain; version=0.0.4");
    assert!(!body.contains("trace_id"), "no exemplars:\n{body}");
    let series = |name: &str, code: u8| {
        format!(
            "{name}{{rpc_grpc_status_code=\"{code}\",rpc_method=\"GetHTTPThing\",\
             rpc_service=\"kitchen.sink.v1.HTTPThings\",rpc_system=\"grpc\",\
             otel_scope_name=\"tonic-traced\",otel_scope_version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )
    };
    for (line, side) in [("server", 3), ("client", 3)] {
        let ok = series(&format!("rpc_{line}_duration_milliseconds_count"), 0);
        let failed = series(&format!("rpc_{line}_duration_milliseconds_count"), 14);
        assert!(body.contains(&format!("{ok} {side}\n")), "{ok} in\n{body}");
        assert!(
            body.contains(&format!("{failed} 1\n")),
            "{failed} in\n{body}"
        );
    }
    let request_bytes = series("rpc_server_request_size_bytes_sum", 0);
    let expected = 3 * prost::Message::encoded_len(&header("ok"));
    assert!(
        body.contains(&format!("{request_bytes} {expected}\n")),
        "{request_bytes} in\n{body}"
    );
    assert!(
        body.contains("target_info{service_name=\"scraped\",telemetry_sdk_language=\"rust\""),
        "the resource, with the SDK's attributes:\n{body}"
    );
    assert!(!body.contains("network_peer"), "no peer labels:\n{body}");
    // The server's address and port: only on the stable client duration, as the conventions
    // recommend.
    for line in body.lines().filter(|line| line.contains("server_port")) {
        assert!(
            line.starts_with("rpc_client_call_duration_seconds_")
                && line.contains("server_address=\"127.0.0.1\""),
            "{line}"
        );
    }
    assert!(
        body.contains("rpc_client_call_duration_seconds_count{"),
        "{body}"
    );

    let (status_line, content_type, openmetrics) =
        tokio::task::spawn_blocking(move || get(port, "/metrics", Some(PROMETHEUS_ACCEPT)))
            .await
            .unwrap();
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(openmetrics.ends_with("\n# EOF\n"), "{openmetrics}");
    let durations = ["server", "client"].into_iter().flat_map(|side| {
        [
            (
                format!("rpc_{side}_duration_milliseconds"),
                "rpc_grpc_status_code=\"0\"",
                "rpc_grpc_status_code=\"5\"",
            ),
            (
                format!("rpc_{side}_call_duration_seconds"),
                "rpc_status_code=\"OK\"",
                "rpc_status_code=\"NOT_FOUND\"",
            ),
        ]
    });
    for (family, ok, failed) in durations {
        assert!(
            openmetrics.contains(&format!("# TYPE {family} histogram\n")),
            "{openmetrics}"
        );
        let buckets = format!("{family}_bucket{{");
        let exemplar = format!(" # {{trace_id=\"{sampled_trace}\",span_id=\"");
        let line = openmetrics
            .lines()
            .find(|line| {
                line.starts_with(&buckets) && line.contains(ok) && line.contains(&exemplar)
            })
            .unwrap_or_else(|| {
                panic!("{family}: no bucket with the sampled call's trace in\n{openmetrics}")
            });
        // `…,le="10.0"} 3 # {trace_id="…",span_id="…"} 1.25 1700000000.123`
        let le: f64 = line
            .split("le=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let value: f64 = line.rsplit(' ').nth(1).unwrap().parse().unwrap();
        assert!(
            value > 0.0 && value <= le,
            "the call's duration is in its bucket: {line}"
        );
        let unsampled: Vec<&str> = openmetrics
            .lines()
            .filter(|line| line.starts_with(&buckets) && line.contains(failed))
            .collect();
        assert!(!unsampled.is_empty(), "{openmetrics}");
        assert!(
            unsampled.iter().all(|line| !line.contains(" # ")),
            "an unsampled call leaves no exemplar: {unsampled:#?}"
        );
    }
    assert!(
        !openmetrics.contains(&unsampled_trace.to_string()),
        "{openmetrics}"
    );

    let (not_found, _, _) = tokio::task::spawn_blocking(move || get(port, "/", None))
        .await
        .unwrap();
    assert_eq!(not_found, "HTTP/1.1 404 Not Found");
    telemetry.shutdown().unwrap();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "shutdown stops the endpoint"
    );
}
