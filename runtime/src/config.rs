//! The one configuration of tonic-traced: which conventions, tracer and meter every traced
//! call uses. It is installed once, before the first traced call (`init()` builds it from the
//! environment; an application with its own OpenTelemetry setup builds it in code), and read
//! by every call without a lock.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::global;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::call_filter::{BadMethodPattern, CallFilter, HEALTH_AND_REFLECTION};
use crate::call_hooks::CallAttributes;
use crate::call_info::CallStart;
use crate::field_values::FieldValues;
use crate::hashing::HashKey;
use crate::limits::{DEFAULT_ATTRIBUTE_VALUE_LENGTH, DEFAULT_MESSAGES_PER_RPC};
use crate::metadata::MetadataCapture;
use crate::metrics::{ExemplarSink, Instruments};
use crate::propagation::Propagation;
use crate::semconv::SemconvMode;
use crate::tracer::{scope, Tracer};

/// The configuration in use, set by [`Config::install`] or, failing that, by the first traced
/// call with the defaults.
static ACTIVE: OnceLock<Active> = OnceLock::new();

/// How tonic-traced traces and measures calls, installed once per process with
/// [`install`](Config::install).
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tonic_traced::{Config, InstallError, SemconvMode};
///
/// # fn main() -> Result<(), InstallError> {
/// let provider = SdkTracerProvider::builder().build(); // your exporters, sampler, resource
/// Config::new()
///     .semconv(SemconvMode::STABLE)
///     .tracer_provider(&provider)
///     .hash_key("the secret every service shares")
///     .install()?;
///
/// // Once per process: a second configuration changes nothing.
/// assert_eq!(Config::new().install(), Err(InstallError::AlreadyInstalled));
/// # Ok(())
/// # }
/// ```
///
/// Without an installed configuration the first traced call installs [`Config::new`]: the old
/// conventions, the global tracer and meter providers as they are at that moment, and the
/// global propagator looked up per call.
///
/// What a call needs of the configuration is resolved once, where the call starts (the traced
/// handler, the client layer), and handed to every part of the call from there.
pub struct Config {
    semconv: SemconvMode,
    tracer_provider: Option<SdkTracerProvider>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    /// Declared: the global propagator is W3C's.
    global_propagator_w3c: bool,
    parent_based: bool,
    metrics: MetricsSource,
    exemplars: Option<Arc<dyn ExemplarSink>>,
    attribute_value_length: usize,
    messages_per_rpc: u64,
    hash_key: Option<HashKey>,
    public_endpoints: PublicEndpoints,
    metadata: MetadataNames,
    filter: CallFilter,
    call_attributes: Option<Arc<dyn CallAttributes>>,
}

/// The metadata keys recorded as attributes, as given.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetadataNames {
    pub(crate) server_request: Vec<String>,
    pub(crate) server_response: Vec<String>,
    pub(crate) client_request: Vec<String>,
    pub(crate) client_response: Vec<String>,
    pub(crate) sensitive: bool,
}

/// The services whose callers do not choose sampling, besides those marked `public_endpoint`
/// in code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum PublicEndpoints {
    #[default]
    None,
    All,
    Services(Vec<String>),
}

/// Where the RPC metrics' instruments come from.
enum MetricsSource {
    /// The global meter provider, as it is when the configuration is installed.
    Global,
    /// A provider given in code.
    Provider(Box<dyn MeterProvider + Send + Sync>),
    /// No RPC metrics at all.
    Off,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metrics = match self.metrics {
            MetricsSource::Global => "global meter provider",
            MetricsSource::Provider(_) => "given meter provider",
            MetricsSource::Off => "off",
        };
        f.debug_struct("Config")
            .field("semconv", &self.semconv)
            .field("tracer_provider", &self.tracer_provider.is_some())
            .field("propagator", &self.propagator.is_some())
            .field("global_propagator_w3c", &self.global_propagator_w3c)
            .field("parent_based", &self.parent_based)
            .field("exemplars", &self.exemplars.is_some())
            .field("metrics", &metrics)
            .field("attribute_value_length", &self.attribute_value_length)
            .field("messages_per_rpc", &self.messages_per_rpc)
            .field("hash_key", &self.hash_key.is_some())
            .field("public_endpoints", &self.public_endpoints)
            .field("metadata", &self.metadata)
            .field("filter", &self.filter)
            .field("call_attributes", &self.call_attributes.is_some())
            .finish()
    }
}

