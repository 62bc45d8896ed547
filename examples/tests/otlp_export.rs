//! The OTLP exporters `init()` sets up from the standard variables, for real: the capitalize
//! server and client run as child processes exporting to an OTLP receiver on loopback, over
//! gRPC and over HTTP (http/protobuf), and the spans and RPC metrics that arrive carry the
//! right resource, scope, names, attributes and values.

mod common;
mod otlp_receiver;

use std::collections::BTreeMap;
use std::process::Command;

use common::{example, run_with_input, start_server, RunningServer};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, HistogramDataPoint, Metric};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use otlp_receiver::{attributes, ReceivedSpan, Receiver, Transport};
use prost::Message;
use tonic_traced_examples::rpc::Payload;

const SERVER: &str = "capitalize-server";
const CLIENT: &str = "capitalize-client";
const SPAN_NAME: &str = "rpc.Fetch/Capitalize";
/// What the client sends, one call per line; the calls' payload ids are 1 and 2.
const LINES: [&str; 2] = ["hello", "world"];

#[test]
fn spans_and_metrics_arrive_over_grpc() {
    spans_and_metrics_arrive(Transport::Grpc);
}

#[test]
fn spans_and_metrics_arrive_over_http() {
    spans_and_metrics_arrive(Transport::Http);
}

#[test]
fn stable_rpc_metrics_arrive_with_semconv_opt_in() {
    let receiver = Receiver::start();
    let server = capitalize_twice(
        &receiver,
        Transport::Grpc,
        &[("OTEL_SEMCONV_STABILITY_OPT_IN", "rpc")],
    );
    let port = i64::from(server.address.port());
    for (service, metric) in [
        (SERVER, "rpc.server.call.duration"),
        (CLIENT, "rpc.client.call.duration"),
    ] {
        let exported = Exported::new(&receiver, Transport::Grpc, service);
        let mut attributes = vec![
            ("rpc.system.name", text("grpc")),
            ("rpc.method", text(SPAN_NAME)),
            ("rpc.status_code", text("OK")),
        ];
        if service == CLIENT {
            // The client's series name the server it called (on the server, opt-in).
            attributes.push(("server.address", text("127.0.0.1")));
            attributes.push(("server.port", Value::IntValue(port)));
        }
        let point = exported.histogram(metric, "s", &attributes, None);
        // The bucket boundaries the semantic conventions advise for rpc.*.call.duration.
        assert_eq!(
            point.explicit_bounds,
            [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
            "{metric}"
        );
        let names = receiver.metric_names(service);
        let old = metric.replace(".call.", ".");
        assert!(
            !names.contains(&old),
            "{service} exports {old} besides {metric}: {names:?}"
        );
    }
}

#[test]
fn headers_reach_the_collector() {
    for transport in [Transport::Grpc, Transport::Http] {
        let receiver = Receiver::start();
        let _server = capitalize_twice(
            &receiver,
            transport,
            &[
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "X-Tenant=team%20a,authorization=Bearer%20t0k3n",
                ),
                ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-tenant=metrics"),
            ],
        );
        let span = &receiver.spans(CLIENT, SPAN_NAME, 1)[0];
        assert_eq!(span.transport, transport);
        let header = |name: &str| span.headers.get(name).map(String::as_str);
        assert_eq!(header("x-tenant"), Some("team a"), "{:?}", span.headers);
        assert_eq!(header("authorization"), Some("Bearer t0k3n"));
        // The per-signal variable replaces the generic one for metrics.
        let metric = receiver.latest_metric(CLIENT, "rpc.client.duration", |_| true);
        assert_eq!(
            metric.headers.get("x-tenant").map(String::as_str),
            Some("metrics"),
            "{transport:?}: {:?}",
            metric.headers
        );
        assert!(!metric.headers.contains_key("authorization"));
    }
}

