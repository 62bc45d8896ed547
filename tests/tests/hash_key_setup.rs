//! A program with `HASH` fields and no hash key: strict `init()` refuses to start, installing
//! nothing; lenient `init()` warns once, at setup, outside any call's trace.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tonic_traced::Init;
use tonic_traced_tests::kitchen::sink::v1::Redacted;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One logged event: its message, whether it sat in a `tracing` span, and whether an
/// OpenTelemetry span context was current.
#[derive(Debug)]
struct Logged {
    message: String,
    in_span: bool,
    in_trace: bool,
}

#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Logged>>>);

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Events {
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        let in_trace =
            opentelemetry::Context::map_current(|otel| otel.span().span_context().is_valid());
        self.0.lock().unwrap().push(Logged {
            message,
            in_span: ctx.event_span(event).is_some(),
            in_trace,
        });
    }
}

/// No exporters, no key: only what this test is about.
fn lookup(name: &str) -> Option<String> {
    match name {
        "OTEL_TRACES_EXPORTER" | "OTEL_METRICS_EXPORTER" => Some("none".to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn strict_refuses_to_start_and_lenient_warns_once_outside_any_trace() {
    // This program records HASH fields (kitchen's `Redacted.customer_id` among them).
    let _ = Redacted::default();

    let error = Init::default()
        .strict(true)
        .without_tracing_subscriber()
        .install_with(lookup)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is redacted with HASH but no hash key is set")
            && error.contains("set TONIC_TRACED_HASH_KEY"),
        "{error}"
    );

    // Setup run from inside a traced call's context (a span entered, a remote parent current):
    // the warning still belongs to no trace.
    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let parent = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let _otel = opentelemetry::Context::new()
        .with_remote_span_context(parent)
        .attach();
    let span = tracing::info_span!("caller");
    let _entered = span.enter();

    // The strict failure installed nothing: lenient setup can still install.
    let _guard = Init::default()
        .without_tracing_subscriber()
        .install_with(lookup)
        .unwrap();
    for _ in 0..3 {
        tonic_traced::redact::hash(b"cust-123");
    }

    let events = events.0.lock().unwrap();
    let warnings: Vec<&Logged> = events
        .iter()
        .filter(|logged| logged.message.contains("hashed without a key"))
        .collect();
    let [warning] = warnings.as_slice() else {
        panic!("one warning: {events:?}");
    };
    assert!(
        !warning.in_span && !warning.in_trace,
        "the warning sits in the caller's trace: {warning:?}"
    );
    assert!(warning.message.contains("kitchen.sink.v1."), "{warning:?}");
}