impl Config {
    /// The defaults: old conventions, the global tracer and meter providers, no assumption
    /// about propagation and sampling.
    pub fn new() -> Self {
        Config {
            semconv: SemconvMode::OLD,
            tracer_provider: None,
            propagator: None,
            global_propagator_w3c: false,
            parent_based: false,
            metrics: MetricsSource::Global,
            exemplars: None,
            attribute_value_length: DEFAULT_ATTRIBUTE_VALUE_LENGTH,
            messages_per_rpc: DEFAULT_MESSAGES_PER_RPC,
            hash_key: None,
            public_endpoints: PublicEndpoints::None,
            metadata: MetadataNames::default(),
            filter: CallFilter::default(),
            call_attributes: None,
        }
    }

    /// Which RPC semantic conventions spans and metrics follow; see
    /// [`SemconvMode::from_opt_in`] to read `OTEL_SEMCONV_STABILITY_OPT_IN` yourself.
    pub fn semconv(mut self, mode: SemconvMode) -> Self {
        self.semconv = mode;
        self
    }

    /// Starts spans with this SDK provider's tracer, used as it is, rather than with the global
    /// provider's type-erased tracer, which boxes every span.
    pub fn tracer_provider(mut self, provider: &SdkTracerProvider) -> Self {
        self.tracer_provider = Some(provider.clone());
        self
    }

    /// Reads and writes trace context with `propagator` rather than with the global one.
    /// When it uses W3C Trace Context alone (its `fields()` are `traceparent`, perhaps with
    /// `tracestate` and `baggage`) and the sampler is [parent-based](Self::parent_based_sampling),
    /// a lone valid `traceparent` is read without it, and calls it marks unsampled start no
    /// span: they run in the caller's unsampled context, which outgoing calls pass on.
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Declares that the tracer provider's sampler follows the caller's sampled flag
    /// (`ParentBased`, as `init()` sets it up by default), which the W3C fast path of
    /// [`propagator`](Self::propagator) relies on.
    pub fn parent_based_sampling(mut self, declared: bool) -> Self {
        self.parent_based = declared;
        self
    }

    /// Declares that the global propagator is W3C Trace Context (with or without Baggage) and
    /// the sampler is parent-based: the fast path of [`propagator`](Self::propagator) for a
    /// configuration that uses the global propagator.
    pub fn w3c_parent_based_sampling(mut self, declared: bool) -> Self {
        self.global_propagator_w3c = declared;
        self.parent_based = declared;
        self
    }

    /// Records the RPC metrics with instruments of `provider` rather than of the global one.
    pub fn meter_provider(mut self, provider: impl MeterProvider + Send + Sync + 'static) -> Self {
        self.metrics = MetricsSource::Provider(Box::new(provider));
        self
    }

    /// Records no RPC metrics.
    pub fn without_metrics(mut self) -> Self {
        self.metrics = MetricsSource::Off;
        self
    }

    /// Cuts every string tonic-traced records (annotated fields, status and exception
    /// messages) to at most `characters`, at a character boundary;
    /// [`DEFAULT_ATTRIBUTE_VALUE_LENGTH`] (1024) unless set. `init()` sets it from
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    pub fn attribute_value_length_limit(mut self, characters: usize) -> Self {
        self.attribute_value_length = characters;
        self
    }

