//! Annotated fields of the response of unary calls go on the SERVER and the CLIENT span, when
//! sampled; where request and response annotate one key, the request's value stays.

use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tonic::transport::{Channel, Server};
use tonic_traced_tests::harness::{attribute, header, in_root_span, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::ledger_client::LedgerClient;
use tonic_traced_tests::kitchen::sink::v1::Counted;
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::{ledger, things};

/// How many attributes of `span` have `key`.
fn count(span: &SpanData, key: &str) -> usize {
    span.attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .count()
}

#[tokio::test]
async fn response_fields_are_on_both_rpc_spans() {
    telemetry();
    let address = serve(Server::builder().add_service(ledger::server())).await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = LedgerClient::new(
        tower::ServiceBuilder::new()
            .layer(tonic_traced::client::layer())
            .service(channel),
    );
    let note = Counted {
        note: "acct-9".into(),
    };
    let (trace_id, reply) = in_root_span(client.record(note)).await;
    assert_eq!(reply.unwrap().into_inner().cents, 100);
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = telemetry().span_of_kind(trace_id, kind.clone()).await;
        assert_eq!(
            attribute(&span, "counted.note"),
            Some(Value::from("acct-9")),
            "{kind:?}: the request's field"
        );
        assert_eq!(
            attribute(&span, "ledger.account"),
            Some(Value::from("acct-9")),
            "{kind:?}: the response's fields"
        );
        assert_eq!(
            attribute(&span, "ledger.cents"),
            Some(Value::I64(100)),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn the_request_keeps_a_key_both_annotate() {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = traced_client(address).await;
    // `trace` answers with a different `url_path`: the trace the handler ran in.
    let (trace_id, reply) = in_root_span(client.get_http_thing(header("trace"))).await;
    assert!(reply.unwrap().into_inner().url_path.starts_with("trace="));
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = telemetry().span_of_kind(trace_id, kind.clone()).await;
        assert_eq!(count(&span, "http.url_path"), 1, "{kind:?}: {span:#?}");
        assert_eq!(
            attribute(&span, "http.url_path"),
            Some(Value::from("trace")),
            "{kind:?}"
        );
    }
}
