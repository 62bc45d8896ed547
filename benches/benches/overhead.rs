//! What `#[traced_service]` adds per RPC: the same handler body, plain and traced, called
//! in-process (no network, no tonic server) on a current-thread runtime. And what the client
//! layer adds per unary call: the same generated client over the same in-process transport,
//! plain and under `tonic_traced::client::layer()`.
//!
//! One SDK for the whole binary (parent-based always-on sampler, batch span processor,
//! counting exporter): whether a call is sampled is chosen by its `traceparent`. Each sample
//! ends with a flush of the processor, outside the timed calls, so that the export thread's
//! backlog does not carry over to the next sample (sampled streams make spans faster than one
//! core frees them). After each group the exported spans are checked against the traced calls
//! made, so a queue that overflowed cannot pass for cheap tracing; a mismatch fails the run.
//!
//! Criterion measures each function's samples back to back. So that drift on a shared machine
//! cannot pass for tracing cost, a benchmark run (`--bench`, no filter) then makes a second,
//! interleaved pass: plain and traced batches alternate, round after round, and it prints the
//! medians and the per-round added cost and ratio as a Markdown table.
//!
//! `cargo bench -p tonic-traced-benches`; see BENCHMARKS.md.

use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use opentelemetry::global;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{FutureExt, SpanKind, TraceContextExt, Tracer};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tokio::runtime::Runtime;
use tonic::codegen::tokio_stream::StreamExt;
use tonic::codegen::{Body, Bytes, StdError};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::Request;
use tonic_traced::extract_remote_context;
use tonic_traced_benches::{
    plain_client, request, traced_client, PlainPing, PlainThings, Telemetry, TracedPing,
    TracedThings, TracedThingsEvents, SAMPLED_PARENT, UNSAMPLED_PARENT,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::rootless_client::RootlessClient;
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

/// Messages per stream: the per-message cost is the slope between these two.
const STREAM_LENGTHS: [u64; 2] = [1, 100];

/// Set by any group whose exported spans did not match the traced calls.
static MISMATCH: AtomicBool = AtomicBool::new(false);

fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(Telemetry::install)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// The time `sample` measured; the spans it made are exported before the next sample starts.
fn timed_then_flushed(sample: impl FnOnce() -> Duration) -> Duration {
    let elapsed = sample();
    telemetry().flush();
    elapsed
}

fn check(group: &str) {
    if !telemetry().check(group) {
        MISMATCH.store(true, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// The calls.

/// `iters` unary calls of `service`, each with a fresh request carrying `traceparent`.
fn unary<S: Rootless>(
    runtime: &Runtime,
    service: &S,
    traceparent: Option<&MetadataValue<Ascii>>,
    iters: u64,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let ping = Ping {
                label: "bench".to_owned(),
            };
            let response = service.ping(request(ping, traceparent)).await;
            black_box(response.expect("the handler answers"));
        }
        start.elapsed()
    })
}

/// `iters` server-streaming calls of `service`, each consuming a stream of `length` messages.
fn stream<S: HttpThings>(
    runtime: &Runtime,
    service: &S,
    traceparent: Option<&MetadataValue<Ascii>>,
    length: u64,
    iters: u64,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let header = HttpHeader {
                url_path: length.to_string(),
            };
            let response = service
                .watch_http_things(request(header, traceparent))
                .await
                .expect("the handler answers");
            let mut messages = pin!(response.into_inner());
            let mut received = 0;
            while let Some(message) = messages.next().await {
                black_box(message.expect("no stream error"));
                received += 1;
            }
            assert_eq!(received, length);
        }
        start.elapsed()
    })
}

/// `iters` unary calls through `client`, each made under `parent` (the caller's current
/// context) if given, else with no current context.
fn client_unary<T>(
    runtime: &Runtime,
    mut client: RootlessClient<T>,
    parent: Option<&Context>,
    iters: u64,
) -> Duration
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let ping = Ping {
                label: "bench".to_owned(),
            };
            let call = client.ping(ping);
            let response = match parent {
                Some(parent) => call.with_context(parent.clone()).await,
                None => call.await,
            };
            black_box(response.expect("the transport answers"));
        }
        start.elapsed()
    })
}

