//! A real OTLP receiver on loopback, as a collector would be: the gRPC `TraceService` and
//! `MetricsService`, and HTTP `POST /v1/traces` and `/v1/metrics` with protobuf bodies, each on
//! a free port. It keeps every span and metric it is sent, with the resource, scope and
//! transport and request headers (gRPC metadata) they came with, for tests to wait on. It can
//! hold trace exports unanswered, as a collector that stalls, until the test releases them.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tokio::sync::watch;
use tonic::transport::server::TcpIncoming;

/// How long a wait lasts before the test fails; the exporters under test flush far more often.
const PATIENCE: Duration = Duration::from_secs(30);

/// The OTLP transport an export arrived over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    /// The `OTEL_EXPORTER_OTLP_PROTOCOL` value that selects this transport.
    pub fn protocol(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http/protobuf",
        }
    }
}

/// A span as received, with the resource and instrumentation scope it was exported under.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub transport: Transport,
    pub headers: Headers,
    pub resource: BTreeMap<String, Value>,
    pub scope: String,
    pub span: Span,
}

/// A metric as received in one export, with its resource and instrumentation scope.
#[derive(Clone, Debug)]
pub struct ReceivedMetric {
    pub transport: Transport,
    pub headers: Headers,
    pub resource: BTreeMap<String, Value>,
    pub scope: String,
    pub metric: Metric,
}

/// The headers (gRPC metadata) of the request an export came in, by lowercase name; values
/// that are not text are left out.
pub type Headers = BTreeMap<String, String>;

fn text_headers(headers: &HeaderMap) -> Headers {
    headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect()
}

/// An attribute list as a map from key to value; an attribute without a value is left out.
pub fn attributes(list: &[KeyValue]) -> BTreeMap<String, Value> {
    list.iter()
        .filter_map(|attribute| {
            let value = attribute.value.as_ref()?.value.clone()?;
            Some((attribute.key.clone(), value))
        })
        .collect()
}

/// Everything received so far, in order of arrival.
#[derive(Debug, Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    /// HTTP requests answered with an error, as `METHOD /path (content type): status`.
    rejected: Vec<String>,
}

type Store = Arc<Mutex<Received>>;

/// The store, still usable after a panicking test thread held it.
fn lock(store: &Store) -> MutexGuard<'_, Received> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

fn resource_and_scope(
    resource: Option<&Resource>,
    scope: Option<&InstrumentationScope>,
) -> (BTreeMap<String, Value>, String) {
    (
        resource.map_or_else(BTreeMap::new, |resource| attributes(&resource.attributes)),
        scope.map(|scope| scope.name.clone()).unwrap_or_default(),
    )
}

impl Received {
    fn add_traces(
        &mut self,
        transport: Transport,
        headers: &Headers,
        request: ExportTraceServiceRequest,
    ) {
        for resource_spans in request.resource_spans {
            for scope_spans in resource_spans.scope_spans {
                let (resource, scope) = resource_and_scope(
                    resource_spans.resource.as_ref(),
                    scope_spans.scope.as_ref(),
                );
                self.spans
                    .extend(scope_spans.spans.into_iter().map(|span| ReceivedSpan {
                        transport,
                        headers: headers.clone(),
                        resource: resource.clone(),
                        scope: scope.clone(),
                        span,
                    }));
            }
        }
    }

    fn add_metrics(
        &mut self,
        transport: Transport,
        headers: &Headers,
        request: ExportMetricsServiceRequest,
    ) {
        for resource_metrics in request.resource_metrics {
            for scope_metrics in resource_metrics.scope_metrics {
                let (resource, scope) = resource_and_scope(
                    resource_metrics.resource.as_ref(),
                    scope_metrics.scope.as_ref(),
                );
                self.metrics
                    .extend(
                        scope_metrics
                            .metrics
                            .into_iter()
                            .map(|metric| ReceivedMetric {
                                transport,
                                headers: headers.clone(),
                                resource: resource.clone(),
                                scope: scope.clone(),
                                metric,
                            }),
                    );
            }
        }
    }

