//! The services and the OpenTelemetry SDK the benchmarks in `benches/overhead.rs` use.
//!
//! Every handler body exists once, as a function below, and is called by two impls of the same
//! generated service trait: a plain one and one under `#[traced_service]`. Calling both
//! in-process, on the same runtime, makes the difference between them the macro's cost.
//!
//! For the client side, [`PingTransport`] stands in for a `Channel`: a transport service that
//! answers every call at once, without a network. The same generated client is built over it
//! plain ([`plain_client`]) and under `tonic_traced::client::layer()` ([`traced_client`]), so
//! the difference between them is the layer's cost.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body as HttpBody, Frame};

use opentelemetry::global;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use tonic::codegen::tokio_stream::{self, Stream};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};
use tonic_traced::client::TracedClient;
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::rootless_client::RootlessClient;
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

/// A sampled remote parent: the SERVER span is its child and is recorded.
pub const SAMPLED_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// An unsampled remote parent: under a parent-based sampler nothing is recorded.
pub const UNSAMPLED_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

/// The `BatchSpanProcessor` queue (the SDK's default is 2048). Sampled streams make ~650k
/// spans/s here, and on a busy 2-core machine the export thread, which frees every span, can
/// fall behind for seconds: 2^17 still dropped 0.7% of them once. `Telemetry::check` reports
/// any drop, and the benchmarks fail on it.
pub const QUEUE_SIZE: usize = 1 << 19;

// ---------------------------------------------------------------------------------------------
// Handler bodies, shared by the plain and the traced impls.

/// `Rootless/Ping`: echoes the request.
#[inline]
pub fn echo(request: Request<Ping>) -> Result<Response<Ping>, Status> {
    Ok(Response::new(request.into_inner()))
}

/// A boxed stream of `HttpHeader` results, as handlers usually return.
pub type HeaderStream = Pin<Box<dyn Stream<Item = Result<HttpHeader, Status>> + Send>>;

/// `HTTPThings/WatchHTTPThings`: as many messages as the request's `url_path` says, from memory.
#[inline]
pub fn updates(request: Request<HttpHeader>) -> Result<Response<HeaderStream>, Status> {
    let count: usize = request.get_ref().url_path.parse().unwrap_or(0);
    let messages = (0..count).map(|_| {
        Ok(HttpHeader {
            url_path: "update".to_owned(),
        })
    });
    Ok(Response::new(
        Box::pin(tokio_stream::iter(messages)) as HeaderStream
    ))
}

fn not_benchmarked() -> Status {
    Status::unimplemented("not benchmarked")
}

// ---------------------------------------------------------------------------------------------
// The two impls of each service.

/// `Rootless` without tracing.
#[derive(Debug, Default)]
pub struct PlainPing;

#[tonic::async_trait]
impl Rootless for PlainPing {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        echo(request)
    }
}

/// `Rootless` under `#[traced_service]`.
#[derive(Debug, Default)]
pub struct TracedPing;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Rootless for TracedPing {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        echo(request)
    }
}

