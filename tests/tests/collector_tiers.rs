//! deploy/'s collector tiers at small scale, on loopback, as the issue asks: two replicas of
//! `payment-server` → two first-tier collectors (deploy/otel-collector/config.yaml) routing by
//! trace id with the loadbalancing exporter (static resolver: the two second-tier collectors)
//! → two tail-sampling collectors (sampler.yaml: errors, ≥ 1 s, 10 % of the rest) → Jaeger.
//!
//! Every trace crosses both first-tier collectors: each call is made by the client of one
//! replica (`payment-client`, exporting to that replica's collector) to the other replica.
//! At [`RATE`] calls a second, mixed as [`call`] says, it measures what reaches Jaeger: every
//! failed and every slow trace, whole (all four spans, linked), and 10 % ± [`MARGIN`] of the
//! rest, each kept one whole too; and no span lost between the tiers.
//!
//! `decision_wait` is 8 s here (`collector::DECISION_WAIT`, through `OTELCOL_DECISION_WAIT`; 10 s in
//! production): see there why not less. Needs Go (see `tonic_traced_tests::go`) and `curl`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tonic_traced_tests::collector::{Collector, Tiers};
use tonic_traced_tests::jaeger::Trace;
use tonic_traced_tests::services::{
    pay, payment_traces, whole_payment, PaymentServer, PROCESS_PAYMENT,
};

const SERVER: &str = env!("CARGO_BIN_EXE_tests-payment-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_tests-payment-client");
/// Calls started per second (each one `payment-client` process).
const RATE: f64 = 20.0;
/// Calls at most in flight at once (slow ones take 1.2 s).
const IN_FLIGHT: usize = 8;
/// Calls in all: 20 slow, 20 failed, 380 ordinary (see [`call`]).
const CALLS: usize = 420;
/// How far the share of ordinary traces kept may be from 10 %: 5 points, over three standard
/// deviations of a binomial 10 % of 380 (1.5 points), so a correct pipeline fails about once in
/// a thousand runs.
const MARGIN: f64 = 0.05;
/// How long after the last call the kept traces may take to reach Jaeger: the first tier's
/// batch (`timeout: 5s`), the decision wait (8 s), the second tier's batch
/// (5 s) and Jaeger's, with room.
const SETTLE: Duration = Duration::from_secs(22);

/// What a call is, by what the tail policies see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Approved quickly: kept only by the 10 % policy.
    Ordinary,
    /// A foreign currency: the 1.2 s fraud check; kept by the `slow` policy.
    Slow,
    /// From 10,000 the fraud check is `UNAVAILABLE`: kept by the `errors` policy.
    Failed,
}

/// Call `index`: its kind and amount, in whole units so that Jaeger's string form of the
/// `payment.amount` double is the same text (`17`, not `17.0`); the amount tells calls apart.
fn call(index: usize) -> (Kind, u32, &'static str) {
    let number = index as u32;
    match index % 21 {
        0 => (Kind::Slow, 1_000 + number, "EUR"),
        1 => (Kind::Failed, 20_000 + number, "USD"),
        _ => (Kind::Ordinary, 1 + number, "USD"),
    }
}

/// Makes [`CALLS`] calls at [`RATE`], [`IN_FLIGHT`] at most at once: call `i` by the client of
/// replica `i % 2`, exporting to that replica's collector, to the other replica. Returns each
/// call's exit code and the calls' wall time.
fn make_calls(tiers: &Tiers, replicas: &[PaymentServer; 2]) -> (Vec<i32>, Duration) {
    let next = AtomicUsize::new(0);
    let codes = Mutex::new(vec![-1; CALLS]);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..IN_FLIGHT {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= CALLS {
                    return;
                }
                let due = start + Duration::from_secs_f64(index as f64 / RATE);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let (_, amount, currency) = call(index);
                let (from, to) = (index % 2, 1 - index % 2);
                let output = pay(
                    Path::new(CLIENT),
                    tiers.first[from].otlp_grpc,
                    &format!("service.instance.id={}", client_name(from)),
                    &replicas[to].address,
                    &amount.to_string(),
                    currency,
                );
                codes.lock().unwrap()[index] = output.status.code().unwrap_or(-1);
            });
        }
    });
    (codes.into_inner().unwrap(), start.elapsed())
}

/// Replica `index`'s name, its `service.instance.id`.
fn replica_name(index: usize) -> String {
    format!("replica-{}", ["a", "b"][index])
}

/// The name of replica `index`'s client.
fn client_name(index: usize) -> String {
    format!("{}-client", replica_name(index))
}

/// The trace went through both first-tier collectors: its client is one replica's, its server
/// the other replica.
fn crossed_both_collectors(trace: &Trace) -> Result<(), String> {
    let instance =
        |service: &str| trace.span(service, PROCESS_PAYMENT).process["service.instance.id"].clone();
    let (client, server) = (instance("payment-client"), instance("payment-service"));
    let crossed =
        (0..2).any(|index| client == client_name(index) && server == replica_name(1 - index));
    crossed
        .then_some(())
        .ok_or(format!("{client} called {server}"))
}

