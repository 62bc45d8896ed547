//! What a caller controls cannot make spans unbounded or read back a hashed field: with an
//! attribute value limit of 64 characters, a cap of 5 message spans per RPC and a hash key,
//! over a real loopback server and traced client.

use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use tonic::codegen::tokio_stream::StreamExt;
use tonic::transport::Server;
use tonic::{Request, Response, Status};
use tonic_traced::SpanAttributes;
use tonic_traced_tests::harness::{
    attribute, header, in_root_span, remote_parent, serve, telemetry_with, with_parent,
};
use tonic_traced_tests::kitchen::sink::v1::ledger_client::LedgerClient;
use tonic_traced_tests::kitchen::sink::v1::ledger_server::{Ledger, LedgerServer};
use tonic_traced_tests::kitchen::sink::v1::{Counted, Entry, Redacted};
use tonic_traced_tests::ledger::{three, EntryStream};
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;

const LIMIT: usize = 64;
const MESSAGES: u64 = 5;

fn telemetry() -> &'static tonic_traced_tests::harness::Telemetry {
    telemetry_with(|config| {
        config
            .attribute_value_length_limit(LIMIT)
            .max_messages_per_rpc(MESSAGES)
            .hash_key("deployment-secret")
    })
}

#[tokio::test]
async fn a_huge_field_is_cut_to_the_limit_on_both_sides() {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = traced_client(address).await;
    // 3.5 MB of multi-byte characters, with the commands in front.
    let huge = format!("code=5;{}", "€".repeat(1_200_000));
    let (trace_id, result) = in_root_span(client.get_http_thing(header(&huge))).await;
    assert_eq!(result.unwrap_err().code(), tonic::Code::NotFound);
    let expected: String = huge.chars().take(LIMIT).collect();
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = telemetry().span_of_kind(trace_id, kind.clone()).await;
        assert_eq!(
            attribute(&span, "http.url_path"),
            Some(Value::from(expected.clone())),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn message_spans_are_capped_and_the_rest_counted() {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = traced_client(address).await;
    let (trace_id, updates) = in_root_span(async {
        let mut stream = client
            .watch_http_things(header("count=20"))
            .await
            .unwrap()
            .into_inner();
        let mut updates = 0;
        while stream.next().await.transpose().unwrap().is_some() {
            updates += 1;
        }
        updates
    })
    .await;
    assert_eq!(updates, 20);
    let server = telemetry().span_of_kind(trace_id, SpanKind::Server).await;
    let client = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    for rpc in [&server, &client] {
        // One request and 20 updates: 21 messages, 5 recorded.
        assert_eq!(
            attribute(rpc, "tonic_traced.messages.unrecorded"),
            Some(Value::I64(21 - MESSAGES as i64)),
            "{:?}",
            rpc.span_kind
        );
        let recorded = telemetry()
            .trace(trace_id)
            .into_iter()
            .filter(|span| span.parent_span_id == rpc.span_context.span_id())
            .filter(|span| span.name.starts_with("message "))
            .count();
        assert_eq!(recorded as u64, MESSAGES, "{:?}", rpc.span_kind);
    }
}

#[test]
fn hashed_fields_are_keyed() {
    telemetry();
    let message = Redacted {
        customer_id: "cust-123".into(),
        card: b"4111111111111111".to_vec().into(),
        ..Redacted::default()
    };
    let mut attributes: Vec<KeyValue> = Vec::new();
    message.record_attributes(&mut attributes);
    // HMAC-SHA-256 under "deployment-secret", first 64 bits (Python's hmac module agrees);
    // the unkeyed SHA-256 of "cust-123" would be fc3ce5a6986e1e05.
    let value = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(value("customer.id"), Some(Value::from("ee80d6624a0ee1ee")));
    assert_eq!(value("card.hash"), Some(Value::from("90b486555c1e44a6")));
}

/// A ledger whose service caps message spans at 3 per call, and its `Watch` at 2.
struct CappedBooks;

#[tonic_traced::traced_service(max_messages = 3)]
#[tonic::async_trait]
impl Ledger for CappedBooks {
    type WatchStream = EntryStream;

    #[traced(max_messages = 2)]
    async fn watch(&self, request: Request<Entry>) -> Result<Response<Self::WatchStream>, Status> {
        Ok(Response::new(three(request.into_inner())))
    }

    type SilentStream = EntryStream;

    async fn silent(
        &self,
        request: Request<Entry>,
    ) -> Result<Response<Self::SilentStream>, Status> {
        Ok(Response::new(three(request.into_inner())))
    }

    async fn skipped(&self, request: Request<Entry>) -> Result<Response<Entry>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn record(&self, _request: Request<Counted>) -> Result<Response<Entry>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

#[tokio::test]
async fn a_service_and_a_method_cap_their_message_spans() {
    telemetry();
    let address = serve(Server::builder().add_service(LedgerServer::new(CappedBooks))).await;
    let mut client = LedgerClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    for (name, cap) in [("Watch", 2), ("Silent", 3)] {
        let (trace_id, _, traceparent) = remote_parent(true);
        let entry = Entry {
            account: "acct".into(),
            cents: 1,
        };
        let request = with_parent(entry, &traceparent);
        let mut stream = match name {
            "Watch" => client.watch(request).await,
            _ => client.silent(request).await,
        }
        .unwrap()
        .into_inner();
        while stream.next().await.transpose().unwrap().is_some() {}
        let rpc = telemetry().span_of_kind(trace_id, SpanKind::Server).await;
        // One request and three entries: four messages.
        assert_eq!(
            attribute(&rpc, "tonic_traced.messages.unrecorded"),
            Some(Value::I64(4 - cap)),
            "{name}"
        );
        let recorded = telemetry()
            .trace(trace_id)
            .into_iter()
            .filter(|span| span.name.starts_with("message "))
            .count();
        assert_eq!(recorded as i64, cap, "{name}");
    }
}
