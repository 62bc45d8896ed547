//! `#[traced_service(...)]` and `#[traced(...)]` options, and the cost rule: nothing is read
//! from a request whose span is not sampled.

use std::sync::atomic::Ordering;

use opentelemetry::trace::{SpanId, Status as SpanStatus};
use opentelemetry::Value;
use tonic::codegen::tokio_stream::StreamExt;
use tonic::transport::Server;
use tonic::{Code, Request};
use tonic_traced_tests::harness::{attribute, remote_parent, serve, telemetry, with_parent};
use tonic_traced_tests::kitchen::sink::v1::ledger_client::LedgerClient;
use tonic_traced_tests::kitchen::sink::v1::{Counted, Entry};
use tonic_traced_tests::ledger::COUNTED_RECORDINGS;
use tonic_traced_tests::rootless_client::RootlessClient;
use tonic_traced_tests::{edge, ledger, Ping};

fn entry(account: &str) -> Entry {
    Entry {
        account: account.to_owned(),
        cents: 250,
    }
}

async fn ledger_client() -> LedgerClient<tonic::transport::Channel> {
    telemetry();
    let address = serve(Server::builder().add_service(ledger::server())).await;
    LedgerClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

#[tokio::test]
async fn messages_as_events_on_the_rpc_span() {
    let mut client = ledger_client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let stream = client
        .watch(with_parent(entry("acc-1"), &traceparent))
        .await
        .unwrap();
    assert_eq!(stream.into_inner().fold(0, |n, _| n + 1).await, 3);

    let spans = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
    assert_eq!(spans.name, "kitchen.sink.v1.Ledger/Watch");
    assert_eq!(
        telemetry().trace(trace_id).len(),
        1,
        "events, not child spans"
    );
    let events: Vec<_> = spans
        .events
        .iter()
        .filter(|e| e.name == "message")
        .collect();
    assert_eq!(events.len(), 4, "one request received, three entries sent");
    let value = |event: &opentelemetry::trace::Event, key: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(
        value(events[0], "rpc.message.type"),
        Some("RECEIVED".into())
    );
    for (index, event) in events[1..].iter().enumerate() {
        assert_eq!(value(event, "rpc.message.type"), Some("SENT".into()));
        assert_eq!(
            value(event, "rpc.message.id"),
            Some(Value::I64(index as i64 + 1))
        );
        assert_eq!(value(event, "ledger.account"), Some("acc-1".into()));
        assert_eq!(value(event, "ledger.cents"), Some(Value::I64(250)));
    }
}

#[tokio::test]
async fn messages_off_and_skipped_methods() {
    let mut client = ledger_client().await;
    let (silent_trace, _, traceparent) = remote_parent(true);
    let stream = client
        .silent(with_parent(entry("acc-2"), &traceparent))
        .await
        .unwrap();
    assert_eq!(stream.into_inner().fold(0, |n, _| n + 1).await, 3);
    let span = telemetry().wait_for(|t| t.trace(silent_trace).pop()).await;
    assert_eq!(span.name, "kitchen.sink.v1.Ledger/Silent");
    assert!(span.events.is_empty());
    assert_eq!(telemetry().trace(silent_trace).len(), 1);

    let (skipped_trace, _, traceparent) = remote_parent(true);
    client
        .skipped(with_parent(entry("acc-3"), &traceparent))
        .await
        .unwrap();
    telemetry()
        .flush_with(|parent| client.silent(with_parent(entry("acc-4"), &parent)))
        .await;
    assert!(
        telemetry().trace(skipped_trace).is_empty(),
        "a skipped method has no span"
    );
}

#[tokio::test]
async fn unary_message_spans_when_asked_and_no_reads_when_unsampled() {
    let mut client = ledger_client().await;
    let note = Counted {
        note: "lunch".to_owned(),
    };

    let before = COUNTED_RECORDINGS.load(Ordering::SeqCst);
    let (trace_id, _, traceparent) = remote_parent(true);
    client
        .record(with_parent(note.clone(), &traceparent))
        .await
        .unwrap();
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 3).then_some(spans)
        })
        .await;
    let rpc = spans
        .iter()
        .find(|s| s.name == "kitchen.sink.v1.Ledger/Record")
        .unwrap();
    assert_eq!(attribute(rpc, "counted.note"), Some("lunch".into()));
    let received = spans.iter().find(|s| s.name == "message RECEIVED").unwrap();
    assert_eq!(attribute(received, "counted.note"), Some("lunch".into()));
    let sent = spans.iter().find(|s| s.name == "message SENT").unwrap();
    assert_eq!(attribute(sent, "ledger.account"), Some("lunch".into()));
    let sampled_reads = COUNTED_RECORDINGS.load(Ordering::SeqCst) - before;
    assert_eq!(
        sampled_reads, 2,
        "once for the RPC span, once for the message span"
    );

    let before = COUNTED_RECORDINGS.load(Ordering::SeqCst);
    let (_, _, unsampled) = remote_parent(false);
    for _ in 0..5 {
        client
            .record(with_parent(note.clone(), &unsampled))
            .await
            .unwrap();
    }
    assert_eq!(
        COUNTED_RECORDINGS.load(Ordering::SeqCst),
        before,
        "an unsampled call reads no field"
    );
}

#[tokio::test]
async fn public_endpoint_links_the_caller_and_renames_the_service() {
    telemetry();
    let address = serve(Server::builder().add_service(edge::server())).await;
    let mut client = RootlessClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let ping = |label: &str| Ping {
        label: label.to_owned(),
    };

    let (remote_trace, remote_span, traceparent) = remote_parent(true);
    client
        .ping(with_parent(ping("hello"), &traceparent))
        .await
        .unwrap();
    let span = telemetry()
        .wait_for(|t| {
            t.served_by(address.port())
                .into_iter()
                .find(|s| attribute(s, "ping.label") == Some("hello".into()))
        })
        .await;
    assert_eq!(span.name, "edge.Gateway/Ping");
    assert_eq!(attribute(&span, "rpc.service"), Some("edge.Gateway".into()));
    assert_eq!(attribute(&span, "rpc.method"), Some("Ping".into()));
    assert_eq!(
        span.parent_span_id,
        SpanId::INVALID,
        "a new root, not the caller's child"
    );
    assert_ne!(span.span_context.trace_id(), remote_trace);
    let links: Vec<_> = span.links.iter().collect();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].span_context.trace_id(), remote_trace);
    assert_eq!(links[0].span_context.span_id(), remote_span);

    for (label, code, error) in [
        ("missing", Code::NotFound, true),
        ("invalid", Code::InvalidArgument, false),
    ] {
        let status = client.ping(Request::new(ping(label))).await.unwrap_err();
        assert_eq!(status.code(), code);
        let span = telemetry()
            .wait_for(|t| {
                t.served_by(address.port())
                    .into_iter()
                    .find(|s| attribute(s, "ping.label") == Some(label.to_owned().into()))
            })
            .await;
        assert_eq!(
            matches!(span.status, SpanStatus::Error { .. }),
            error,
            "{label}"
        );
        assert!(span.links.is_empty(), "no caller context, no link");
    }
}
