//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup`: old and stable conventions side by side.

use opentelemetry::{KeyValue, Value};
use tonic_traced_tests::harness::{attribute, telemetry};
use tonic_traced_tests::semconv_check::{call_spans, opt_in};

#[tokio::test]
async fn both_sets() {
    opt_in("http,rpc/dup");
    let (server, client) = call_spans(13).await;
    for span in [&server, &client] {
        assert_eq!(attribute(span, "rpc.system"), Some("grpc".into()));
        assert_eq!(attribute(span, "rpc.system.name"), Some("grpc".into()));
        assert_eq!(
            attribute(span, "rpc.service"),
            Some("kitchen.sink.v1.HTTPThings".into())
        );
        // One key cannot hold both values; the stable, fully-qualified one is kept.
        assert_eq!(
            attribute(span, "rpc.method"),
            Some("kitchen.sink.v1.HTTPThings/GetHTTPThing".into())
        );
        assert_eq!(
            attribute(span, "rpc.grpc.status_code"),
            Some(Value::I64(13))
        );
        assert_eq!(attribute(span, "rpc.status_code"), Some("INTERNAL".into()));
        assert_eq!(attribute(span, "error.type"), Some("INTERNAL".into()));
    }
    let port = attribute(&client, "server.port").expect("the client knows the server's port");
    for side in ["server", "client"] {
        let old = [
            KeyValue::new("rpc.system", "grpc"),
            KeyValue::new("rpc.service", "kitchen.sink.v1.HTTPThings"),
            KeyValue::new("rpc.method", "GetHTTPThing"),
            KeyValue::new("rpc.grpc.status_code", 13),
        ];
        let mut stable = vec![
            KeyValue::new("rpc.system.name", "grpc"),
            KeyValue::new("rpc.method", "kitchen.sink.v1.HTTPThings/GetHTTPThing"),
            KeyValue::new("rpc.status_code", "INTERNAL"),
            KeyValue::new("error.type", "INTERNAL"),
        ];
        if side == "client" {
            // The stable client duration names the server (the old metrics do not).
            stable.push(KeyValue::new("server.address", "127.0.0.1"));
            stable.push(KeyValue::new("server.port", port.clone()));
        }
        let old_count = telemetry()
            .histogram(&format!("rpc.{side}.duration"), &old)
            .0;
        let stable_count = telemetry()
            .histogram(&format!("rpc.{side}.call.duration"), &stable)
            .0;
        assert_eq!((old_count, stable_count), (1, 1), "{side} metrics");
    }
}