/// The caller's context for a client call: a remote span context from `traceparent`, as a
/// server handler making the call would have. The client span is its child.
fn parent_context(traceparent: &str) -> Context {
    let carrier =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    assert!(cx.span().span_context().is_valid(), "a valid traceparent");
    cx
}

/// One benchmark: a kind of call and the remote parent its requests carry.
#[derive(Debug, Clone, Copy)]
struct Case {
    group: &'static str,
    traceparent: Option<&'static str>,
    sampled: bool,
    /// `Some(variant)` for calls through the generated client: `traceparent` is then the
    /// parent of the caller's current context rather than a request header.
    client: Option<&'static str>,
    /// `None` for a unary call, else the number of messages streamed back.
    stream: Option<u64>,
    /// Streams traced with `messages = events` rather than the default, spans.
    events: bool,
}

impl Case {
    /// Spans one traced call exports: the RPC span and, on streams, a `message RECEIVED` span
    /// for the request and a `message SENT` span per response message (the default for
    /// streams). None when unsampled.
    fn spans(&self) -> u64 {
        match (self.sampled, self.stream) {
            (false, _) => 0,
            (true, None) => 1,
            (true, Some(_)) if self.events => 1,
            (true, Some(length)) => 2 + length,
        }
    }

    /// `iters` calls of the plain or the traced impl; the time they took.
    fn run(&self, runtime: &Runtime, traced: bool, iters: u64) -> Duration {
        let traceparent = self
            .traceparent
            .map(|value| value.parse().expect("a valid traceparent"));
        let traceparent = traceparent.as_ref();
        if traced {
            telemetry().expect(iters * self.spans());
        }
        if self.client.is_some() {
            let parent = self.traceparent.map(parent_context);
            return if traced {
                client_unary(runtime, traced_client(), parent.as_ref(), iters)
            } else {
                client_unary(runtime, plain_client(), parent.as_ref(), iters)
            };
        }
        match (self.stream, traced) {
            (None, false) => unary(runtime, &PlainPing, traceparent, iters),
            (None, true) => unary(runtime, &TracedPing, traceparent, iters),
            (Some(length), false) => stream(runtime, &PlainThings, traceparent, length, iters),
            (Some(length), true) if self.events => {
                stream(runtime, &TracedThingsEvents, traceparent, length, iters)
            }
            (Some(length), true) => stream(runtime, &TracedThings, traceparent, length, iters),
        }
    }

    fn name(&self) -> String {
        match (self.client, self.stream) {
            (Some(variant), _) => format!("{}/{variant}", self.group),
            (None, None) => self.group.to_owned(),
            (None, Some(length)) => format!("{}/{length}", self.group),
        }
    }
}

/// (a) A sampled remote parent: the span is recorded and exported.
const UNARY_SAMPLED: Case = Case {
    group: "unary_sampled",
    traceparent: Some(SAMPLED_PARENT),
    sampled: true,
    client: None,
    stream: None,
    events: false,
};

/// (b) An unsampled remote parent: the parent-based sampler records nothing.
const UNARY_UNSAMPLED: Case = Case {
    group: "unary_unsampled",
    traceparent: Some(UNSAMPLED_PARENT),
    sampled: false,
    client: None,
    stream: None,
    events: false,
};

/// (d) No `traceparent`: a sampled root span.
const UNARY_ROOT: Case = Case {
    group: "unary_root",
    traceparent: None,
    sampled: true,
    client: None,
    stream: None,
    events: false,
};

/// (c) Streams from a sampled remote parent: a span per message.
const STREAM_SAMPLED: Case = Case {
    group: "stream_sampled",
    traceparent: Some(SAMPLED_PARENT),
    sampled: true,
    client: None,
    stream: Some(0),
    events: false,
};

/// Streams from an unsampled remote parent: what an untraced request's stream pays.
const STREAM_UNSAMPLED: Case = Case {
    group: "stream_unsampled",
    traceparent: Some(UNSAMPLED_PARENT),
    sampled: false,
    client: None,
    stream: Some(0),
    events: false,
};

