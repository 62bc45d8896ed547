//! `tracing` events outside any `tracing` span, recorded on the current OpenTelemetry span:
//! a `tracing::info!` straight in a handler becomes an event of the call's SERVER span.

use std::cell::Cell;
use std::fmt;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A `tracing` layer that records an event that is in no `tracing` span on the current
/// OpenTelemetry span, when that span is recording. In a traced handler that span is the
/// SERVER span; unsampled calls record nothing and cost one check per event.
///
/// `tracing-opentelemetry` records an event only on the OpenTelemetry span of the `tracing`
/// span it is in, and drops it when there is none, as in a handler without
/// `#[tracing::instrument]`. Give this layer the same filter as the `tracing-opentelemetry`
/// layer, so that both agree on which events are in a span:
///
/// ```
/// # use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
///
/// # let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry().with(
///     tracing_opentelemetry::layer()
///         .with_tracer(provider.tracer("my-service"))
///         .and_then(tonic_traced::HandlerEvents)
///         .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
/// );
/// # drop(subscriber);
/// ```
///
/// Events are named and carry attributes as `tracing-opentelemetry` writes them: the
/// `message` is the name, `level`, `target` and the other fields are attributes. They do not
/// change the span's status, which the call's gRPC status decides.
#[derive(Debug, Default, Clone, Copy)]
pub struct HandlerEvents;

impl<S> Layer<S> for HandlerEvents
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_event(&self, event: &Event<'_>, cx: LayerContext<'_, S>) {
        if !event.is_contextual() || cx.lookup_current().is_some() || is_diagnostic(event) {
            return;
        }
        thread_local! {
            /// Set while an event is recorded, so that the SDK's own logs, if any, are not.
            static RECORDING: Cell<bool> = const { Cell::new(false) };
        }
        if RECORDING.replace(true) {
            return;
        }
        Context::map_current(|cx| {
            let span = cx.span();
            if span.is_recording() {
                let mut fields = EventFields::new(event);
                event.record(&mut fields);
                span.add_event(fields.name, fields.attributes);
            }
        });
        RECORDING.set(false);
    }
}

/// An event's name and attributes, read from its fields.
struct EventFields {
    name: String,
    attributes: Vec<KeyValue>,
}

impl EventFields {
    fn new(event: &Event<'_>) -> Self {
        let metadata = event.metadata();
        EventFields {
            name: metadata.name().to_owned(),
            attributes: vec![
                KeyValue::new("level", metadata.level().as_str()),
                KeyValue::new("target", metadata.target()),
            ],
        }
    }
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.name = value.to_owned(),
            name => self.attributes.push(KeyValue::new(name, value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.name = format!("{value:?}"),
            name => self
                .attributes
                .push(KeyValue::new(name, format!("{value:?}"))),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let attribute = match i64::try_from(value) {
            Ok(value) => KeyValue::new(field.name(), value),
            Err(_) => KeyValue::new(field.name(), value.to_string()),
        };
        self.attributes.push(attribute);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
}

/// Whether `event` is a diagnostic of tonic-traced or of the OpenTelemetry SDK (a warning about
/// unkeyed hashes, a full span queue), which belongs in the log, not on the user's spans.
fn is_diagnostic(event: &Event<'_>) -> bool {
    let target = event.metadata().target();
    let crate_name = target.split("::").next().unwrap_or(target);
    crate_name == "tonic_traced" || crate_name.starts_with("opentelemetry")
}