/// Two calls between the server and the client, both exporting over `transport`: each side's
/// spans and RPC metrics arrive there as the contract says.
fn spans_and_metrics_arrive(transport: Transport) {
    let receiver = Receiver::start();
    let _server = capitalize_twice(&receiver, transport, &[]);

    let server_spans = calls(
        receiver.spans(SERVER, SPAN_NAME, LINES.len()),
        SERVER,
        SpanKind::Server,
        transport,
    );
    let client_spans = calls(
        receiver.spans(CLIENT, SPAN_NAME, LINES.len()),
        CLIENT,
        SpanKind::Client,
        transport,
    );
    for (server, client) in server_spans.iter().zip(&client_spans) {
        assert_eq!(server.trace_id, client.trace_id, "one trace per call");
        assert_eq!(
            server.parent_span_id, client.span_id,
            "the SERVER span is the CLIENT span's child"
        );
        assert!(client.parent_span_id.is_empty(), "each call starts a trace");
    }
    assert_ne!(client_spans[0].trace_id, client_spans[1].trace_id);

    // Sizes are of the encoded messages, as `encoded_len` counts them: no gRPC framing.
    let encoded_bytes = |text: fn(&str) -> String| -> f64 {
        let sizes = LINES.iter().zip(1..).map(|(line, id)| {
            Payload {
                id,
                data: text(line).into_bytes(),
            }
            .encoded_len()
        });
        sizes.sum::<usize>() as f64
    };
    let request_bytes = encoded_bytes(str::to_owned);
    let response_bytes = encoded_bytes(str::to_ascii_uppercase);
    let call_count = LINES.len() as f64;
    let attributes = [
        ("rpc.system", text("grpc")),
        ("rpc.service", text("rpc.Fetch")),
        ("rpc.method", text("Capitalize")),
        ("rpc.grpc.status_code", Value::IntValue(0)),
    ];
    for (service, side) in [(SERVER, "server"), (CLIENT, "client")] {
        let exported = Exported::new(&receiver, transport, service);
        let histogram = |name: &str, unit: &str, sum: Option<f64>| {
            exported.histogram(&format!("rpc.{side}.{name}"), unit, &attributes, sum);
        };
        histogram("duration", "ms", None);
        histogram("request.size", "By", Some(request_bytes));
        histogram("response.size", "By", Some(response_bytes));
        histogram("requests_per_rpc", "{count}", Some(call_count));
        histogram("responses_per_rpc", "{count}", Some(call_count));
    }
}

/// Starts the capitalize server and runs the client on [`LINES`] against it, both exporting
/// to `receiver` over `transport`, with `env` on top; checks the replies and returns the
/// server, still running.
fn capitalize_twice(
    receiver: &Receiver,
    transport: Transport,
    env: &[(&str, &str)],
) -> RunningServer {
    // No `OTEL_SERVICE_NAME`: the name the server's code gives, `capitalize-server`, holds.
    let server = start_server(
        exporting(env!("CARGO_BIN_EXE_capitalize-server"), receiver, transport)
            .envs(env.iter().copied()),
    );

    let output = run_with_input(
        exporting(env!("CARGO_BIN_EXE_capitalize-client"), receiver, transport)
            .envs(env.iter().copied())
            .env("OTEL_SERVICE_NAME", CLIENT)
            .arg(server.address.to_string()),
        &format!("{}\n", LINES.join("\n")),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in LINES {
        let reply = format!("< {}\n", line.to_ascii_uppercase());
        assert!(stdout.contains(&reply), "no {reply:?} in {stdout}");
    }
    server
}

/// [`example`] `binary`, exporting to `receiver` over `transport` every few hundred
/// milliseconds.
fn exporting(binary: &str, receiver: &Receiver, transport: Transport) -> Command {
    let mut command = example(binary);
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(transport))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", transport.protocol())
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "200");
    command
}

fn text(value: &str) -> Value {
    Value::StringValue(value.to_owned())
}

