//! With the collector unreachable and a tiny span queue, RPCs still succeed, the process exits
//! within its shutdown timeout, and stderr carries one warning per kind of loss with counts —
//! not one line per failed batch or metrics push.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{example, free_port, run_with_input, start_server};

const CALLS: usize = 60;

/// The number right after `before` on `line`.
fn number_after(line: &str, before: &str) -> u64 {
    let value = line
        .split(before)
        .nth(1)
        .unwrap_or_else(|| panic!("no {before:?} in {line}"));
    value
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {before:?} in {line}"))
}

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

#[test]
fn collector_down_costs_spans_not_calls_and_warns_once() {
    let server = start_server(
        example(env!("CARGO_BIN_EXE_capitalize-server"))
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none"),
    );

    // A port that was free a moment ago: nothing answers there.
    let closed = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let input: String = (0..CALLS).map(|n| format!("line {n}\n")).collect();
    let started = Instant::now();
    let output = run_with_input(
        example(env!("CARGO_BIN_EXE_capitalize-client"))
            .arg(server.address.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{closed}"))
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", "200")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "50")
            .env("OTEL_BSP_MAX_QUEUE_SIZE", "2")
            .env("OTEL_BSP_SCHEDULE_DELAY", "10"),
        &input,
    );
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.matches("< LINE ").count(),
        CALLS,
        "every call answered:\n{stdout}\n{stderr}"
    );
    // The guard's default shutdown timeout is 5 s; the calls themselves take well under that.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");

    let lines = |needle: &str| -> Vec<&str> {
        stderr
            .lines()
            .filter(|line| line.contains(needle))
            .collect()
    };
    for signal in ["spans", "metrics"] {
        let first_failure = lines(&format!(" {signal} to http://{closed}:"));
        assert_eq!(
            first_failure.len(),
            1,
            "one warning for {signal}, not one per export:\n{stderr}"
        );
        assert!(first_failure[0].contains("could not export"), "{stderr}");
        let totals = lines(&format!(" {signal} in "));
        assert_eq!(totals.len(), 1, "{stderr}");
        assert!(totals[0].contains("could not be exported"), "{stderr}");
        assert!(number_before(totals[0], " exports") >= 1, "{stderr}");
    }
    let failed_spans = number_before(lines(" spans in ")[0], " spans in ");
    assert!(
        lines("BatchSpanProcessor.SpanDroppingStarted").len() <= 1,
        "{stderr}"
    );
    let dropped = match lines("BatchSpanProcessor.SpansDropped").as_slice() {
        [] => 0,
        [line] => number_after(line, "dropped_span_count="),
        more => panic!("one drop summary, not {}:\n{stderr}", more.len()),
    };
    // One CLIENT span per call: each was either dropped from the full queue or failed.
    assert_eq!(failed_spans + dropped, CALLS as u64, "{stderr}");
    assert!(
        !stderr.contains("ERROR"),
        "no error lines from the SDK:\n{stderr}"
    );
}
