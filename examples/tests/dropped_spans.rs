//! Spans dropped before export are a number to alert on: `order-server` with a small span
//! queue exports to an OTLP receiver that holds the trace exports, as a stalled collector
//! does, while a paced load of order-update streams ends far more spans than the queue holds.
//! The SDK's count of the spans it dropped (`otel.sdk.processor.span.processed` with
//! `error.type=queue_full`) then reads the same on `/metrics`, scraped by a real Prometheus
//! server, in the OTLP metrics, in the console's table at exit and in the SDK's own warning at
//! shutdown; and the spans the receiver gets once released are exactly the others.
//!
//! Without `prometheus` on `PATH` the test is skipped, or fails under `CI=true`:
//! `scripts/test.sh` installs it.

// The server is stopped with SIGTERM, as deployed.
#![cfg(unix)]

mod common;
mod otlp_receiver;
mod prometheus_server;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{example, free_port, number_after, start_server, RunningServer};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use otlp_receiver::{attributes, Receiver, Transport};
use prometheus_server::{selector, Prometheus, TempDir};
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::OrderRequest;

/// Streams opened, one every [`PACE`].
const STREAMS: usize = 30;
/// Between the start of one stream and the next.
const PACE: Duration = Duration::from_millis(20);
/// Updates per stream (`order-server` sends ten, 100 ms apart).
const UPDATES: usize = 10;
/// Spans the server ends per stream: the RPC's, its request's `message RECEIVED` and a
/// `message SENT` per update.
const SPANS_PER_STREAM: usize = 2 + UPDATES;
/// The batch processor's queue, far below the spans of the load.
const QUEUE_SIZE: usize = 32;
/// The service name `order-server` exports under.
const SERVICE: &str = "order-service";
/// The SDK's counter of the spans its processors are done with, exported or dropped.
const SPANS_PROCESSED: &str = "otel.sdk.processor.span.processed";

#[test]
fn dropped_spans_read_the_same_on_metrics_otlp_the_console_and_the_sdk_log() {
    let Some(prometheus_binary) = prometheus_server::binary_or_skip() else {
        return;
    };
    let receiver = Receiver::start();
    receiver.hold_traces();
    let metrics_port = free_port();
    let mut server = start_order_server(&receiver, metrics_port);
    let dir = TempDir::new();
    let mut prometheus = Prometheus::start(&prometheus_binary, &dir.0, &[("order", metrics_port)]);
    prometheus.wait_for(r#"up{job="order"} == 1"#);

    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the load");
    runtime.block_on(paced_load(&server));
    // The last RPC span ends as its stream does, a moment after the client read the end.
    std::thread::sleep(Duration::from_millis(300));
    let load_ended = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");

    // On /metrics, as Prometheus scraped it after the load.
    let dropped = selector(
        "otel_sdk_processor_span_processed_total",
        &[
            ("job", "order"),
            ("otel_scope_name", "otel.sdk"),
            ("error_type", "queue_full"),
        ],
    );
    prometheus.wait_for(&format!(
        "timestamp({dropped}) > {}",
        load_ended.as_secs_f64()
    ));
    let scraped = prometheus.query(&format!("sum({dropped})"));
    let on_metrics_endpoint = scraped.first().map_or(0.0, |series| series.value) as u64;

    // In the OTLP metrics, as pushed after the load.
    let after = u64::try_from(load_ended.as_nanos()).expect("nanoseconds fit");
    let pushed = receiver.latest_metric(SERVICE, SPANS_PROCESSED, |metric| {
        pushed_at(metric).is_some_and(|time| time > after)
    });
    assert_eq!(pushed.scope, "otel.sdk", "{pushed:?}");
    let in_otlp = queue_full(&pushed.metric);

    // The collector answers again: stopping, the server exports the spans its queue holds.
    receiver.release_traces();
    server.signal(libc::SIGTERM);
    let (status, stderr) = server.wait_for_exit(Duration::from_secs(20));
    assert!(status.success(), "order-server failed:\n{stderr}");
    let in_sdk_log = match lines(&stderr, "BatchSpanProcessor.SpansDropped").as_slice() {
        [line] => number_after(line, "dropped_span_count="),
        other => panic!("one drop summary, not {}:\n{stderr}", other.len()),
    };
    // The table the console prints at exit, after the server said it was stopping.
    let (_, at_exit) = stderr
        .split_once("stopping: ")
        .unwrap_or_else(|| panic!("order-server did not say it was stopping:\n{stderr}"));
    let on_console = match lines(at_exit, "spans dropped before export: ").last() {
        Some(line) => number_after(line, "spans dropped before export: "),
        None => panic!("no dropped spans in the console's table at exit:\n{stderr}"),
    };
    let total = STREAMS * SPANS_PER_STREAM;
    let kept = total.saturating_sub(in_sdk_log as usize);
    let received = receiver.all_spans(SERVICE, kept).len();

    eprintln!(
        "{total} spans ended; dropped: {on_metrics_endpoint} on /metrics, {in_otlp} in OTLP, \
         {on_console} on the console, {in_sdk_log} in the SDK's log; {received} exported"
    );
    assert!(
        in_sdk_log > 0 && (in_sdk_log as usize) < total,
        "a load of {total} spans over a queue of {QUEUE_SIZE} drops some, not all:\n{stderr}"
    );
    assert_eq!(on_metrics_endpoint, in_sdk_log, "/metrics:\n{stderr}");
    assert_eq!(in_otlp, in_sdk_log, "OTLP: {pushed:?}");
    assert_eq!(on_console, in_sdk_log, "the console:\n{stderr}");
    assert_eq!(
        received + in_sdk_log as usize,
        total,
        "every span the SDK did not drop is exported"
    );
}

/// `order-server` on a free port with a queue of [`QUEUE_SIZE`] spans exported over OTLP to
/// `receiver`, its metrics on `/metrics` at `metrics_port`, pushed to `receiver` every second
/// and printed on the console (its stderr).
fn start_order_server(receiver: &Receiver, metrics_port: u16) -> RunningServer {
    start_server(
        example(env!("CARGO_BIN_EXE_order-server"))
            .arg("127.0.0.1:0")
            // As deployed: with a key, setup has no warning for the payment messages' HASH field.
            .env("TONIC_TRACED_HASH_KEY", "dropped-spans-test-key")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.endpoint(Transport::Grpc),
            )
            .env("OTEL_TRACES_EXPORTER", "otlp")
            // The held export waits as long as the test needs, rather than failing.
            .env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "30000")
            .env("OTEL_BSP_MAX_QUEUE_SIZE", QUEUE_SIZE.to_string())
            .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8")
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("OTEL_METRICS_EXPORTER", "prometheus,otlp,console")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "1000")
            .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
            .env("OTEL_EXPORTER_PROMETHEUS_PORT", metrics_port.to_string()),
    )
}

