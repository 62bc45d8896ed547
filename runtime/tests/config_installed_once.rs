//! The configuration is installed once: a second install fails and changes nothing.

mod support;

use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tonic_traced::{Config, InstallError, SemconvMode};

#[test]
fn a_second_install_fails_and_the_first_stays() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    Config::new()
        .semconv(SemconvMode::STABLE)
        .tracer_provider(&provider)
        .without_metrics()
        .install()
        .unwrap();

    let second = Config::new().semconv(SemconvMode::OLD).install();
    assert_eq!(second, Err(InstallError::AlreadyInstalled));
    assert!(
        second
            .unwrap_err()
            .to_string()
            .contains("install it once per process"),
        "the error says what to do"
    );

    support::refused_call();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "test.Echo/Say");
    let attribute = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    // The first configuration's conventions and provider.
    assert_eq!(attribute("rpc.system.name"), Some(Value::from("grpc")));
    assert_eq!(
        attribute("rpc.status_code"),
        Some(Value::from("UNAVAILABLE"))
    );
    assert_eq!(attribute("rpc.system"), None);
}