/// Streams from a sampled remote parent traced with `messages = events`: an event per message.
const STREAM_EVENTS: Case = Case {
    group: "stream_sampled_events",
    traceparent: Some(SAMPLED_PARENT),
    sampled: true,
    client: None,
    stream: Some(0),
    events: true,
};

/// Client calls made inside a sampled span: the CLIENT span is its child, recorded.
const CLIENT_SAMPLED: Case = Case {
    group: "client_unary",
    traceparent: Some(SAMPLED_PARENT),
    sampled: true,
    client: Some("sampled"),
    stream: None,
    events: false,
};

/// Client calls made inside an unsampled span (a remote parent not sampled): nothing recorded.
const CLIENT_UNSAMPLED: Case = Case {
    group: "client_unary",
    traceparent: Some(UNSAMPLED_PARENT),
    sampled: false,
    client: Some("unsampled"),
    stream: None,
    events: false,
};

/// Client calls with no current context: a sampled root CLIENT span.
const CLIENT_ROOT: Case = Case {
    group: "client_unary",
    traceparent: None,
    sampled: true,
    client: Some("root"),
    stream: None,
    events: false,
};

const CLIENT_CASES: [Case; 3] = [CLIENT_SAMPLED, CLIENT_UNSAMPLED, CLIENT_ROOT];

/// Every benchmark, streams at each length.
fn cases() -> Vec<Case> {
    let mut cases = vec![UNARY_SAMPLED, UNARY_UNSAMPLED, UNARY_ROOT];
    for streams in [STREAM_SAMPLED, STREAM_UNSAMPLED, STREAM_EVENTS] {
        for length in STREAM_LENGTHS {
            cases.push(Case {
                stream: Some(length),
                ..streams
            });
        }
    }
    cases.extend(CLIENT_CASES);
    cases
}

// ---------------------------------------------------------------------------------------------
// Criterion.

fn unary_group(c: &mut Criterion, case: Case) {
    let runtime = runtime();
    let mut group = c.benchmark_group(case.group);
    for (name, traced) in [("plain", false), ("traced", true)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| timed_then_flushed(|| case.run(&runtime, traced, iters)))
        });
    }
    group.finish();
    check(case.group);
}

fn stream_group(c: &mut Criterion, streams: Case) {
    let runtime = runtime();
    let mut group = c.benchmark_group(streams.group);
    for length in STREAM_LENGTHS {
        let case = Case {
            stream: Some(length),
            ..streams
        };
        group.throughput(Throughput::Elements(length));
        for (name, traced) in [("plain", false), ("traced", true)] {
            group.bench_function(BenchmarkId::new(name, length), |b| {
                b.iter_custom(|iters| timed_then_flushed(|| case.run(&runtime, traced, iters)))
            });
        }
    }
    group.finish();
    check(streams.group);
}

/// The generated client, plain and traced, in each of the caller's contexts:
/// `client_unary/{plain,traced}/{sampled,unsampled,root}`.
fn client_unary_group(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("client_unary");
    for case in CLIENT_CASES {
        let variant = case.client.expect("a client case");
        for (name, traced) in [("plain", false), ("traced", true)] {
            group.bench_function(BenchmarkId::new(name, variant), |b| {
                b.iter_custom(|iters| timed_then_flushed(|| case.run(&runtime, traced, iters)))
            });
        }
    }
    group.finish();
    check("client_unary");
}

fn unary_sampled(c: &mut Criterion) {
    unary_group(c, UNARY_SAMPLED);
}

fn unary_unsampled(c: &mut Criterion) {
    unary_group(c, UNARY_UNSAMPLED);
}

fn unary_root(c: &mut Criterion) {
    unary_group(c, UNARY_ROOT);
}

fn stream_sampled(c: &mut Criterion) {
    stream_group(c, STREAM_SAMPLED);
}

fn stream_unsampled(c: &mut Criterion) {
    stream_group(c, STREAM_UNSAMPLED);
}

fn stream_sampled_events(c: &mut Criterion) {
    stream_group(c, STREAM_EVENTS);
}

