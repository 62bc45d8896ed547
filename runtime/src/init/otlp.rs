//! The OTLP exporters of spans and metrics, over gRPC or HTTP, as `OtlpConfig` describes.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{
    ExporterBuildError, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};

use super::config::{ConfigError, OtlpConfig, OtlpProtocol};

/// The span exporter to `otlp.endpoint`; one export may take `timeout` at most.
pub(super) fn span_exporter(
    otlp: &OtlpConfig,
    timeout: Duration,
) -> Result<SpanExporter, ConfigError> {
    let builder = SpanExporter::builder();
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => over_grpc(builder.with_tonic(), otlp, timeout)?.build(),
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
        OtlpProtocol::Grpc => over_grpc(builder.with_tonic(), otlp, timeout)?.build(),
        OtlpProtocol::HttpProtobuf => over_http(builder.with_http(), otlp, timeout).build(),
    };
    built.map_err(|error| build_error("metric", otlp, error))
}

fn over_grpc<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    otlp: &OtlpConfig,
    timeout: Duration,
) -> Result<B, ConfigError> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (key, value) in &otlp.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(key.to_lowercase().as_bytes());
        match (key, value.parse()) {
            (Ok(key), Ok(value)) => {
                metadata.insert(key, value);
            }
            _ => {
                return Err(ConfigError::new(
                    "OTEL_EXPORTER_OTLP_HEADERS (value hidden) has a header that gRPC metadata \
                     cannot carry; use ASCII names and values"
                        .to_owned(),
                ))
            }
        }
    }
    Ok(builder
        .with_endpoint(&otlp.endpoint)
        .with_timeout(timeout)
        .with_metadata(metadata))
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
