//! The tracer every span of tonic-traced is started with.

use std::sync::OnceLock;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;

/// The instrumentation scope name spans are reported under.
pub const SCOPE_NAME: &str = "tonic-traced";

/// A tracer of the global provider, made on first use: install the provider (`init()` does)
/// before the first RPC.
pub fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| {
        let scope = InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        global::tracer_provider().tracer_with_scope(scope)
    })
}