/// `HTTPThings` as `$name`, under the attributes given (none: plain tonic; a
/// `#[traced_service(…)]`: a message mode): one impl for every mode, each benchmarking only
/// `WatchHTTPThings`, so that the modes differ only in their attribute.
macro_rules! things {
    ($(#[$doc:meta])* $name:ident $(, #[$attribute:meta])?) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub struct $name;

        $(#[$attribute])?
        #[tonic::async_trait]
        impl HttpThings for $name {
            async fn get_http_thing(
                &self,
                _request: Request<HttpHeader>,
            ) -> Result<Response<HttpHeader>, Status> {
                Err(not_benchmarked())
            }

            type WatchHTTPThingsStream = HeaderStream;

            async fn watch_http_things(
                &self,
                request: Request<HttpHeader>,
            ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
                updates(request)
            }

            async fn upload_http_things(
                &self,
                _request: Request<Streaming<HttpHeader>>,
            ) -> Result<Response<()>, Status> {
                Err(not_benchmarked())
            }

            type ChatHTTPStream = HeaderStream;

            async fn chat_http(
                &self,
                _request: Request<Streaming<HttpHeader>>,
            ) -> Result<Response<Self::ChatHTTPStream>, Status> {
                Err(not_benchmarked())
            }
        }
    };
}

things!(
    /// `HTTPThings` without tracing.
    PlainThings
);
things!(
    /// `HTTPThings` under `#[traced_service]`, with its defaults: a span per streamed message.
    TracedThings,
    #[tonic_traced::traced_service]
);
things!(
    /// `HTTPThings` under `#[traced_service(messages = events)]`: an event on the RPC span per
    /// streamed message.
    TracedThingsEvents,
    #[tonic_traced::traced_service(messages = events)]
);
things!(
    /// `HTTPThings` under `#[traced_service(messages = totals)]`: nothing per streamed message
    /// but its count and bytes, on the RPC span when it ends.
    TracedThingsTotals,
    #[tonic_traced::traced_service(messages = totals)]
);

/// A request for `message`, carrying `traceparent` if given.
#[inline]
pub fn request<T>(
    message: T,
    traceparent: Option<&MetadataValue<tonic::metadata::Ascii>>,
) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(traceparent) = traceparent {
        request
            .metadata_mut()
            .insert("traceparent", traceparent.clone());
    }
    request
}

// ---------------------------------------------------------------------------------------------
// The client side: an in-process transport, and the generated client over it, plain or traced.

/// The error of [`PingTransport`]: that of services stacked with tower layers, which the
/// client layer maps to a gRPC status (`tonic_traced::client::CallError`).
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

/// A gRPC transport service that answers every call at once, with no network: it reads the
/// whole request body (so the request message is encoded, as a `Channel` would send it) and
/// returns one encoded `Ping` (`label: "bench"`) followed by the trailers `grpc-status: 0`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PingTransport;

impl tower::Service<http::Request<tonic::body::Body>> for PingTransport {
    type Response = http::Response<PingResponseBody>;
    type Error = TransportError;
    type Future = DrainRequest;

    fn poll_ready(&mut self, _task: &mut TaskContext<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> DrainRequest {
        DrainRequest {
            body: Some(request.into_body()),
            received: 0,
        }
    }
}

/// [`PingTransport`]'s future: reads the request body to its end, then answers.
#[derive(Debug)]
pub struct DrainRequest {
    body: Option<tonic::body::Body>,
    received: usize,
}

impl Future for DrainRequest {
    type Output = Result<http::Response<PingResponseBody>, TransportError>;

    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let body = this
            .body
            .as_mut()
            .expect("DrainRequest polled after it completed");
        loop {
            match Pin::new(&mut *body).poll_frame(task) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        this.received += data.len();
                    }
                }
                Poll::Ready(Some(Err(status))) => return Poll::Ready(Err(status.into())),
                Poll::Ready(None) => break,
            }
        }
        this.body = None;
        // A gRPC frame: the 5-byte prefix and at least the message's label.
        assert!(this.received > 5, "the request carried no message");
        Poll::Ready(Ok(http::Response::new(PingResponseBody::default())))
    }
}

/// The response body of [`PingTransport`]: a data frame holding one encoded `Ping`, then a
/// trailers frame with `grpc-status: 0`.
#[derive(Debug)]
pub struct PingResponseBody {
    message: Option<Bytes>,
    trailers: bool,
}

impl Default for PingResponseBody {
    fn default() -> Self {
        PingResponseBody {
            message: Some(Bytes::from_static(encoded_ping())),
            trailers: true,
        }
    }
}

/// `Ping { label: "bench" }` as a gRPC frame: uncompressed flag, big-endian length, the
/// prost encoding. Encoded once.
fn encoded_ping() -> &'static [u8] {
    static FRAME: OnceLock<&'static [u8]> = OnceLock::new();
    FRAME.get_or_init(|| {
        let message = prost::Message::encode_to_vec(&Ping {
            label: "bench".to_owned(),
        });
        let length = u32::try_from(message.len()).expect("a small message");
        let mut frame = vec![0];
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(&message);
        Box::leak(frame.into_boxed_slice())
    })
}

