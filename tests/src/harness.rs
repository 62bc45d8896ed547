//! One OpenTelemetry SDK per test binary, exporting to memory, and loopback tonic servers.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{
    FutureExt as _, SpanId, SpanKind, TraceContextExt as _, TraceId, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{global, Context, Key, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracerProvider, Span, SpanData, SpanProcessor,
};
use tokio::net::TcpListener;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::Request;
use tonic_traced::SemconvMode;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer as _, SubscriberExt};

use crate::kitchen::sink::v1::HttpHeader;

/// The spans this test binary produced, which are still open, and its metrics.
pub struct Telemetry {
    exporter: InMemorySpanExporter,
    open: OpenSpans,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
}

/// Counts spans started and not yet ended, per trace.
#[derive(Debug, Default, Clone)]
struct OpenSpans(Arc<Mutex<HashMap<TraceId, Vec<SpanId>>>>);

impl SpanProcessor for OpenSpans {
    fn on_start(&self, span: &mut Span, _cx: &Context) {
        use opentelemetry::trace::Span as _;
        let context = span.span_context();
        self.0
            .lock()
            .unwrap()
            .entry(context.trace_id())
            .or_default()
            .push(context.span_id());
    }

    fn on_end(&self, span: SpanData) {
        let mut open = self.0.lock().unwrap();
        if let Some(ids) = open.get_mut(&span.span_context.trace_id()) {
            ids.retain(|id| *id != span.span_context.span_id());
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// An environment of exactly `vars`, for `tonic_traced::Init::install_with`.
pub fn env_lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    move |key| vars.get(key).cloned()
}

/// Installs, once per binary, a parent-based always-on SDK as the global tracer provider, a
/// meter provider exporting to memory when flushed, the W3C propagators, a `tracing` subscriber
/// bridging to OpenTelemetry (with `HandlerEvents`), and the tonic-traced configuration that uses them all (as
/// `init()` does, semantic conventions from `OTEL_SEMCONV_STABILITY_OPT_IN`).
pub fn telemetry() -> &'static Telemetry {
    telemetry_with(|config| config)
}

/// [`telemetry`], with the tonic-traced configuration changed by `customize` if this is the
/// first call of the binary (later calls get the telemetry installed first).
pub fn telemetry_with(
    customize: impl FnOnce(tonic_traced::Config) -> tonic_traced::Config,
) -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let open = OpenSpans::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .with_span_processor(open.clone())
            .with_simple_exporter(exporter.clone())
            .build();
        global::set_tracer_provider(provider.clone());
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        global::set_meter_provider(meter_provider.clone());
        global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
        let opt_in = std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN").unwrap_or_default();
        let config = tonic_traced::Config::new()
            .semconv(SemconvMode::from_opt_in(&opt_in).expect("a valid opt-in"))
            .tracer_provider(&provider)
            .meter_provider(meter_provider.clone())
            // W3C and parent-based, as `init()` sets up by default: the unsampled fast path
            // is on.
            .w3c_parent_based_sampling(true);
        customize(config)
            .install()
            .expect("the first configuration of this test binary");
        // Only the tests' own spans and events: h2 and hyper have `tracing` spans of their
        // own. Events outside any span go to the current OpenTelemetry span.
        let subscriber = tracing_subscriber::registry().with(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("tests"))
                .and_then(tonic_traced::HandlerEvents)
                .with_filter(Targets::new().with_target("tonic_traced_tests", Level::TRACE)),
        );
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber per binary");
        Telemetry {
            exporter,
            open,
            metrics,
            meter_provider,
        }
    })
}

impl Telemetry {
    /// Every finished span so far.
    pub fn finished(&self) -> Vec<SpanData> {
        self.exporter
            .get_finished_spans()
            .expect("in-memory exporter")
    }

    /// The count and sum, as of now, of histogram `name`'s data point whose attributes are
    /// exactly `attributes` (in any order); `(0, 0.0)` when nothing was recorded there.
    pub fn histogram(&self, name: &str, attributes: &[KeyValue]) -> (u64, f64) {
        self.meter_provider.force_flush().expect("metrics flush");
        let exports = self.metrics.get_finished_metrics().expect("in-memory");
        let Some(latest) = exports.last() else {
            return (0, 0.0);
        };
        // By value: a string made at run time equals the same text given as a literal.
        let matches = |point: &mut dyn Iterator<Item = &KeyValue>| {
            let found: Vec<&KeyValue> = point.collect();
            found.len() == attributes.len() && attributes.iter().all(|kv| found.contains(&kv))
        };
        let metric = latest
            .scope_metrics()
            .filter(|scope| scope.scope().name() == tonic_traced::SCOPE_NAME)
            .flat_map(|scope| scope.metrics())
            .find(|metric| metric.name() == name);
        let point = match metric.map(|metric| metric.data()) {
            Some(AggregatedMetrics::F64(MetricData::Histogram(histogram))) => histogram
                .data_points()
                .find(|point| matches(&mut point.attributes()))
                .map(|point| (point.count(), point.sum())),
            Some(AggregatedMetrics::U64(MetricData::Histogram(histogram))) => histogram
                .data_points()
                .find(|point| matches(&mut point.attributes()))
                .map(|point| (point.count(), point.sum() as f64)),
            _ => None,
        };
        point.unwrap_or((0, 0.0))
    }