/// The pieces of a traced call, through the OpenTelemetry API alone: where the time goes.
fn pieces(c: &mut Criterion) {
    let with_parent = |traceparent: Option<&str>| {
        let mut request = Request::new(());
        if let Some(traceparent) = traceparent {
            let value = traceparent.parse().expect("a valid traceparent");
            request.metadata_mut().insert("traceparent", value);
        }
        request
    };
    let unsampled = with_parent(Some(UNSAMPLED_PARENT));
    let sampled = with_parent(Some(SAMPLED_PARENT));
    let none = with_parent(None);
    let tracer = global::tracer("pieces");
    let mut group = c.benchmark_group("pieces");

    for (name, request) in [("extract_unsampled", &unsampled), ("extract_none", &none)] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(extract_remote_context(black_box(request.metadata()))))
        });
    }
    for (name, request, spans) in [
        ("span_unsampled", &unsampled, 0),
        ("span_sampled", &sampled, 1),
    ] {
        let parent = extract_remote_context(request.metadata());
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                telemetry().expect(iters * spans);
                let start = Instant::now();
                for _ in 0..iters {
                    let span = tracer
                        .span_builder("pieces")
                        .with_kind(SpanKind::Server)
                        .start_with_context(&tracer, black_box(&parent));
                    let cx = parent.with_span(span);
                    cx.span().end();
                }
                start.elapsed()
            })
        });
    }
    let parent = extract_remote_context(sampled.metadata());
    group.bench_function("attach", |b| {
        b.iter(|| drop(black_box(&parent).clone().attach()))
    });
    group.finish();
    check("pieces");
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = overhead;
    config = config();
    targets = unary_sampled, unary_unsampled, unary_root, stream_sampled, stream_unsampled, stream_sampled_events, client_unary_group, pieces
}

// ---------------------------------------------------------------------------------------------
// The interleaved pass.

