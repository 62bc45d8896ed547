//! With the collector unreachable, or accepting connections but never answering, and a tiny
//! span queue, RPCs still succeed, the process exits within its shutdown timeout, and stderr
//! carries one warning per kind of loss with counts — not one line per failed batch or metrics
//! push.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    example, free_port, number_after, run_with_input, silent_collector, start_server, RunningServer,
};

const CALLS: usize = 60;

/// The number right before `after` on `line`.
fn number_before(line: &str, after: &str) -> u64 {
    let head = line
        .split(after)
        .next()
        .filter(|head| head.len() < line.len())
        .unwrap_or_else(|| panic!("no {after:?} in {line}"));
    let digits = head.rsplit(|c: char| !c.is_ascii_digit()).next().unwrap();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number before {after:?} in {line}"))
}

/// A server whose own telemetry is off, for the client to call.
fn server() -> RunningServer {
    start_server(
        example(env!("CARGO_BIN_EXE_capitalize-server"))
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none"),
    )
}

/// What the client printed, and how long it ran, making [`CALLS`] calls to `server` with
/// telemetry sent to `collector` as `vars` say; asserts that it exited 0 and every call was
/// answered.
fn run_client(server: &RunningServer, vars: &[(&str, &str)]) -> (String, Duration) {
    let input: String = (0..CALLS).map(|n| format!("line {n}\n")).collect();
    let mut client = example(env!("CARGO_BIN_EXE_capitalize-client"));
    client
        .arg(server.address.to_string())
        .envs(vars.iter().copied());
    let started = Instant::now();
    let output = run_with_input(&mut client, &input);
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.matches("< LINE ").count(),
        CALLS,
        "every call answered:\n{stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("ERROR"),
        "no error lines from the SDK:\n{stderr}"
    );
    (stderr, elapsed)
}

/// The lines of `stderr` that contain `needle`.
fn lines<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|line| line.contains(needle))
        .collect()
}

/// The spans dropped from the full queue, from the batch processor's one summary.
fn dropped_spans(stderr: &str) -> u64 {
    assert!(
        lines(stderr, "BatchSpanProcessor.SpanDroppingStarted").len() <= 1,
        "{stderr}"
    );
    match lines(stderr, "BatchSpanProcessor.SpansDropped").as_slice() {
        [line] => number_after(line, "dropped_span_count="),
        other => panic!("one drop summary, not {}:\n{stderr}", other.len()),
    }
}

/// Checks the first-failure warning and the totals of each signal; the spans that failed.
fn failure_warnings(stderr: &str, destination: &str) -> u64 {
    for signal in ["spans", "metrics"] {
        let first_failure = lines(stderr, &format!(" {signal} to {destination}"));
        assert_eq!(
            first_failure.len(),
            1,
            "one warning for {signal}, not one per export:\n{stderr}"
        );
        assert!(first_failure[0].contains("could not export"), "{stderr}");
        let totals = lines(stderr, &format!(" {signal} in "));
        assert_eq!(totals.len(), 1, "{stderr}");
        assert!(totals[0].contains("could not be exported"), "{stderr}");
        assert!(number_before(totals[0], " exports") >= 1, "{stderr}");
    }
    number_before(lines(stderr, " spans in ")[0], " spans in ")
}

#[test]
fn collector_down_costs_spans_not_calls_and_warns_once() {
    let server = server();
    // A port that was free a moment ago: nothing answers there. A collector that accepts
    // connections and never answers: each export waits for its 200 ms timeout, so the queue of
    // two overflows.
    let closed = format!("http://{}", SocketAddr::from(([127, 0, 0, 1], free_port())));
    let silent = format!("http://{}", silent_collector());
    for collector in [closed, silent] {
        let (stderr, elapsed) = run_client(
            &server,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "2"),
                ("OTEL_BSP_SCHEDULE_DELAY", "10"),
            ],
        );
        // The guard's default shutdown timeout is 5 s; the calls themselves take well under
        // that.
        assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
        let failed_spans = failure_warnings(&stderr, &format!("{collector}:"));
        let dropped = dropped_spans(&stderr);
        assert!(dropped >= 1, "{stderr}");
        // One CLIENT span per call: each was either dropped from the full queue or failed.
        assert_eq!(failed_spans + dropped, CALLS as u64, "{stderr}");
    }
}