/// The kept traces by call index; panics on a trace of no call.
fn kept_by_call(traces: BTreeMap<String, Trace>) -> BTreeMap<usize, Trace> {
    let index_of: BTreeMap<String, usize> = (0..CALLS)
        .map(|index| (call(index).1.to_string(), index))
        .collect();
    traces
        .into_iter()
        .map(|(amount, trace)| {
            let index = *index_of
                .get(&amount)
                .unwrap_or_else(|| panic!("a trace of no call: {trace:#?}"));
            (index, trace)
        })
        .collect()
}

/// The spans a collector's OTLP receiver accepted.
fn accepted_spans(collector: &Collector) -> f64 {
    collector.metric("otelcol_receiver_accepted_spans")
}

#[test]
fn the_tail_keeps_every_failed_and_slow_trace_whole_and_a_tenth_of_the_rest() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipeline");
    let logs = out.join("logs-collector-tiers");
    let Some(tiers) = Tiers::start(&out, &logs) else {
        return;
    };
    let replicas = [0, 1].map(|index| {
        PaymentServer::start(
            Path::new(SERVER),
            &replica_name(index),
            tiers.first[index].otlp_grpc,
            &logs,
        )
    });

    let (codes, took) = make_calls(&tiers, &replicas);
    let done = Instant::now();
    for (index, code) in codes.iter().enumerate() {
        let expected = if call(index).0 == Kind::Failed { 1 } else { 0 };
        assert_eq!(*code, expected, "call {index}: {:?}", call(index));
    }
    eprintln!(
        "{CALLS} calls offered at {RATE}/s, made in {took:.1?}: {:.1} calls/s",
        CALLS as f64 / took.as_secs_f64()
    );

    // Every failed and slow trace arrives, whole; then the ordinary ones have had their time.
    let must_keep: Vec<usize> = (0..CALLS)
        .filter(|index| call(*index).0 != Kind::Ordinary)
        .collect();
    let kept = loop {
        let kept = kept_by_call(payment_traces(&tiers.jaeger));
        let complete = must_keep.iter().all(|index| {
            kept.get(index)
                .is_some_and(|trace| whole_payment(trace).is_ok())
        });
        if complete && done.elapsed() >= SETTLE {
            break kept;
        }
        assert!(
            done.elapsed() < SETTLE * 2,
            "after {:?}, missing or incomplete: {:#?}",
            done.elapsed(),
            must_keep
                .iter()
                .filter(|index| kept
                    .get(index)
                    .is_none_or(|trace| whole_payment(trace).is_err()))
                .map(|index| (call(*index), kept.get(index).map(whole_payment)))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(500));
    };

    for (index, trace) in &kept {
        whole_payment(trace).unwrap_or_else(|error| panic!("call {index}: {error}: {trace:#?}"));
        crossed_both_collectors(trace).unwrap_or_else(|error| panic!("call {index}: {error}"));
        let server = trace.span("payment-service", PROCESS_PAYMENT);
        let client = trace.span("payment-client", PROCESS_PAYMENT);
        match call(*index).0 {
            Kind::Slow => {
                assert!(server.duration >= 1_000_000, "{server:?}");
                assert_eq!(server.tag("payment.currency"), Some("EUR"));
            }
            Kind::Failed => {
                for span in [server, client] {
                    assert_eq!(span.tag("rpc.grpc.status_code"), Some("14"), "{span:?}");
                    assert_eq!(span.tag("error"), Some("true"), "{span:?}");
                }
            }
            Kind::Ordinary => {
                assert_eq!(server.tag("payment.status"), Some("approved"));
                assert_eq!(server.tag("error"), None);
            }
        }
    }
    let ordinary = (0..CALLS)
        .filter(|index| call(*index).0 == Kind::Ordinary)
        .count();
    let ordinary_kept = kept
        .keys()
        .filter(|index| call(**index).0 == Kind::Ordinary)
        .count();
    let share = ordinary_kept as f64 / ordinary as f64;
    eprintln!(
        "kept: all {} failed and slow traces, whole; {ordinary_kept} of {ordinary} ordinary ({:.1} %)",
        must_keep.len(),
        share * 100.0
    );
    assert!(
        (share - 0.10).abs() <= MARGIN,
        "{ordinary_kept} of {ordinary} ordinary traces kept"
    );

    // No span was lost between the tiers, and both tail samplers had their share.
    let first: Vec<f64> = tiers.first.iter().map(accepted_spans).collect();
    let second: Vec<f64> = tiers.second.iter().map(accepted_spans).collect();
    eprintln!("spans accepted: first tier {first:?}, second tier {second:?}");
    assert_eq!(first.iter().sum::<f64>(), (CALLS * 4) as f64, "{first:?}");
    assert_eq!(
        second.iter().sum::<f64>(),
        first.iter().sum::<f64>(),
        "{second:?}"
    );
    assert!(second.iter().all(|spans| *spans > 0.0), "{second:?}");
}
