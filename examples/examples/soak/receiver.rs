//! A minimal OTLP/gRPC receiver on loopback that counts the SERVER spans of one name it is
//! sent, and how many of them ended `CANCELLED`; metrics are accepted and discarded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// `rpc.grpc.status_code` of `CANCELLED`.
const CANCELLED: i64 = tonic::Code::Cancelled as i64;

/// Counts of the spans received so far.
#[derive(Debug, Default)]
pub struct Counts {
    /// SERVER spans with the name asked for.
    pub server_spans: AtomicU64,
    /// Those of them whose `rpc.grpc.status_code` is `CANCELLED`.
    pub cancelled: AtomicU64,
}

/// The receiver's gRPC services.
#[derive(Clone)]
struct Collector {
    span_name: &'static str,
    counts: Arc<Counts>,
}

impl Collector {
    fn count(&self, span: &Span) {
        if span.kind != SpanKind::Server as i32 || span.name != self.span_name {
            return;
        }
        self.counts.server_spans.fetch_add(1, Ordering::Relaxed);
        let cancelled = span.attributes.iter().any(|attribute| {
            attribute.key == "rpc.grpc.status_code"
                && attribute
                    .value
                    .as_ref()
                    .and_then(|value| value.value.as_ref())
                    == Some(&Value::IntValue(CANCELLED))
        });
        if cancelled {
            self.counts.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let spans = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| &scope.spans);
        for span in spans {
            self.count(span);
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        _request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Serves the receiver on a free loopback port in the background, counting SERVER spans
/// named `span_name`; returns its `OTEL_EXPORTER_OTLP_ENDPOINT` and the counts.
pub async fn start(span_name: &'static str) -> std::io::Result<(String, Arc<Counts>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    let counts = Arc::new(Counts::default());
    let collector = Collector {
        span_name,
        counts: Arc::clone(&counts),
    };
    let router = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .add_service(MetricsServiceServer::new(collector));
    tokio::spawn(router.serve_with_incoming(TcpIncoming::from(listener)));
    Ok((format!("http://{address}"), counts))
}