    /// Waits until the spans of calls made before have been exported: makes `sampled_call`
    /// with a sampled `traceparent` (given to it) and waits for that call's span.
    pub async fn flush_with<F, T, E>(&self, sampled_call: impl FnOnce(String) -> F)
    where
        F: Future<Output = Result<T, E>>,
        E: std::fmt::Debug,
    {
        let (trace_id, _, traceparent) = remote_parent(true);
        sampled_call(traceparent)
            .await
            .expect("the flushing call succeeds");
        self.wait_for(|t| t.trace(trace_id).pop()).await;
    }

    /// Finished spans of one trace.
    pub fn trace(&self, trace_id: TraceId) -> Vec<SpanData> {
        self.finished()
            .into_iter()
            .filter(|span| span.span_context.trace_id() == trace_id)
            .collect()
    }

    /// Finished spans whose `server.port` is `port`: the RPC spans of one test server.
    pub fn served_by(&self, port: u16) -> Vec<SpanData> {
        self.finished()
            .into_iter()
            .filter(|span| attribute(span, "server.port") == Some(Value::I64(i64::from(port))))
            .collect()
    }

    /// Waits up to five seconds for `found` to return `Some`, polling the finished spans
    /// while the test's servers keep running.
    pub async fn wait_for<T>(&self, mut found: impl FnMut(&Telemetry) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(value) = found(self) {
                return value;
            }
            if Instant::now() >= deadline {
                let summary: Vec<String> = self
                    .finished()
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {:?} {} id={} parent={}",
                            s.span_context.trace_id(),
                            s.span_kind,
                            s.name,
                            s.span_context.span_id(),
                            s.parent_span_id
                        )
                    })
                    .collect();
                panic!(
                    "spans did not arrive in time; finished:\n{}",
                    summary.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the first finished span of `kind` in the trace `trace_id`.
    pub async fn span_of_kind(&self, trace_id: TraceId, kind: SpanKind) -> SpanData {
        self.wait_for(|t| t.trace(trace_id).into_iter().find(|s| s.span_kind == kind))
            .await
    }

    /// Spans of `trace_id` that were started and have not ended.
    pub fn open_spans(&self, trace_id: TraceId) -> usize {
        self.open
            .0
            .lock()
            .unwrap()
            .get(&trace_id)
            .map_or(0, Vec::len)
    }
}

/// The value of attribute `key` of a span.
pub fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_owned()))
        .map(|kv| kv.value.clone())
}

/// Serves `router` on a free loopback port until the test ends.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(router.serve_with_incoming(TcpIncoming::from(listener)));
    address
}

/// A fresh random trace id and a `traceparent` value that makes it the remote parent.
pub fn remote_parent(sampled: bool) -> (TraceId, SpanId, String) {
    use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
    let ids = RandomIdGenerator::default();
    let (trace_id, span_id) = (ids.new_trace_id(), ids.new_span_id());
    let flags = if sampled { "01" } else { "00" };
    (
        trace_id,
        span_id,
        format!("00-{trace_id}-{span_id}-{flags}"),
    )
}

/// The test services' request message, whose `url_path` holds commands (see `things`).
pub fn header(url_path: &str) -> HttpHeader {
    HttpHeader {
        url_path: url_path.to_owned(),
    }
}

/// A request carrying `traceparent` in its metadata.
pub fn with_parent<T>(message: T, traceparent: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "traceparent",
        traceparent.parse().expect("ASCII traceparent"),
    );
    request
}

/// Runs `call` inside a new root span; returns the trace id with the call's output.
pub async fn in_root_span<F: Future>(call: F) -> (TraceId, F::Output) {
    let cx = Context::current_with_span(global::tracer("test").start("test root"));
    let trace_id = cx.span().span_context().trace_id();
    let output = call.with_context(cx.clone()).await;
    cx.span().end();
    (trace_id, output)
}
