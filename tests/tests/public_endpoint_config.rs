//! `Config::public_endpoint` (and `TONIC_TRACED_PUBLIC_ENDPOINTS`, which `init()` reads into it)
//! makes a service a public endpoint at run time: callers' trace context becomes a link of a
//! new root, and neither a sampled nor an unsampled caller chooses whether the call is traced.

use opentelemetry::trace::{SpanKind, TraceId};
use tonic::transport::Server;
use tonic_traced_tests::harness::{header, remote_parent, serve, telemetry_with, with_parent};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;

#[tokio::test]
async fn callers_do_not_choose_the_trace_of_a_public_service() {
    let telemetry = telemetry_with(|config| config.public_endpoint("kitchen.sink.v1.HTTPThings"));
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    for sampled in [true, false] {
        let (caller_trace, caller_span, traceparent) = remote_parent(sampled);
        let reply = client
            .get_http_thing(with_parent(header("trace"), &traceparent))
            .await
            .unwrap()
            .into_inner();
        // The handler ran in a trace of this process's own, which its sampler (always on)
        // recorded, whatever the caller's flag said.
        let trace_id = reply
            .url_path
            .strip_prefix("trace=")
            .and_then(|rest| rest.split(';').next())
            .and_then(|id| TraceId::from_hex(id).ok())
            .expect("the handler reports its trace");
        assert_ne!(trace_id, caller_trace, "sampled={sampled}");
        assert!(
            reply.url_path.ends_with("sampled=true"),
            "{}",
            reply.url_path
        );
        let server = telemetry.span_of_kind(trace_id, SpanKind::Server).await;
        assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
        let linked: Vec<_> = server
            .links
            .iter()
            .map(|link| link.span_context.span_id())
            .collect();
        assert_eq!(linked, [caller_span], "sampled={sampled}");
    }
}
