//! `init()`'s meter provider made global before the tracer provider is built: the SDK's batch
//! span processor takes the global meter when it is created, to count the spans it drops
//! (`otel.sdk.processor.span.processed`), so that count reaches `init()`'s exporters only in
//! this order. Should `init()` fail afterwards, the previous global provider is put back.

use std::sync::Arc;

use opentelemetry::global;
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::metrics::SdkMeterProvider;

/// The global meter provider set to `init()`'s until [`keep`](Self::keep); dropped without
/// it, the previous global provider is set again.
pub(super) struct ProvisionalMeterProvider {
    previous: Option<Arc<dyn MeterProvider + Send + Sync>>,
}

impl ProvisionalMeterProvider {
    /// Makes `provider` the global meter provider, remembering the one it replaces.
    pub(super) fn install(provider: &SdkMeterProvider) -> Self {
        let previous = global::meter_provider();
        global::set_meter_provider(provider.clone());
        ProvisionalMeterProvider {
            previous: Some(previous),
        }
    }

    /// Leaves the provider installed for good.
    pub(super) fn keep(mut self) {
        self.previous = None;
    }
}

impl Drop for ProvisionalMeterProvider {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            global::set_meter_provider(Previous(previous));
        }
    }
}

/// The global meter provider as it was before `init()`, set again.
struct Previous(Arc<dyn MeterProvider + Send + Sync>);

impl MeterProvider for Previous {
    fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        self.0.meter_with_scope(scope)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader};

    use super::*;

    /// The sum of the counter `name` the provider exporting to `exporter` recorded.
    fn counted(provider: &SdkMeterProvider, exporter: &InMemoryMetricExporter, name: &str) -> u64 {
        provider.force_flush().unwrap();
        let exported = exporter.get_finished_metrics().unwrap();
        let Some(last) = exported.last() else {
            return 0;
        };
        let metric = last
            .scope_metrics()
            .flat_map(|scope| scope.metrics())
            .find(|metric| metric.name() == name);
        match metric.map(|metric| metric.data()) {
            Some(AggregatedMetrics::U64(MetricData::Sum(sum))) => {
                sum.data_points().map(|point| point.value()).sum()
            }
            _ => 0,
        }
    }

    fn in_memory() -> (SdkMeterProvider, InMemoryMetricExporter) {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        (provider, exporter)
    }

    /// One test of the process-wide global: the provisional provider records while installed,
    /// then, dropped, gives the global back to the application's provider; kept, it stays.
    #[test]
    fn a_provisional_provider_is_replaced_by_the_previous_one_unless_kept() {
        let (application, application_exporter) = in_memory();
        global::set_meter_provider(application.clone());
        let (provisional, provisional_exporter) = in_memory();

        let installed = ProvisionalMeterProvider::install(&provisional);
        global::meter("test")
            .u64_counter("during")
            .build()
            .add(1, &[]);
        drop(installed);
        global::meter("test")
            .u64_counter("after")
            .build()
            .add(1, &[]);
        assert_eq!(counted(&provisional, &provisional_exporter, "during"), 1);
        assert_eq!(counted(&application, &application_exporter, "after"), 1);
        assert_eq!(counted(&provisional, &provisional_exporter, "after"), 0);

        ProvisionalMeterProvider::install(&provisional).keep();
        global::meter("test")
            .u64_counter("kept")
            .build()
            .add(1, &[]);
        assert_eq!(counted(&provisional, &provisional_exporter, "kept"), 1);
        assert_eq!(counted(&application, &application_exporter, "kept"), 0);
    }
}
