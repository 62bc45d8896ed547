//! The OTLP exporters of spans and metrics, over gRPC or HTTP, as `OtlpConfig` describes.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{
    ExporterBuildError, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};

use http::{HeaderMap, HeaderName, HeaderValue};
use tonic::metadata::MetadataMap;

use super::config::{ConfigError, OtlpConfig, OtlpProtocol};

/// The span exporter to `otlp.endpoint`; one export may take `timeout` at most.
pub(super) fn span_exporter(
    otlp: &OtlpConfig,
    timeout: Duration,
) -> Result<SpanExporter, ConfigError> {
    let builder = SpanExporter::builder();
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => over_grpc(builder.with_tonic(), otlp, timeout).build(),
        OtlpProtocol::HttpProtobuf => over_http(builder.with_http(), otlp, timeout).build(),
    };
    built.map_err(|error| build_error("trace", otlp, error))
}

/// The metric exporter to `otlp.endpoint`; one export may take `timeout` at most.
pub(super) fn metric_exporter(
    otlp: &OtlpConfig,
    timeout: Duration,
) -> Result<MetricExporter, ConfigError> {
    let builder = MetricExporter::builder();
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => over_grpc(builder.with_tonic(), otlp, timeout).build(),
        OtlpProtocol::HttpProtobuf => over_http(builder.with_http(), otlp, timeout).build(),
    };
    built.map_err(|error| build_error("metric", otlp, error))
}

fn over_grpc<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    otlp: &OtlpConfig,
    timeout: Duration,
) -> B {
    builder
        .with_endpoint(&otlp.endpoint)
        .with_timeout(timeout)
        .with_metadata(MetadataMap::from_headers(header_map(otlp)))
}

/// The headers as gRPC metadata. The configuration has checked that each is a valid header, so
/// none is left out.
fn header_map(otlp: &OtlpConfig) -> HeaderMap {
    otlp.headers
        .iter()
        .filter_map(|(key, value)| {
            let key = HeaderName::from_bytes(key.as_bytes()).ok()?;
            Some((key, HeaderValue::from_str(value).ok()?))
        })
        .collect()
}

fn over_http<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    otlp: &OtlpConfig,
    timeout: Duration,
) -> B {
    builder
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(&otlp.endpoint)
        .with_timeout(timeout)
        .with_headers(otlp.headers.iter().cloned().collect::<HashMap<_, _>>())
}

fn build_error(signal: &str, otlp: &OtlpConfig, error: ExporterBuildError) -> ConfigError {
    ConfigError::new(format!(
        "could not set up the OTLP {signal} exporter for {}: {error}",
        otlp.endpoint
    ))
}
