//! `e2e load …`: a closed-loop load generator on a current-thread runtime (one core).
//!
//! `--concurrency` tasks share one HTTP/2 connection; each sends its next call as soon as its
//! previous one completed (or, with `--rate`, at the next slot of a common pace). After
//! `--warmup` seconds it measures for `--secs`: calls and stream messages completed, their
//! latency (call start to last message) in an HDR histogram, and the CPU time the server
//! (`--server-pid`) and this process used over exactly that window. Calls still in flight at
//! the end are completed and counted in `total`, which the span accounting needs.
//!
//! It prints one line: `result key=value …`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use opentelemetry::global;
use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;
use tokio::time::Instant;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use tonic_traced::client::TracedClient;
use tonic_traced_benches::{SAMPLED_PARENT, UNSAMPLED_PARENT};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::rootless_client::RootlessClient;
use tonic_traced_tests::Ping;

use crate::cpu::process_cpu;
use crate::server::metrics_provider;
use crate::telemetry::{tracer_provider, SpanCounter};
use crate::{ClientMode, Error, Workload};

/// What one load run is.
#[derive(Debug, Clone)]
pub struct LoadArgs {
    pub port: u16,
    pub server_pid: Option<u32>,
    pub workload: Workload,
    pub sampled: bool,
    pub client: ClientMode,
    /// Send the caller's `traceparent` as plain metadata (the server comparison).
    pub send_traceparent: bool,
    pub warmup: Duration,
    pub secs: Duration,
    pub concurrency: usize,
    /// Calls per second in all, or as fast as they complete.
    pub rate: Option<f64>,
    pub messages: u32,
}