    /// What arrived, for the message of a failed wait.
    fn summary(&self) -> String {
        let mut span_counts: BTreeMap<String, usize> = BTreeMap::new();
        for received in &self.spans {
            let key = format!(
                "{} {:?} ({:?})",
                service_of(&received.resource),
                received.span.name,
                received.transport
            );
            *span_counts.entry(key).or_default() += 1;
        }
        let mut latest_metrics: BTreeMap<String, &Metric> = BTreeMap::new();
        for received in &self.metrics {
            let key = format!(
                "{} {:?} ({:?})",
                service_of(&received.resource),
                received.metric.name,
                received.transport
            );
            latest_metrics.insert(key, &received.metric);
        }
        let mut summary = String::from("spans:\n");
        for (key, count) in span_counts {
            summary += &format!("  {key} × {count}\n");
        }
        summary += "latest metrics:\n";
        for (key, metric) in latest_metrics {
            summary += &format!("  {key} in {:?}:\n", metric.unit);
            match &metric.data {
                Some(Data::Histogram(histogram)) => {
                    for point in &histogram.data_points {
                        summary += &format!(
                            "    {:?} count {} sum {:?}\n",
                            attributes(&point.attributes),
                            point.count,
                            point.sum
                        );
                    }
                }
                other => summary += &format!("    {other:?}\n"),
            }
        }
        summary += &format!("rejected HTTP requests: {:?}\n", self.rejected);
        summary
    }
}

/// The `service.name` of a resource, or `?` without one.
fn service_of(resource: &BTreeMap<String, Value>) -> &str {
    match resource.get("service.name") {
        Some(Value::StringValue(name)) => name,
        _ => "?",
    }
}

/// Whether trace exports are held: while it is `true`, each waits unanswered.
#[derive(Clone)]
struct TracesHeld(watch::Receiver<bool>);

impl TracesHeld {
    /// Returns once trace exports are not held.
    async fn released(&self) {
        let mut held = self.0.clone();
        // The sender lives as long as the receiver's servers.
        let _ = held.wait_for(|held| !*held).await;
    }
}

