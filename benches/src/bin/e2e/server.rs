//! `e2e server --mode MODE`: the services over loopback TCP, plain or instrumented one way.
//!
//! Prints `ready port=PORT` once listening. Then reads commands on stdin, one per line:
//! `stats` flushes the batch span processor and answers `stats exported=N`; `shapes` answers
//! a `shape …` line per span name seen (see `SpanCounter::shapes`) and `end`. The server exits
//! when stdin closes, so it does not outlive the process that started it.

use std::io::{BufRead, Write};

use opentelemetry::global;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_traced_benches::{
    PlainPing, PlainThings, TracedPing, TracedThings, TracedThingsEvents, TracedThingsTotals,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use tonic_traced_tests::rootless_server::{Rootless, RootlessServer};
use tonic_tracing_opentelemetry::middleware::{filters, server::OtelGrpcLayer};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::EnvFilter;

use crate::hand::{HandPing, HandThings};
use crate::telemetry::{tracer_provider, SpanCounter};
use crate::ServerMode;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the server of `mode` until stdin closes.
pub fn serve(mode: ServerMode) -> Result<(), Error> {
    let counter = SpanCounter::default();
    let provider = (mode != ServerMode::Plain).then(|| tracer_provider(counter.clone()));
    if let Some(provider) = &provider {
        install(mode, provider)?;
    }
    control(provider.clone(), counter);

    // One worker: the process is pinned to one core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        println!("ready port={port}");
        std::io::stdout().flush()?;
        match mode {
            ServerMode::Plain => serve_services(PlainPing, PlainThings, incoming).await?,
            ServerMode::Hand | ServerMode::HandTotals => {
                let tracer = provider
                    .as_ref()
                    .expect("a tracing mode")
                    .tracer("hand-written");
                let things = HandThings {
                    tracer: tracer.clone(),
                    totals: mode == ServerMode::HandTotals,
                };
                serve_services(HandPing(tracer), things, incoming).await?
            }
            // Its own server example's setup: the layer on the server, with the health-check
            // filter, around the plain services.
            ServerMode::Peer => {
                Server::builder()
                    .layer(OtelGrpcLayer::default().filter(filters::reject_healthcheck))
                    .add_service(RootlessServer::new(PlainPing))
                    .add_service(HttpThingsServer::new(PlainThings))
                    .serve_with_incoming(incoming)
                    .await?
            }
            ServerMode::Traced | ServerMode::TracedMetrics => {
                serve_services(TracedPing, TracedThings, incoming).await?
            }
            ServerMode::TracedEvents => {
                serve_services(TracedPing, TracedThingsEvents, incoming).await?
            }
            ServerMode::TracedTotals => {
                serve_services(TracedPing, TracedThingsTotals, incoming).await?
            }
        }
        Ok::<_, Error>(())
    })
}

/// Serves `ping` and `things` on `incoming`, with no layer, until the process ends.
async fn serve_services(
    ping: impl Rootless,
    things: impl HttpThings,
    incoming: TcpIncoming,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .add_service(RootlessServer::new(ping))
        .add_service(HttpThingsServer::new(things))
        .serve_with_incoming(incoming)
        .await
}

/// The global pipeline of `mode`.
fn install(mode: ServerMode, provider: &SdkTracerProvider) -> Result<(), Error> {
    global::set_tracer_provider(provider.clone());
    match mode {
        ServerMode::Plain => {}
        ServerMode::Hand | ServerMode::HandTotals => {
            global::set_text_map_propagator(TraceContextPropagator::new())
        }
        ServerMode::Peer => {
            // What `init-tracing-opentelemetry`'s `TracingConfig` sets up by default (it is
            // the setup tonic-tracing-opentelemetry's examples use), without its log output and
            // OTLP exporter: the `tracecontext,baggage` propagator, the `tracing-opentelemetry`
            // layer with the SDK tracer, and its level filter — `info` (no `RUST_LOG`) plus
            // `otel::tracing=trace`, the target of the layer's spans. Without the filter,
            // h2's and hyper's internal spans would be exported too.
            global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]));
            let filter = EnvFilter::builder()
                .with_default_directive(tracing::level_filters::LevelFilter::INFO.into())
                .parse_lossy("info")
                .add_directive("otel::tracing=trace".parse()?);
            let layer = tracing_opentelemetry::layer()
                .with_error_records_to_exceptions(true)
                .with_tracer(provider.tracer("tonic-tracing-opentelemetry"));
            let subscriber = tracing_subscriber::registry().with(layer).with(filter);
            tracing::subscriber::set_global_default(subscriber)?;
        }
        ServerMode::Traced
        | ServerMode::TracedMetrics
        | ServerMode::TracedEvents
        | ServerMode::TracedTotals => {
            global::set_text_map_propagator(TraceContextPropagator::new());
            let config = tonic_traced::Config::new()
                .tracer_provider(provider)
                .w3c_parent_based_sampling(true);
            let config = if mode == ServerMode::TracedMetrics {
                config.meter_provider(metrics_provider())
            } else {
                config.without_metrics()
            };
            config.install()?;
        }
    }
    Ok(())
}

/// An SDK meter provider reading every minute into memory, as a production pipeline records.
pub fn metrics_provider() -> SdkMeterProvider {
    SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(InMemoryMetricExporter::default()).build())
        .build()
}

/// Answers `stats` and `shapes` on stdin; exits the process when stdin closes.
fn control(provider: Option<SdkTracerProvider>, counter: SpanCounter) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            let mut out = std::io::stdout().lock();
            match line.trim() {
                "stats" => {
                    if let Some(provider) = &provider {
                        if let Err(error) = provider.force_flush() {
                            eprintln!("force_flush failed: {error}");
                        }
                    }
                    let _ = writeln!(out, "stats exported={}", counter.exported());
                }
                "shapes" => {
                    for shape in counter.shapes() {
                        let _ = writeln!(out, "shape {shape}");
                    }
                    let _ = writeln!(out, "end");
                }
                other => eprintln!("unknown command {other:?}"),
            }
            let _ = out.flush();
        }
        std::process::exit(0);
    });
}