/// The generated clients, plain, hand-instrumented or under tonic-traced's layer.
#[derive(Clone)]
enum Clients {
    Plain {
        ping: RootlessClient<Channel>,
        things: HttpThingsClient<Channel>,
    },
    Hand {
        ping: RootlessClient<Channel>,
        tracer: SdkTracer,
    },
    Traced {
        ping: RootlessClient<TracedClient<Channel>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Warmup,
    Measuring,
    Done,
}

struct Shared {
    phase: Cell<Phase>,
    /// Calls and messages completed in the measured window.
    calls: Cell<u64>,
    messages: Cell<u64>,
    /// Calls completed in all, warm-up and drain included.
    total: Cell<u64>,
    errors: Cell<u64>,
    latency_us: RefCell<Histogram<u64>>,
    next_slot: Cell<Instant>,
}

/// Runs the load and prints its `result` line.
pub fn run(args: LoadArgs) -> Result<(), Error> {
    let counter = SpanCounter::default();
    let provider = (args.client != ClientMode::Plain).then(|| tracer_provider(counter.clone()));
    if let Some(provider) = &provider {
        global::set_tracer_provider(provider.clone());
        global::set_text_map_propagator(TraceContextPropagator::new());
        if matches!(args.client, ClientMode::Traced | ClientMode::TracedMetrics) {
            let config = tonic_traced::Config::new()
                .tracer_provider(provider)
                .w3c_parent_based_sampling(true);
            let config = if args.client == ClientMode::TracedMetrics {
                config.meter_provider(metrics_provider())
            } else {
                config.without_metrics()
            };
            config.install()?;
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tracer = provider.as_ref().map(|p| p.tracer("hand-written"));
    let line = runtime.block_on(tokio::task::LocalSet::new().run_until(drive(&args, tracer)))?;
    let exported = match &provider {
        Some(provider) => {
            provider.force_flush()?;
            counter.exported()
        }
        None => 0,
    };
    println!("result {line} client_exported={exported}");
    Ok(())
}

async fn drive(args: &LoadArgs, tracer: Option<SdkTracer>) -> Result<String, Error> {
    let channel = Endpoint::from_shared(format!("http://127.0.0.1:{}", args.port))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let clients = match args.client {
        ClientMode::Plain => Clients::Plain {
            ping: RootlessClient::new(channel.clone()),
            things: HttpThingsClient::new(channel),
        },
        ClientMode::Hand => Clients::Hand {
            ping: RootlessClient::new(channel),
            tracer: tracer.expect("a tracer for the hand-written client"),
        },
        ClientMode::Traced | ClientMode::TracedMetrics => Clients::Traced {
            ping: RootlessClient::new(
                tower::ServiceBuilder::new()
                    .layer(tonic_traced::client::layer())
                    .service(channel),
            ),
        },
    };
    let parent = if args.sampled {
        SAMPLED_PARENT
    } else {
        UNSAMPLED_PARENT
    };
    let traceparent: MetadataValue<Ascii> = parent.parse()?;
    let caller = caller_context(args.sampled);

    let shared = Rc::new(Shared {
        phase: Cell::new(Phase::Warmup),
        calls: Cell::new(0),
        messages: Cell::new(0),
        total: Cell::new(0),
        errors: Cell::new(0),
        latency_us: RefCell::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
        next_slot: Cell::new(Instant::now()),
    });
    let interval = args.rate.map(|rate| Duration::from_secs_f64(1.0 / rate));

    let mut workers = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let shared = shared.clone();
        let mut clients = clients.clone();
        let traceparent = args.send_traceparent.then(|| traceparent.clone());
        let caller = caller.clone();
        let workload = args.workload;
        let messages = args.messages;
        workers.push(tokio::task::spawn_local(async move {
            while shared.phase.get() != Phase::Done {
                if let Some(interval) = interval {
                    let now = Instant::now();
                    let mut slot = shared.next_slot.get();
                    if slot + Duration::from_millis(10) < now {
                        slot = now; // fell behind: no catch-up burst
                    }
                    shared.next_slot.set(slot + interval);
                    tokio::time::sleep_until(slot).await;
                }
                let start = Instant::now();
                let result = call(&mut clients, workload, messages, traceparent.as_ref())
                    .with_context(caller.clone())
                    .await;
                let elapsed = start.elapsed();
                match result {
                    Ok(received) => {
                        shared.total.set(shared.total.get() + 1);
                        if shared.phase.get() == Phase::Measuring {
                            shared.calls.set(shared.calls.get() + 1);
                            shared.messages.set(shared.messages.get() + received);
                            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                            let _ = shared.latency_us.borrow_mut().record(micros.max(1));
                        }
                    }
                    Err(status) => {
                        if shared.errors.get() == 0 {
                            eprintln!("call failed: {status}");
                        }
                        shared.errors.set(shared.errors.get() + 1);
                    }
                }
            }
        }));
    }

    tokio::time::sleep(args.warmup).await;
    let server_before = args.server_pid.map(process_cpu).transpose()?;
    let client_before = process_cpu(std::process::id())?;
    let started = std::time::Instant::now();
    shared.phase.set(Phase::Measuring);
    tokio::time::sleep(args.secs).await;
    shared.phase.set(Phase::Done);
    let window = started.elapsed();
    let client_cpu = process_cpu(std::process::id())? - client_before;
    let server_cpu = match (args.server_pid, server_before) {
        (Some(pid), Some(before)) => (process_cpu(pid)? - before).as_secs_f64(),
        _ => f64::NAN,
    };
    for worker in workers {
        worker.await?;
    }

    let latency = shared.latency_us.borrow();
    Ok(format!(
        "calls={} messages={} total={} errors={} window_s={:.6} server_cpu_s={:.4} \
         client_cpu_s={:.4} p50_us={} p99_us={}",
        shared.calls.get(),
        shared.messages.get(),
        shared.total.get(),
        shared.errors.get(),
        window.as_secs_f64(),
        server_cpu,
        client_cpu.as_secs_f64(),
        latency.value_at_quantile(0.50),
        latency.value_at_quantile(0.99),
    ))
}

/// The context a call is made in: a span of the caller's (the ids of the bench `traceparent`),
/// sampled or not, as a handler serving such a request has.
fn caller_context(sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("a valid trace id"),
        SpanId::from_hex("00f067aa0ba902b7").expect("a valid span id"),
        flags,
        true,
        TraceState::default(),
    ))
}

/// One call; the number of messages it received.
async fn call(
    clients: &mut Clients,
    workload: Workload,
    messages: u32,
    traceparent: Option<&MetadataValue<Ascii>>,
) -> Result<u64, Status> {
    let ping = || Ping {
        label: "bench".to_owned(),
    };
    let with_header = |request| tonic_traced_benches::request(request, traceparent);
    match (clients, workload) {
        (Clients::Plain { ping: client, .. }, Workload::Unary) => {
            client.ping(with_header(ping())).await?;
            Ok(1)
        }
        (Clients::Plain { things, .. }, Workload::Stream) => {
            let request = tonic_traced_benches::request(
                HttpHeader {
                    url_path: messages.to_string(),
                },
                traceparent,
            );
            let mut stream = things.watch_http_things(request).await?.into_inner();
            let mut received = 0;
            while stream.message().await?.is_some() {
                received += 1;
            }
            Ok(received)
        }
        (
            Clients::Hand {
                ping: client,
                tracer,
            },
            Workload::Unary,
        ) => {
            crate::hand::client_ping(tracer, client, ping()).await?;
            Ok(1)
        }
        (Clients::Traced { ping: client }, Workload::Unary) => {
            client.ping(Request::new(ping())).await?;
            Ok(1)
        }
        (_, Workload::Stream) => Err(Status::unimplemented("the client comparison is unary only")),
    }
}