    /// Records at most `count` message spans (or events) per RPC, both directions together;
    /// the RPC span counts the rest in `tonic_traced.messages.unrecorded`.
    /// [`DEFAULT_MESSAGES_PER_RPC`] (128) unless set.
    pub fn max_messages_per_rpc(mut self, count: u64) -> Self {
        self.messages_per_rpc = count;
        self
    }

    /// The secret that `HASH`-redacted fields are hashed under (HMAC-SHA-256). Give every
    /// service the same one so that hashed ids still correlate across them; keep it out of
    /// the trace backend's reach. Without a key, hashes are unkeyed SHA-256, which guessing
    /// reverses for small value spaces.
    pub fn hash_key(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.hash_key = Some(HashKey::new(secret.as_ref()));
        self
    }

    /// Treats the service `service` (its proto name, `package.Service`, or the `service_name`
    /// its impl sets in its stead, or `*` for every service) as a public endpoint, as `#[traced_service(public_endpoint)]` does: its callers'
    /// trace context becomes a link of a new root span, sampled by this process's sampler, so
    /// untrusted callers cannot choose what is sampled. Call it once per service.
    pub fn public_endpoint(mut self, service: impl Into<String>) -> Self {
        let service = service.into();
        self.public_endpoints = match (self.public_endpoints, service.as_str()) {
            (_, "*") | (PublicEndpoints::All, _) => PublicEndpoints::All,
            (PublicEndpoints::None, _) => PublicEndpoints::Services(vec![service]),
            (PublicEndpoints::Services(mut services), _) => {
                services.push(service);
                PublicEndpoints::Services(services)
            }
        };
        self
    }

