//! The one configuration of tonic-traced: which conventions, tracer and meter every traced
//! call uses. It is installed once, before the first traced call (`init()` builds it from the
//! environment; an application with its own OpenTelemetry setup builds it in code), and read
//! by every call without a lock.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::global;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::metrics::exemplars::Exemplars;
use crate::metrics::Instruments;
use crate::semconv::SemconvMode;
use crate::tracer::{scope, Tracer};

/// The configuration in use, set by [`Config::install`] or, failing that, by the first traced
/// call with the defaults.
static ACTIVE: OnceLock<Active> = OnceLock::new();

/// How tonic-traced traces and measures calls, installed once per process with
/// [`install`](Config::install).
///
/// ```no_run
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tonic_traced::{Config, SemconvMode};
///
/// # fn main() -> Result<(), tonic_traced::InstallError> {
/// let provider = SdkTracerProvider::builder().build(); // your exporters, sampler, resource
/// Config::new()
///     .semconv(SemconvMode::STABLE)
///     .tracer_provider(&provider)
///     .install()?;
/// # Ok(())
/// # }
/// ```
///
/// Without an installed configuration the first traced call installs [`Config::new`]: the old
/// conventions, the global tracer and meter providers as they are at that moment, and the
/// propagator looked up per call.
pub struct Config {
    semconv: SemconvMode,
    tracer_provider: Option<SdkTracerProvider>,
    w3c_parent_based: bool,
    metrics: MetricsSource,
    exemplars: Option<Arc<Exemplars>>,
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
            .field("w3c_parent_based", &self.w3c_parent_based)
            .field("metrics", &metrics)
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
            w3c_parent_based: false,
            metrics: MetricsSource::Global,
            exemplars: None,
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

    /// Declares that the global propagator is W3C Trace Context (with or without Baggage) and
    /// the sampler is parent-based, as `init()` sets them up by default. A lone valid
    /// `traceparent` is then read without the propagator, and calls it marks unsampled start
    /// no span: they run in the caller's unsampled context, which outgoing calls pass on.
    pub fn w3c_parent_based_sampling(mut self, declared: bool) -> Self {
        self.w3c_parent_based = declared;
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

    /// Keeps the exemplars of the duration histograms for a scrape endpoint to show.
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn exemplars(mut self, exemplars: Arc<Exemplars>) -> Self {
        self.exemplars = Some(exemplars);
        self
    }

    /// Makes this the configuration of every traced call of the process. Fails, changing
    /// nothing, when one was installed already or a traced call already ran with the defaults.
    pub fn install(self) -> Result<(), InstallError> {
        let mut fresh = Some(self);
        let active = ACTIVE.get_or_init(|| fresh.take().expect("taken once").activate(false));
        match fresh {
            None => Ok(()),
            Some(_) if active.defaulted => Err(InstallError::TracedCallRan),
            Some(_) => Err(InstallError::AlreadyInstalled),
        }
    }

    /// Resolves the providers into what calls use.
    fn activate(self, defaulted: bool) -> Active {
        let tracer = match &self.tracer_provider {
            Some(provider) => Tracer::Sdk(provider.tracer_with_scope(scope())),
            None => Tracer::Global(global::tracer_provider().tracer_with_scope(scope())),
        };
        let instruments = match self.metrics {
            MetricsSource::Global => Some(Instruments::new(
                &global::meter_with_scope(scope()),
                self.semconv,
                self.exemplars,
            )),
            MetricsSource::Provider(provider) => Some(Instruments::new(
                &provider.meter_with_scope(scope()),
                self.semconv,
                self.exemplars,
            )),
            MetricsSource::Off => None,
        };
        Active {
            semconv: self.semconv,
            tracer,
            w3c_parent_based: self.w3c_parent_based,
            instruments,
            defaulted,
        }
    }
}

/// Why [`Config::install`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The installed configuration, resolved for use by calls.
pub(crate) struct Active {
    pub(crate) semconv: SemconvMode,
    pub(crate) tracer: Tracer,
    pub(crate) w3c_parent_based: bool,
    /// `None` when metrics are off.
    pub(crate) instruments: Option<Instruments>,
    /// Installed by a traced call, not by the application.
    defaulted: bool,
}

/// The configuration calls use: the installed one, or the defaults from the first call on.
pub(crate) fn active() -> &'static Active {
    ACTIVE.get_or_init(|| Config::new().activate(true))
}
