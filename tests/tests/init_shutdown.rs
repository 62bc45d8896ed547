//! `init()` end to end: in strict mode a bad variable is an error, and shutting down with the
//! collector unreachable takes at most the shutdown timeout, spans and metrics together.

use std::time::{Duration, Instant};

use opentelemetry::global;
use opentelemetry::trace::{Span as _, Tracer as _};
use tonic_traced_tests::harness::env_lookup as lookup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_fail_and_shutdown_is_bounded_with_the_collector_down() {
    let error = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .strict(true)
        .install_with(lookup(&[("OTEL_TRACES_SAMPLER", "sometimes")]))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("OTEL_TRACES_SAMPLER=\"sometimes\" is not a sampler"),
        "{error}"
    );

    // Nothing listens on port 9 of loopback: every export attempt fails or hangs.
    let telemetry = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .shutdown_timeout(Duration::from_secs(1))
        .install_with(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("OTEL_SERVICE_NAME", "shutdown-test"),
        ]))
        .unwrap();
    let tracer = global::tracer("test");
    let counter = global::meter("test").u64_counter("work").build();
    for _ in 0..1000 {
        tracer.start("work").end();
        counter.add(1, &[]);
    }
    let started = Instant::now();
    // What the collector did not take is a warning, not an error: the exit status stays 0.
    let result = telemetry.shutdown();
    assert!(result.is_ok(), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        started.elapsed()
    );
}
