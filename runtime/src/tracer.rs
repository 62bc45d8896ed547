//! The tracer every span of tonic-traced is started with: the SDK's own when the
//! configuration was given a provider, else one of the global provider.

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{Span as _, SpanBuilder, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::SdkTracer;

/// The instrumentation scope name spans are reported under.
pub const SCOPE_NAME: &str = "tonic-traced";

/// The tracer of the installed configuration.
pub(crate) enum Tracer {
    /// An SDK provider's tracer: its spans are used as they are.
    Sdk(SdkTracer),
    /// The global provider's type-erased tracer, which boxes every span.
    Global(BoxedTracer),
}

impl Tracer {
    /// Starts a span as a child of `parent`; returns `parent` with the span.
    pub(crate) fn start(&self, builder: SpanBuilder, parent: &Context) -> Context {
        match self {
            Tracer::Sdk(tracer) => parent.with_span(tracer.build_with_context(builder, parent)),
            Tracer::Global(tracer) => parent.with_span(tracer.build_with_context(builder, parent)),
        }
    }

    /// Records a span that starts and ends now, as a child of `parent`.
    pub(crate) fn record(&self, builder: SpanBuilder, parent: &Context) {
        match self {
            Tracer::Sdk(tracer) => tracer.build_with_context(builder, parent).end(),
            Tracer::Global(tracer) => tracer.build_with_context(builder, parent).end(),
        }
    }
}

/// The scope of the spans and metrics of tonic-traced.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}
