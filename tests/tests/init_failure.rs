//! `init()` makes its meter provider global before it builds the tracer provider (for the batch
//! span processor to count dropped spans in it); when it then fails, here because a
//! configuration was installed already, the application's global meter provider is put back
//! and goes on recording.

use opentelemetry::global;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use tonic_traced_tests::harness::env_lookup as lookup;

#[test]
fn a_failed_init_gives_the_global_meter_provider_back() {
    let exporter = InMemoryMetricExporter::default();
    let application = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    global::set_meter_provider(application.clone());
    tonic_traced::Config::new().install().unwrap();

    let error = tonic_traced::Init::default()
        .without_tracing_subscriber()
        .install_with(lookup(&[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_METRICS_EXPORTER", "console"),
        ]))
        .unwrap_err();
    assert!(error.to_string().contains("installed already"), "{error}");

    global::meter("application")
        .u64_counter("orders")
        .build()
        .add(3, &[]);
    application.force_flush().unwrap();
    let exported = exporter.get_finished_metrics().unwrap();
    let orders: u64 = exported
        .last()
        .into_iter()
        .flat_map(|metrics| metrics.scope_metrics())
        .flat_map(|scope| scope.metrics())
        .filter(|metric| metric.name() == "orders")
        .map(|metric| match metric.data() {
            AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                sum.data_points().map(|point| point.value()).sum::<u64>()
            }
            other => panic!("a sum: {other:?}"),
        })
        .sum();
    assert_eq!(
        orders, 3,
        "the application's provider records again: {exported:?}"
    );
}