#[test]
fn shutdown_stops_waiting_for_a_silent_collector_after_its_timeout() {
    let server = server();
    let collector = format!("http://{}", silent_collector());
    for protocol in ["grpc", "http/protobuf"] {
        // Each export may wait 10 s, the default, longer than the 5 s the guard waits.
        let (stderr, elapsed) = run_client(
            &server,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
            ],
        );
        assert!(
            (Duration::from_secs(5)..Duration::from_secs(15)).contains(&elapsed),
            "{protocol}: waited the 5 s shutdown timeout, then exited; took {elapsed:?}\n{stderr}"
        );
        let mut unfinished = 0;
        for signal in ["spans", "metrics"] {
            let warnings = lines(
                &stderr,
                &format!(" {signal} not exported: the collector at {collector}"),
            );
            assert_eq!(warnings.len(), 1, "{protocol}: {stderr}");
            assert!(warnings[0].contains("within 5.0 s"), "{stderr}");
            if signal == "spans" {
                unfinished = number_before(warnings[0], " spans not exported");
            }
        }
        // One CLIENT span per call, none exported: all but the dropped ones were unfinished,
        // and the count includes the dropped.
        assert!(dropped_spans(&stderr) >= 1, "{stderr}");
        assert_eq!(unfinished, CALLS as u64, "{protocol}: {stderr}");
    }
}

/// Set in the child processes of the test below, to the protocol each one tries.
const PROTOCOL_VAR: &str = "SHUTDOWN_TEST_PROTOCOL";

/// Both protocols, each in a process of its own: `init()` installs once per process.
#[test]
fn configured_shutdown_timeout_bounds_spans_and_metrics_together() {
    if let Ok(protocol) = std::env::var(PROTOCOL_VAR) {
        return tokio::runtime::Runtime::new()
            .expect("a Tokio runtime")
            .block_on(shutdown_is_bounded(&protocol));
    }
    for protocol in ["grpc", "http/protobuf"] {
        let status = std::process::Command::new(std::env::current_exe().expect("this test"))
            .args([
                "--exact",
                "configured_shutdown_timeout_bounds_spans_and_metrics_together",
                "--nocapture",
            ])
            .env(PROTOCOL_VAR, protocol)
            .status()
            .expect("the test binary runs");
        assert!(status.success(), "{protocol}: the child test failed");
    }
}

/// `init()` with both signals sent over `protocol` to a collector that never answers.
async fn shutdown_is_bounded(protocol: &str) {
    use opentelemetry::global;
    use opentelemetry::trace::{Span as _, Tracer as _};

    let collector = format!("http://{}", silent_collector());
    let timeout = Duration::from_secs(1);
    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        // Both signals to the collector and the console: two span processors.
        ("OTEL_TRACES_EXPORTER", "otlp,console"),
    ];
    let telemetry = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .shutdown_timeout(timeout)
        .install_with(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
        .unwrap();
    let tracer = global::tracer("test");
    let counter = global::meter("test").u64_counter("work").build();
    for _ in 0..100 {
        tracer.start("work").end();
        counter.add(1, &[]);
    }
    let started = Instant::now();
    let result = telemetry.shutdown();
    let elapsed = started.elapsed();
    assert!(result.is_ok(), "{protocol}: {result:?}");
    assert!(
        (timeout..timeout + Duration::from_secs(2)).contains(&elapsed),
        "{protocol}: waited the 1 s timeout for both signals, then stopped; took {elapsed:?}"
    );
}