/// The OTLP receiver; it stops when dropped.
pub struct Receiver {
    grpc: SocketAddr,
    http: SocketAddr,
    store: Store,
    traces_held: watch::Sender<bool>,
    /// Runs both servers; dropping it stops them.
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    /// Starts both servers on free loopback ports; they accept connections once this returns.
    pub fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the receiver");
        let store = Store::default();
        let (traces_held, held) = watch::channel(false);
        let held = TracesHeld(held);
        let grpc_listener = loopback_listener();
        let http_listener = loopback_listener();
        let grpc = grpc_listener.local_addr().expect("a bound address");
        let http = http_listener.local_addr().expect("a bound address");
        let collector = GrpcCollector {
            store: Arc::clone(&store),
            held: held.clone(),
        };
        runtime.spawn(serve_grpc(grpc_listener, collector));
        runtime.spawn(serve_http(http_listener, Arc::clone(&store), held));
        Receiver {
            grpc,
            http,
            store,
            traces_held,
            _runtime: runtime,
        }
    }

    /// The `OTEL_EXPORTER_OTLP_ENDPOINT` that exports here over `transport`.
    pub fn endpoint(&self, transport: Transport) -> String {
        match transport {
            Transport::Grpc => format!("http://{}", self.grpc),
            Transport::Http => format!("http://{}", self.http),
        }
    }

    /// Holds every trace export from now on unanswered, as a collector that stalls, until
    /// [`release_traces`](Self::release_traces); metrics exports are still answered.
    pub fn hold_traces(&self) {
        self.traces_held.send_replace(true);
    }

    /// Takes the held trace exports, and answers those to come at once.
    pub fn release_traces(&self) {
        self.traces_held.send_replace(false);
    }

    /// Waits until at least `count` spans of any name have arrived from the service
    /// `service_name`; returns all of them.
    pub fn all_spans(&self, service_name: &str, count: usize) -> Vec<ReceivedSpan> {
        self.wait_for(&format!("{count} spans from {service_name}"), |received| {
            let spans: Vec<ReceivedSpan> = received
                .spans
                .iter()
                .filter(|received| service_of(&received.resource) == service_name)
                .cloned()
                .collect();
            (spans.len() >= count).then_some(spans)
        })
    }

    /// Waits until at least `count` spans named `name` have arrived from the service
    /// `service_name`; returns all of them.
    pub fn spans(&self, service_name: &str, name: &str, count: usize) -> Vec<ReceivedSpan> {
        self.wait_for(
            &format!("{count} spans {name:?} from {service_name}"),
            |received| {
                let spans: Vec<ReceivedSpan> = received
                    .spans
                    .iter()
                    .filter(|received| {
                        received.span.name == name && service_of(&received.resource) == service_name
                    })
                    .cloned()
                    .collect();
                (spans.len() >= count).then_some(spans)
            },
        )
    }

    /// Waits until the latest export of the metric `name` from the service `service_name`
    /// passes `ready` (cumulative metrics grow from one export to the next); returns it.
    pub fn latest_metric(
        &self,
        service_name: &str,
        name: &str,
        ready: impl Fn(&Metric) -> bool,
    ) -> ReceivedMetric {
        self.wait_for(
            &format!("metric {name:?} from {service_name} as expected"),
            |received| {
                received
                    .metrics
                    .iter()
                    .rev()
                    .find(|received| {
                        received.metric.name == name
                            && service_of(&received.resource) == service_name
                    })
                    .filter(|received| ready(&received.metric))
                    .cloned()
            },
        )
    }

    /// The names of all metrics the service `service_name` has exported so far.
    pub fn metric_names(&self, service_name: &str) -> BTreeSet<String> {
        lock(&self.store)
            .metrics
            .iter()
            .filter(|received| service_of(&received.resource) == service_name)
            .map(|received| received.metric.name.clone())
            .collect()
    }

    /// Polls what arrived until `found` returns something; fails the test after [`PATIENCE`].
    fn wait_for<T>(&self, what: &str, mut found: impl FnMut(&Received) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            {
                let received = lock(&self.store);
                if let Some(found) = found(&received) {
                    return found;
                }
                assert!(
                    Instant::now() < deadline,
                    "no {what} within {PATIENCE:?}; received\n{}",
                    received.summary()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn loopback_listener() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener for tokio");
    listener
}

/// The gRPC side: both collector services, storing each export, trace exports once not held.
#[derive(Clone)]
struct GrpcCollector {
    store: Store,
    held: TracesHeld,
}

#[tonic::async_trait]
impl TraceService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.held.released().await;
        let headers = text_headers(&request.metadata().clone().into_headers());
        lock(&self.store).add_traces(Transport::Grpc, &headers, request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let headers = text_headers(&request.metadata().clone().into_headers());
        lock(&self.store).add_metrics(Transport::Grpc, &headers, request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

async fn serve_grpc(listener: TcpListener, collector: GrpcCollector) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .add_service(MetricsServiceServer::new(collector))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await
        .expect("the OTLP gRPC receiver serves");
}

async fn serve_http(listener: TcpListener, store: Store, held: TracesHeld) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = Arc::clone(&store);
        let held = held.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                export_over_http(request, Arc::clone(&store), held.clone())
            });
            // A connection the exporter drops mid-request is its business, not the test's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Answers one OTLP/HTTP request: `200` with an empty protobuf response for a protobuf export
/// to `/v1/traces` or `/v1/metrics`; `404`, `405`, `415` or `400` (and a note in the store)
/// for a wrong path, method, content type or body. A trace export waits while they are held.
async fn export_over_http(
    request: Request<Incoming>,
    store: Store,
    held: TracesHeld,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let headers = text_headers(request.headers());
    let body = request.into_body().collect().await?.to_bytes();
    if path == "/v1/traces" {
        held.released().await;
    }

    let answer = if method != Method::POST {
        Err(StatusCode::METHOD_NOT_ALLOWED)
    } else if content_type != "application/x-protobuf" {
        Err(StatusCode::UNSUPPORTED_MEDIA_TYPE)
    } else {
        match path.as_str() {
            "/v1/traces" => ExportTraceServiceRequest::decode(body)
                .map(|export| {
                    lock(&store).add_traces(Transport::Http, &headers, export);
                    ExportTraceServiceResponse::default().encode_to_vec()
                })
                .map_err(|_| StatusCode::BAD_REQUEST),
            "/v1/metrics" => ExportMetricsServiceRequest::decode(body)
                .map(|export| {
                    lock(&store).add_metrics(Transport::Http, &headers, export);
                    ExportMetricsServiceResponse::default().encode_to_vec()
                })
                .map_err(|_| StatusCode::BAD_REQUEST),
            _ => Err(StatusCode::NOT_FOUND),
        }
    };
    let response = match answer {
        Ok(encoded) => Response::builder()
            .header(CONTENT_TYPE, "application/x-protobuf")
            .body(Full::new(Bytes::from(encoded))),
        Err(status) => {
            lock(&store)
                .rejected
                .push(format!("{method} {path} ({content_type}): {status}"));
            Response::builder().status(status).body(Full::default())
        }
    };
    Ok(response.expect("a well-formed response"))
}