/// Opens [`STREAMS`] order-update streams, one every [`PACE`], and reads each to its end;
/// fails the test unless each brings its [`UPDATES`] updates.
async fn paced_load(server: &RunningServer) {
    let client = OrderServiceClient::connect(format!("http://{}", server.address))
        .await
        .expect("order-server accepts connections");
    let mut streams = Vec::new();
    for stream in 0..STREAMS {
        let mut client = client.clone();
        streams.push(tokio::spawn(async move {
            let request = OrderRequest {
                order_id: format!("order-{stream}"),
            };
            let mut updates = client
                .stream_order_updates(request)
                .await
                .expect("the stream opens")
                .into_inner();
            let mut received = 0;
            while updates
                .message()
                .await
                .expect("an update or the end")
                .is_some()
            {
                received += 1;
            }
            received
        }));
        tokio::time::sleep(PACE).await;
    }
    for stream in streams {
        assert_eq!(stream.await.expect("the stream's task"), UPDATES);
    }
}

/// When the points of the OTLP metric `metric` were taken, in nanoseconds since 1970.
fn pushed_at(metric: &Metric) -> Option<u64> {
    match &metric.data {
        Some(Data::Sum(sum)) => sum
            .data_points
            .iter()
            .map(|point| point.time_unix_nano)
            .max(),
        _ => None,
    }
}

/// The sum of the OTLP metric `metric`'s points with `error.type=queue_full`.
fn queue_full(metric: &Metric) -> u64 {
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("{SPANS_PROCESSED} is a sum: {metric:?}");
    };
    sum.data_points
        .iter()
        .filter(|point| {
            let error = attributes(&point.attributes).get("error.type").cloned();
            error == Some(Value::StringValue("queue_full".to_owned()))
        })
        .map(|point| match point.value {
            Some(number_data_point::Value::AsInt(count)) => {
                u64::try_from(count).expect("a count is not negative")
            }
            other => panic!("{SPANS_PROCESSED} counts in integers: {other:?}"),
        })
        .sum()
}

/// The lines of `text` that contain `needle`.
fn lines<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|line| line.contains(needle)).collect()
}