/// Rounds of the interleaved pass; each round times one plain and one traced batch per case.
const ROUNDS: usize = 51;
/// How long one batch runs.
const BATCH: Duration = Duration::from_millis(15);

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU time of the whole process (every thread, the batch span processor's included).
fn process_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Per-call times of one case over the rounds, in ns: wall time on the calling thread, and
/// CPU time of the process until the batch processor had exported the batch's spans.
#[derive(Default)]
struct Rounds {
    plain: Vec<f64>,
    traced: Vec<f64>,
    plain_cpu: Vec<f64>,
    traced_cpu: Vec<f64>,
}

/// Medians of one side: plain and traced per call, the added cost (traced − plain of the same
/// round) and the ratio (traced/plain of the same round).
struct Summary {
    plain: f64,
    traced: f64,
    added: f64,
    ratio: f64,
}

fn summarize(plain: &[f64], traced: &[f64]) -> Summary {
    let mut added: Vec<f64> = traced.iter().zip(plain).map(|(t, p)| t - p).collect();
    let mut ratio: Vec<f64> = traced.iter().zip(plain).map(|(t, p)| t / p).collect();
    Summary {
        plain: median(&mut plain.to_vec()),
        traced: median(&mut traced.to_vec()),
        added: median(&mut added),
        ratio: median(&mut ratio),
    }
}

/// Runs a batch of `iters` calls; its wall time per call, and the process's CPU time per call
/// including the export of its spans (flushed before the next batch, so that no batch pays
/// for another's export).
fn batch(runtime: &Runtime, case: &Case, traced: bool, iters: u64) -> (f64, f64) {
    let cpu = process_cpu();
    let wall = case.run(runtime, traced, iters);
    telemetry().flush();
    let cpu = process_cpu() - cpu;
    (
        wall.as_nanos() as f64 / iters as f64,
        cpu.as_nanos() as f64 / iters as f64,
    )
}

fn interleaved() {
    let runtime = runtime();
    let cases = cases();
    // Calls per batch, from a calibration run of both impls.
    let batches: Vec<u64> = cases
        .iter()
        .map(|case| {
            let warm_up = Instant::now();
            let mut calls = 0;
            while warm_up.elapsed() < BATCH * 2 {
                case.run(&runtime, false, 64);
                case.run(&runtime, true, 64);
                calls += 64;
            }
            telemetry().flush();
            // Each impl ran for about half the time.
            (calls / 2).max(1)
        })
        .collect();
    check("interleaved warm-up");

    let mut rounds: Vec<Rounds> = cases.iter().map(|_| Rounds::default()).collect();
    for round in 0..ROUNDS {
        for ((case, &iters), times) in cases.iter().zip(&batches).zip(&mut rounds) {
            // Alternate which impl goes first, so neither always follows the other.
            let order = if round % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            for traced in order {
                let (wall, cpu) = batch(&runtime, case, traced, iters);
                if traced {
                    times.traced.push(wall);
                    times.traced_cpu.push(cpu);
                } else {
                    times.plain.push(wall);
                    times.plain_cpu.push(cpu);
                }
            }
        }
    }
    check("interleaved");

    println!();
    println!(
        "Interleaved pass: {ROUNDS} rounds; per case and round, a ~{BATCH:?} batch of plain \
         and one of traced calls, in alternating order, each followed by a flush of the batch \
         span processor. Medians over the rounds; added and ratio are those of each round's \
         pair. Wall: the calling thread. CPU: the whole process, export thread included, until \
         the flush."
    );
    println!();
    println!(
        "| benchmark | calls/batch | plain | traced | added | traced/plain \
         | CPU plain | CPU traced | CPU added | CPU traced/plain |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut summaries = Vec::new();
    for ((case, iters), times) in cases.iter().zip(&batches).zip(&rounds) {
        let wall = summarize(&times.plain, &times.traced);
        let cpu = summarize(&times.plain_cpu, &times.traced_cpu);
        println!(
            "| {} | {iters} | {} | {} | {} | {:.1} | {} | {} | {} | {:.1} |",
            case.name(),
            time(wall.plain),
            time(wall.traced),
            time(wall.added),
            wall.ratio,
            time(cpu.plain),
            time(cpu.traced),
            time(cpu.added),
            cpu.ratio,
        );
        summaries.push((case, wall, cpu));
    }
    println!();
    let [short, long] = STREAM_LENGTHS;
    for streams in [STREAM_SAMPLED, STREAM_UNSAMPLED, STREAM_EVENTS] {
        let added = |length| {
            summaries
                .iter()
                .find(|(case, _, _)| case.group == streams.group && case.stream == Some(length))
                .map(|(_, wall, cpu)| (wall.added, cpu.added))
                .expect("every stream length is measured")
        };
        let ((wall_short, cpu_short), (wall_long, cpu_long)) = (added(short), added(long));
        let messages = (long - short) as f64;
        let slope = |at_short: f64, at_long: f64| time((at_long - at_short) / messages);
        println!(
            "{}: added per message (slope between {short} and {long} messages): wall {}, CPU {}",
            streams.group,
            slope(wall_short, wall_long),
            slope(cpu_short, cpu_long),
        );
    }
}

fn time(ns: f64) -> String {
    if ns.abs() >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Criterion options followed by a value.
const OPTIONS_WITH_VALUES: [&str; 19] = [
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--format",
    "--output-format",
    "--plotting-backend",
];

/// A benchmark run (`cargo bench` passes `--bench`) with no filter: not `cargo test`, and not
/// a run of a few chosen benchmarks.
fn full_benchmark_run() -> bool {
    let mut args = std::env::args().skip(1);
    let mut bench = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => bench = true,
            "--test" | "--list" | "--profile-time" => return false,
            option if OPTIONS_WITH_VALUES.contains(&option) => {
                args.next();
            }
            option if option.starts_with('-') => {}
            _filter => return false,
        }
    }
    bench
}

fn main() {
    // The provider must be global before the first traced call: tonic-traced keeps the tracer.
    telemetry();
    overhead();
    Criterion::default().configure_from_args().final_summary();
    if full_benchmark_run() {
        interleaved();
    }
    if MISMATCH.load(Ordering::Relaxed) {
        eprintln!("exported spans did not match the traced calls: see the lines above");
        std::process::exit(1);
    }
}