/// Checks where the spans of the Capitalize calls came from and what each carries; returns
/// them in call order, by their payload `id`s, which must be 1 and 2.
fn calls(
    spans: Vec<ReceivedSpan>,
    service: &str,
    kind: SpanKind,
    transport: Transport,
) -> Vec<Span> {
    assert_eq!(spans.len(), LINES.len(), "{spans:#?}");
    let mut by_id: Vec<(i64, Span)> = spans
        .into_iter()
        .map(|received| {
            assert_eq!(received.transport, transport);
            check_resource(&received.resource, service);
            assert_eq!(received.scope, "tonic-traced");
            let span = received.span;
            assert_eq!(span.kind, kind as i32, "{span:#?}");
            assert_eq!(
                span.status.as_ref().map_or(0, |status| status.code),
                StatusCode::Unset as i32,
                "an OK call leaves the status unset: {span:#?}"
            );
            let attributes = attributes(&span.attributes);
            for (key, value) in [
                ("rpc.system", text("grpc")),
                ("rpc.service", text("rpc.Fetch")),
                ("rpc.method", text("Capitalize")),
                ("rpc.grpc.status_code", Value::IntValue(0)),
                ("len", Value::IntValue(5)),
            ] {
                assert_eq!(attributes.get(key), Some(&value), "{key} of {span:#?}");
            }
            let Some(Value::IntValue(id)) = attributes.get("id") else {
                panic!("no integer `id` on {span:#?}");
            };
            (*id, span)
        })
        .collect();
    by_id.sort_by_key(|(id, _)| *id);
    let ids: Vec<i64> = by_id.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2]);
    by_id.into_iter().map(|(_, span)| span).collect()
}

fn check_resource(resource: &BTreeMap<String, Value>, service: &str) {
    assert_eq!(
        resource.get("service.name"),
        Some(&text(service)),
        "{resource:?}"
    );
    assert_eq!(
        resource.get("deployment.environment"),
        Some(&text("test")),
        "{resource:?}"
    );
}

/// The metrics one process exports to the receiver.
struct Exported<'a> {
    receiver: &'a Receiver,
    transport: Transport,
    service: &'a str,
}

impl<'a> Exported<'a> {
    fn new(receiver: &'a Receiver, transport: Transport, service: &'a str) -> Self {
        Exported {
            receiver,
            transport,
            service,
        }
    }

    /// Waits for the histogram `name` to count both calls, then checks that it is cumulative,
    /// in `unit`, in the scope `tonic-traced`, with one data point carrying exactly
    /// `attributes` and summing to `sum` (or to more than zero when `sum` is `None`).
    fn histogram(
        &self,
        name: &str,
        unit: &str,
        attributes: &[(&str, Value)],
        sum: Option<f64>,
    ) -> HistogramDataPoint {
        let calls = LINES.len() as u64;
        let received = self.receiver.latest_metric(self.service, name, |metric| {
            histogram_points(metric)
                .iter()
                .any(|point| point.count == calls)
        });
        assert_eq!(received.transport, self.transport);
        check_resource(&received.resource, self.service);
        assert_eq!(received.scope, "tonic-traced", "scope of {name}");
        let metric = received.metric;
        assert_eq!(metric.unit, unit, "unit of {name}");
        let Some(Data::Histogram(histogram)) = &metric.data else {
            panic!("{name} is no histogram: {metric:#?}");
        };
        assert_eq!(
            histogram.aggregation_temporality,
            AggregationTemporality::Cumulative as i32,
            "{metric:#?}"
        );
        let [point] = histogram.data_points.as_slice() else {
            panic!("{name} of {} has other points: {metric:#?}", self.service);
        };
        let expected: BTreeMap<String, Value> = attributes
            .iter()
            .map(|(key, value)| (key.to_string(), value.clone()))
            .collect();
        assert_eq!(
            otlp_receiver::attributes(&point.attributes),
            expected,
            "attributes of {name}"
        );
        let total = point
            .sum
            .expect("a histogram of non-negative values has a sum");
        match sum {
            Some(sum) => assert_eq!(total, sum, "sum of {name}: {point:#?}"),
            None => assert!(total > 0.0, "sum of {name}: {point:#?}"),
        }
        point.clone()
    }
}

/// A histogram's data points; none for any other kind of metric.
fn histogram_points(metric: &Metric) -> &[HistogramDataPoint] {
    match &metric.data {
        Some(Data::Histogram(histogram)) => &histogram.data_points,
        _ => &[],
    }
}