    /// Records these request metadata keys (any case) of calls a traced server receives, as
    /// `rpc.grpc.request.metadata.<key>` (old conventions) or `rpc.request.metadata.<key>`
    /// (stable): string arrays of the key's values. See [`capture_sensitive_metadata`](Self::capture_sensitive_metadata).
    pub fn capture_server_request_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.metadata
            .server_request
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Records these response metadata keys (headers and trailers) a traced server sends, as
    /// `rpc.grpc.response.metadata.<key>` or `rpc.response.metadata.<key>`.
    pub fn capture_server_response_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.metadata
            .server_response
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Records these request metadata keys on the CLIENT spans of every traced client (a
    /// layer can add its own).
    pub fn capture_client_request_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.metadata
            .client_request
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Records these response metadata keys (headers and trailers) on the CLIENT spans of
    /// every traced client.
    pub fn capture_client_response_metadata<K: Into<String>>(
        mut self,
        keys: impl IntoIterator<Item = K>,
    ) -> Self {
        self.metadata
            .client_response
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Allows `authorization`, `cookie` and `set-cookie` among the captured metadata keys,
    /// which are otherwise left out: their values are credentials, and a trace backend is
    /// rarely the place for them.
    pub fn capture_sensitive_metadata(mut self, allowed: bool) -> Self {
        self.metadata.sensitive = allowed;
        self
    }

    /// Hands the durations of sampled calls, with their trace and span, to `sink`, for a
    /// metrics endpoint that shows exemplars (`init()`'s Prometheus endpoint does).
    pub fn exemplars(mut self, sink: Arc<dyn ExemplarSink>) -> Self {
        self.exemplars = Some(sink);
        self
    }

    /// Traces only the calls `predicate` returns `true` for, on servers and clients alike
    /// ([`CallStart::span_kind`] tells them apart): the others get no span and no metrics, and
    /// still pass the caller's trace context on (a server runs the handler in it; a client
    /// sends it), so the calls they make stay in the caller's trace. On a public endpoint a
    /// left-out call runs in no trace, as the caller is not trusted with one. Given several
    /// times, every predicate must pass.
    ///
    /// ```
    /// // Leave out calls that ask for it, on both sides.
    /// let config = tonic_traced::Config::new()
    ///     .filter(|call| !call.metadata().contains_key("x-no-trace"));
    /// # drop(config);
    /// ```
    pub fn filter(
        mut self,
        predicate: impl Fn(&CallStart<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter.require(Arc::new(predicate));
        self
    }

    /// Leaves out the calls of these methods (see [`filter`](Self::filter) for what that
    /// means), each `package.Service/Method`, or `package.Service/*` for all of a service's
    /// methods, matched against the span's name. `init()` reads them from
    /// `TONIC_TRACED_SKIP_METHODS`. Fails, naming the pattern, if one is neither.
    pub fn skip_methods<P: AsRef<str>>(
        mut self,
        patterns: impl IntoIterator<Item = P>,
    ) -> Result<Self, BadMethodPattern> {
        self.filter.skip_methods(patterns)?;
        Ok(self)
    }

    /// Leaves out the gRPC health service's calls and server reflection's
    /// ([`HEALTH_AND_REFLECTION`]): the noise of load balancers' and Kubernetes' probes.
    pub fn skip_health_and_reflection(mut self) -> Self {
        self.filter
            .skip_methods(HEALTH_AND_REFLECTION)
            .expect("the health and reflection patterns are valid (tested)");
        self
    }

    /// Adds the attributes `hook` records to the RPC spans of recorded calls, on servers and
    /// clients, when they start and when they end; see [`CallAttributes`].
    pub fn call_attributes(mut self, hook: impl CallAttributes) -> Self {
        self.call_attributes = Some(Arc::new(hook));
        self
    }

    /// Makes this the configuration of every traced call of the process. Fails, changing
    /// nothing, when one was installed already or a traced call already ran with the defaults.
    ///
    /// Without a [`hash_key`](Self::hash_key), when the program has fields redacted with
    /// `HASH`, it warns once that they will be hashed without a key.
    pub fn install(self) -> Result<(), InstallError> {
        let keyed = self.hash_key.is_some();
        self.install_quietly()?;
        crate::hashed_fields::warn_if_unkeyed(keyed);
        Ok(())
    }

    /// [`install`](Self::install) without the warning, for a caller that gives it once its
    /// logging is set up.
    pub(crate) fn install_quietly(self) -> Result<(), InstallError> {
        let mut fresh = Some(self);
        let active = ACTIVE.get_or_init(|| fresh.take().expect("taken once").activate(false));
        match fresh {
            None => Ok(()),
            Some(_) if active.defaulted => Err(InstallError::TracedCallRan),
            Some(_) => Err(InstallError::AlreadyInstalled),
        }
    }

    /// Resolves this configuration for the calls of one client layer (see
    /// `TracedClientLayer::config`); it lives as long as the program.
    pub(crate) fn resolve(self) -> &'static Active {
        Box::leak(Box::new(self.activate(false)))
    }

    /// Resolves the providers into what calls use.
    fn activate(self, defaulted: bool) -> Active {
        let tracer = match &self.tracer_provider {
            Some(provider) => Tracer::Sdk(provider.tracer_with_scope(scope())),
            None => Tracer::Global(global::tracer_provider().tracer_with_scope(scope())),
        };
        let meter = match self.metrics {
            MetricsSource::Global => Some(global::meter_with_scope(scope())),
            MetricsSource::Provider(provider) => Some(provider.meter_with_scope(scope())),
            MetricsSource::Off => None,
        };
        let instruments = meter.map(|meter| Instruments::new(&meter, self.semconv, self.exemplars));
        let names = &self.metadata;
        let capture = |request: &[String], response: &[String]| {
            MetadataCapture::new(request, response, self.semconv, names.sensitive)
        };
        let server_metadata = capture(&names.server_request, &names.server_response);
        let client_metadata = capture(&names.client_request, &names.client_response);
        let propagation = Propagation::new(self.propagator, self.global_propagator_w3c);
        Active {
            server_metadata,
            client_metadata: Arc::new(client_metadata),
            metadata_names: self.metadata,
            semconv: self.semconv,
            tracer,
            unsampled_fast_path: propagation.w3c_only && self.parent_based,
            propagation,
            instruments,
            fields: FieldValues {
                length_limit: self.attribute_value_length,
                hash_key: self.hash_key,
            },
            messages_per_rpc: self.messages_per_rpc,
            public_endpoints: self.public_endpoints,
            filter: self.filter,
            call_attributes: self.call_attributes,
            defaulted,
        }
    }
}

/// Why [`Config::install`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallError {
    /// A configuration was installed before.
    AlreadyInstalled,
    /// A traced call ran before, with the default configuration.
    TracedCallRan,
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallError::AlreadyInstalled => f.write_str(
                "a tonic-traced configuration is installed already; install it once per \
                 process (init() installs one: do not also call Config::install)",
            ),
            InstallError::TracedCallRan => f.write_str(
                "a traced call already ran with the default tonic-traced configuration; \
                 install the configuration (or call init()) before serving or calling",
            ),
        }
    }
}

