//! `OTEL_METRICS_EXPORTER=prometheus`: `init()` serves the RPC metrics on `/metrics` at the
//! configured host and port, in the Prometheus text format; a port in use or a host that is
//! not this machine's is an error naming the variable to change.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{env_lookup, header, serve};
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;

/// A plain HTTP/1.1 GET, as a scraper makes it; returns the status line and body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the endpoint listens");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    (head.lines().next().unwrap().to_owned(), body.to_owned())
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

    let (status_line, body) = tokio::task::spawn_blocking(move || get(port, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status_line, "HTTP/1.1 200 OK");
    let series = |name: &str, code: u8| {
        format!(
            "{name}{{rpc_grpc_status_code=\"{code}\",rpc_method=\"GetHTTPThing\",\
             rpc_service=\"kitchen.sink.v1.HTTPThings\",rpc_system=\"grpc\",\
             otel_scope_name=\"tonic-traced\",otel_scope_version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )
    };
    for (line, side) in [("server", 2), ("client", 2)] {
        let ok = series(&format!("rpc_{line}_duration_milliseconds_count"), 0);
        let failed = series(&format!("rpc_{line}_duration_milliseconds_count"), 14);
        assert!(body.contains(&format!("{ok} {side}\n")), "{ok} in\n{body}");
        assert!(
            body.contains(&format!("{failed} 1\n")),
            "{failed} in\n{body}"
        );
    }
    let request_bytes = series("rpc_server_request_size_bytes_sum", 0);
    let expected = 2 * prost::Message::encoded_len(&header("ok"));
    assert!(
        body.contains(&format!("{request_bytes} {expected}\n")),
        "{request_bytes} in\n{body}"
    );
    assert!(
        body.contains("target_info{service_name=\"scraped\",telemetry_sdk_language=\"rust\""),
        "the resource, with the SDK's attributes:\n{body}"
    );
    assert!(
        !body.contains("network_peer") && !body.contains("server_port"),
        "no peer or port labels:\n{body}"
    );

    let (not_found, _) = tokio::task::spawn_blocking(move || get(port, "/"))
        .await
        .unwrap();
    assert_eq!(not_found, "HTTP/1.1 404 Not Found");
    telemetry.shutdown().unwrap();
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "shutdown stops the endpoint"
    );
}