impl HttpBody for PingResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(message) = self.message.take() {
            return Poll::Ready(Some(Ok(Frame::data(message))));
        }
        if std::mem::take(&mut self.trailers) {
            let mut trailers = HeaderMap::with_capacity(1);
            trailers.insert(
                HeaderName::from_static("grpc-status"),
                HeaderValue::from_static("0"),
            );
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.message.is_none() && !self.trailers
    }
}

/// The generated client over the bare transport.
pub fn plain_client() -> RootlessClient<PingTransport> {
    RootlessClient::new(PingTransport)
}

/// The generated client over the same transport under `tonic_traced::client::layer()`.
pub fn traced_client() -> RootlessClient<TracedClient<PingTransport>> {
    RootlessClient::new(
        tower::ServiceBuilder::new()
            .layer(tonic_traced::client::layer())
            .service(PingTransport),
    )
}

// ---------------------------------------------------------------------------------------------
// The SDK.

/// An exporter that discards spans and counts them.
#[derive(Clone, Default)]
pub struct CountingExporter(Arc<AtomicU64>);

impl fmt::Debug for CountingExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CountingExporter")
            .field(&self.0.load(Ordering::Relaxed))
            .finish()
    }
}

impl SpanExporter for CountingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The global provider the traced impls report to, and the count of what it exported.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    exporter: CountingExporter,
    expected: AtomicU64,
    checked: AtomicU64,
}

impl Telemetry {
    /// Installs, as the global providers and propagator, a parent-based always-on SDK with a
    /// batch span processor exporting to a [`CountingExporter`], a meter provider (so the RPC
    /// metrics are recorded as in production; exported once a minute to memory; not with
    /// `BENCH_NO_METRICS` set), and the W3C propagator. Call it before the first traced call:
    /// tonic-traced keeps the first instruments it gets.
    pub fn install() -> Self {
        let exporter = CountingExporter::default();
        let processor = BatchSpanProcessor::builder(exporter.clone())
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(QUEUE_SIZE)
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .with_span_processor(processor)
            .build();
        global::set_tracer_provider(provider.clone());
        global::set_text_map_propagator(TraceContextPropagator::new());
        // W3C and parent-based, as `init()` sets up by default: the unsampled fast path is on.
        let config = tonic_traced::Config::new()
            .tracer_provider(&provider)
            .w3c_parent_based_sampling(true);
        // `BENCH_NO_METRICS=1` records no RPC metrics: what recording them costs.
        let config = if std::env::var_os("BENCH_NO_METRICS").is_none() {
            config.meter_provider(
                SdkMeterProvider::builder()
                    .with_reader(PeriodicReader::builder(InMemoryMetricExporter::default()).build())
                    .build(),
            )
        } else {
            config.without_metrics()
        };
        config
            .install()
            .expect("Telemetry::install is called once, before the first traced call");
        Telemetry {
            provider,
            exporter,
            expected: AtomicU64::new(0),
            checked: AtomicU64::new(0),
        }
    }

    /// Waits until the batch processor has exported every span ended so far.
    pub fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            eprintln!("force_flush failed: {error}");
        }
    }

    /// Notes that `spans` more spans should reach the exporter.
    pub fn expect(&self, spans: u64) {
        self.expected.fetch_add(spans, Ordering::Relaxed);
    }

    /// Flushes the batch processor and compares the spans exported since the last check with
    /// those expected; prints the result under `label`. False if any span was dropped or
    /// exported unexpectedly.
    pub fn check(&self, label: &str) -> bool {
        if let Err(error) = self.provider.force_flush() {
            eprintln!("{label}: force_flush failed: {error}");
        }
        let expected = self.expected.swap(0, Ordering::Relaxed);
        let total = self.exporter.0.load(Ordering::Relaxed);
        let exported = total - self.checked.swap(total, Ordering::Relaxed);
        if exported == expected {
            eprintln!("{label}: spans expected {expected}, exported {exported}, none dropped");
            return true;
        }
        eprintln!(
            "{label}: spans expected {expected}, exported {exported}: {} DROPPED, {} unexpected",
            expected.saturating_sub(exported),
            exported.saturating_sub(expected),
        );
        false
    }
}
