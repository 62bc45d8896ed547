//! Attributes from the application's code, for what no proto field says: a tenant from an
//! authentication token, a feature flag. Run on both sides, for every RPC kind, only for
//! calls whose span is recorded.

use crate::call_info::{CallEnd, CallStart};
use crate::call_sink::CallSink;

/// Adds attributes to the RPC spans of recorded calls, given to
/// [`Config::call_attributes`](crate::Config::call_attributes).
///
/// The sink cuts strings to the configured length and hashes with the configured key
/// ([`CallSink::hash`]), as for annotated fields. Neither method runs for a call whose
/// span is not recorded, so an unsampled call pays nothing for them.
///
/// ```
/// use tonic_traced::{AttributeValue, CallAttributes, CallEnd, CallSink, CallStart};
///
/// /// The tenant an authenticating layer put in the request's extensions.
/// #[derive(Clone)]
/// struct Tenant(String);
///
/// struct TenantAttributes;
///
/// impl CallAttributes for TenantAttributes {
///     fn on_start(&self, call: &CallStart<'_>, sink: &mut CallSink<'_>) {
///         if let Some(Tenant(tenant)) = call.extensions().get::<Tenant>() {
///             sink.record("tenant.id", AttributeValue::Str(tenant));
///         }
///         if let Some(flag) = call.metadata().get("x-feature").and_then(|v| v.to_str().ok()) {
///             sink.record("feature.flag", AttributeValue::Str(flag));
///         }
///     }
///
///     fn on_end(&self, call: &CallEnd<'_>, sink: &mut CallSink<'_>) {
///         let retryable = matches!(call.code(), tonic::Code::Unavailable);
///         sink.record("rpc.retryable", AttributeValue::Bool(retryable));
///     }
/// }
///
/// let config = tonic_traced::Config::new().call_attributes(TenantAttributes);
/// # drop(config);
/// ```
pub trait CallAttributes: Send + Sync + 'static {
    /// Records attributes when a recorded call starts: on servers before the handler runs,
    /// on clients before the request is sent.
    fn on_start(&self, call: &CallStart<'_>, sink: &mut CallSink<'_>) {
        let _ = (call, sink);
    }

    /// Records attributes when a recorded call ends, with its final status.
    fn on_end(&self, call: &CallEnd<'_>, sink: &mut CallSink<'_>) {
        let _ = (call, sink);
    }
}