impl std::error::Error for InstallError {}

/// The installed configuration, if one is, without installing the defaults.
pub(crate) fn installed() -> Option<&'static Active> {
    ACTIVE.get()
}

/// The installed configuration, resolved for use by calls: each call looks it up once, where
/// it starts, and hands it on.
pub(crate) struct Active {
    pub(crate) semconv: SemconvMode,
    pub(crate) tracer: Tracer,
    pub(crate) propagation: Propagation,
    /// W3C propagation alone and a parent-based sampler: a lone `traceparent` is read
    /// directly, and a call it marks unsampled starts no span.
    pub(crate) unsampled_fast_path: bool,
    /// `None` when metrics are off.
    pub(crate) instruments: Option<Instruments>,
    /// How values are cut and hashed.
    pub(crate) fields: FieldValues,
    /// Message spans or events recorded per RPC.
    pub(crate) messages_per_rpc: u64,
    public_endpoints: PublicEndpoints,
    /// The metadata traced servers record.
    pub(crate) server_metadata: MetadataCapture,
    /// The metadata traced clients record, unless their layer adds keys.
    pub(crate) client_metadata: Arc<MetadataCapture>,
    /// The keys as given, for a layer that adds its own.
    pub(crate) metadata_names: MetadataNames,
    /// Which calls are traced.
    pub(crate) filter: CallFilter,
    /// The application's attributes of recorded calls.
    pub(crate) call_attributes: Option<Arc<dyn CallAttributes>>,
    /// Installed by a traced call, not by the application.
    defaulted: bool,
}

impl fmt::Debug for Active {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Active")
            .field("semconv", &self.semconv)
            .field("propagation", &self.propagation)
            .field("unsampled_fast_path", &self.unsampled_fast_path)
            .field("metrics", &self.instruments.is_some())
            .field("filter", &self.filter)
            .field("call_attributes", &self.call_attributes.is_some())
            .field("defaulted", &self.defaulted)
            .finish_non_exhaustive()
    }
}

impl Active {
    /// Whether the configuration makes `service` a public endpoint.
    pub(crate) fn is_public_endpoint(&self, service: &str) -> bool {
        match &self.public_endpoints {
            PublicEndpoints::None => false,
            PublicEndpoints::All => true,
            PublicEndpoints::Services(services) => services.iter().any(|name| name == service),
        }
    }

    /// The RPC metrics' instruments, `None` when metrics are off.
    pub(crate) fn instruments(&'static self) -> Option<&'static Instruments> {
        self.instruments.as_ref()
    }
}

/// The configuration calls use: the installed one, or the defaults from the first call on.
pub(crate) fn active() -> &'static Active {
    ACTIVE.get_or_init(|| {
        crate::hashed_fields::warn_if_unkeyed(false);
        Config::new().activate(true)
    })
}
