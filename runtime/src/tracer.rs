//! The tracer every span of tonic-traced is started with: the SDK's own when it was given one,
//! else one of the global provider.

use std::sync::{OnceLock, PoisonError, RwLock};

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{Span as _, SpanBuilder, TraceContextExt as _, Tracer, TracerProvider};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The instrumentation scope name spans are reported under.
pub const SCOPE_NAME: &str = "tonic-traced";

/// The tracer of the provider given to [`use_tracer_provider`], if any.
static SDK_TRACER: RwLock<Option<SdkTracer>> = RwLock::new(None);

/// Starts the spans of tonic-traced with a tracer of `provider` from now on, rather than with
/// the global provider's: the SDK's spans are then used as they are, without the boxing the
/// global, type-erased tracer adds to every span. `init()` calls it with the provider it
/// installs; call it after installing an SDK provider of your own.
pub fn use_tracer_provider(provider: &SdkTracerProvider) {
    let tracer = provider.tracer_with_scope(scope());
    *SDK_TRACER.write().unwrap_or_else(PoisonError::into_inner) = Some(tracer);
}

/// Starts a span as a child of `parent`; returns `parent` with the span.
pub(crate) fn start(builder: SpanBuilder, parent: &Context) -> Context {
    match sdk_tracer() {
        Some(tracer) => parent.with_span(tracer.build_with_context(builder, parent)),
        None => parent.with_span(global_tracer().build_with_context(builder, parent)),
    }
}

/// Records a span that starts and ends now, as a child of `parent`.
pub(crate) fn record(builder: SpanBuilder, parent: &Context) {
    match sdk_tracer() {
        Some(tracer) => tracer.build_with_context(builder, parent).end(),
        None => global_tracer().build_with_context(builder, parent).end(),
    }
}

/// The tracer [`use_tracer_provider`] made, if it was called (a cheap clone: an `Arc`).
fn sdk_tracer() -> Option<SdkTracer> {
    SDK_TRACER
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// A tracer of the global provider, made on first use: install the provider (`init()` does)
/// before the first RPC.
fn global_tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| global::tracer_provider().tracer_with_scope(scope()))
}

/// The scope of the spans and metrics of tonic-traced.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}
