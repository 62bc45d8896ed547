//! `init()` and [`Init`]: building the pipelines the environment describes and installing
//! them with the core's configuration, all or nothing.

use std::time::Duration;

use opentelemetry::global;
use opentelemetry::propagation::TextMapCompositePropagator;

use super::config::{self, ConfigError, Secret, Strictness, TelemetryConfig};
use super::files;
use super::global_meter::ProvisionalMeterProvider;
use super::guard::TelemetryGuard;
use super::metrics_pipeline::{self, MetricsPipeline};
use super::pipeline::{self, TracesPipeline};
use super::subscriber;

/// Sets up tracing from the environment with the defaults of [`Init`].
///
/// With nothing configured, finished traces print as a waterfall in the terminal; with
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set they go there over OTLP. Call it inside a Tokio runtime
/// (OTLP over gRPC uses tonic). A bad variable is warned about, naming it, its value, what is
/// allowed and the default used instead, and ignored; see [`Init::strict`] to fail instead.
///
/// ```
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _telemetry = tonic_traced::init()?; // flushes on drop
///     // … serve and call: with nothing configured, each trace prints on stderr …
///     Ok(())
/// }
/// ```
pub fn init() -> Result<TelemetryGuard, ConfigError> {
    Init::default().install()
}

/// Code-level overrides of what [`init`] reads from the environment.
#[derive(Debug)]
pub struct Init {
    service_name: Option<String>,
    install_subscriber: bool,
    shutdown_timeout: Duration,
    strictness: Strictness,
    skip_health_and_reflection: bool,
}

impl Default for Init {
    fn default() -> Self {
        Init {
            service_name: None,
            install_subscriber: true,
            shutdown_timeout: Duration::from_secs(5),
            strictness: Strictness::Lenient,
            skip_health_and_reflection: false,
        }
    }
}

impl Init {
    /// The service name when `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` give none.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Leaves the global `tracing` subscriber to the application, which adds
    /// [`TelemetryGuard::tracing_layer`] to its own. By default `init` installs a registry with
    /// that layer and a `fmt` layer whose lines carry `trace_id` and `span_id`, filtered by
    /// `RUST_LOG` (a value that does not parse is an error of `install`).
    pub fn without_tracing_subscriber(mut self) -> Self {
        self.install_subscriber = false;
        self
    }

    /// How long dropping the guard may take to flush spans and metrics, together, 5 s by
    /// default.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Leaves the gRPC health service's calls and server reflection's untraced, besides the
    /// methods `TONIC_TRACED_SKIP_METHODS` lists: see
    /// [`Config::skip_health_and_reflection`](crate::Config::skip_health_and_reflection).
    pub fn skip_health_and_reflection(mut self) -> Self {
        self.skip_health_and_reflection = true;
        self
    }

    /// Whether a variable whose value cannot be used (`OTEL_TRACES_SAMPLER=sometimes`,
    /// a malformed `RUST_LOG`) makes [`install`](Self::install) fail (`true`), or is warned
    /// about and ignored, its default used (`false`, the default, as the OpenTelemetry
    /// specification asks). The variable `TONIC_TRACED_CONFIG_STRICT` (`true` or `false`),
    /// when set, overrides this.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strictness = if strict {
            Strictness::Strict
        } else {
            Strictness::Lenient
        };
        self
    }

    /// Reads the environment and installs the tonic-traced [`Config`](crate::Config), the
    /// global tracer provider, propagator, meter provider and (unless opted out) `tracing`
    /// subscriber. Fails, installing none of them, when a configuration was installed already,
    /// a setting cannot be put in place (a Prometheus port in use) or, in
    /// [strict](Self::strict) mode, a variable is bad.
    ///
    /// The meter provider is made global before the tracer provider is built, so that the
    /// batch span processor counts the spans it drops from a full queue in it
    /// (`otel.sdk.processor.span.processed`); an install that fails after that puts the previous
    /// global meter provider back.
    ///
    /// Each bad value ignored gets one warning, logged through the `tracing` subscriber if
    /// there is one by then (this one, or the application's), else printed on stderr.
    pub fn install(self) -> Result<TelemetryGuard, ConfigError> {
        self.install_with(|name| std::env::var(name).ok())
    }

    /// Like [`install`](Self::install), reading variables through `lookup`.
    pub fn install_with(
        self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<TelemetryGuard, ConfigError> {
        let mut config = config::from_env(&lookup, self.strictness)?;
        let mut warnings = std::mem::take(&mut config.warnings);
        let installed = files::open(&mut config, &mut warnings).and_then(|hash_key| {
            self.install_config(&config, hash_key.as_ref(), &lookup, &mut warnings)
        });
        report(&warnings);
        installed
    }

    /// Builds and installs what `config` describes, keyed with `hash_key`, adding a warning for
    /// a bad `RUST_LOG`.
    fn install_config(
        self,
        config: &TelemetryConfig,
        hash_key: Option<&Secret>,
        lookup: &dyn Fn(&str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<TelemetryGuard, ConfigError> {
        let log_filter = self
            .install_subscriber
            .then(|| subscriber::filter(lookup("RUST_LOG"), config.strictness, warnings))
            .transpose()?;
        require_hash_key_when_strict(config)?;
        let service_name = self.service_name.as_deref();
        let propagator = pipeline::propagator(&config.propagators)?;
        let metrics = if config.sdk_disabled {
            None
        } else {
            let resource = pipeline::resource(config, service_name);
            metrics_pipeline::build(config, resource)?
        };
        // Global before the tracer provider is built, for the batch span processor to count
        // the spans it drops into it.
        let global_meter = metrics
            .as_ref()
            .map(|metrics| ProvisionalMeterProvider::install(&metrics.provider));
        let traces = pipeline::build(config, service_name)?;
        let core_propagator = pipeline::propagator(&config.propagators)?;
        let mut core = core_config(
            config,
            hash_key,
            traces.as_ref(),
            metrics.as_ref(),
            core_propagator,
        );
        if self.skip_health_and_reflection {
            core = core.skip_health_and_reflection();
        }
        core.install_quietly()
            .map_err(|error| ConfigError::new(error.to_string()))?;
        if let Some(traces) = &traces {
            global::set_text_map_propagator(propagator);
            global::set_tracer_provider(traces.provider.clone());
        }
        if let Some(global_meter) = global_meter {
            global_meter.keep();
        }
        let guard = TelemetryGuard::new(traces, metrics, self.shutdown_timeout);
        if let Some(filter) = log_filter {
            subscriber::install(&guard, filter, config.no_color);
        }
        // Once logging is set up, so that the warning is seen.
        crate::hashed_fields::warn_if_unkeyed(config.limits.hash_key.is_some());
        Ok(guard)
    }
}

/// In strict mode, a program that can record a `HASH` field needs a hash key: without one its
/// values would be hashed in a form anyone can reverse by hashing guesses.
fn require_hash_key_when_strict(config: &TelemetryConfig) -> Result<(), ConfigError> {
    if config.strictness != Strictness::Strict || config.limits.hash_key.is_some() {
        return Ok(());
    }
    match crate::hashed_fields::first() {
        Some(field) => Err(ConfigError::new(format!(
            "{field} is redacted with HASH but no hash key is set, so its values would be \
             hashed in a form anyone can reverse by hashing guesses: set TONIC_TRACED_HASH_KEY \
             (or TONIC_TRACED_HASH_KEY_FILE, a file holding it) to a secret shared by every \
             service, or leave strict mode to go on with a warning"
        ))),
        None => Ok(()),
    }
}

/// Logs each warning about a bad value ignored: through `tracing` when a subscriber is installed
/// (`init`'s or the application's), else on stderr, where it cannot go unseen.
fn report(warnings: &[String]) {
    let subscriber = tracing::dispatcher::has_been_set();
    for warning in warnings {
        if subscriber {
            tracing::warn!(target: "tonic_traced::init", "{warning}");
        } else {
            eprintln!("tonic-traced: {warning}");
        }
    }
}

/// The configuration of the core that the environment describes: its conventions and bounds,
/// the hash key read, the providers just built and the propagator (the same formats as the
/// global one).
fn core_config(
    config: &TelemetryConfig,
    hash_key: Option<&Secret>,
    traces: Option<&TracesPipeline>,
    metrics: Option<&MetricsPipeline>,
    propagator: TextMapCompositePropagator,
) -> crate::Config {
    let limits = &config.limits;
    let mut core = crate::Config::new().semconv(config.semconv);
    if let Some(length) = limits.attribute_value_length {
        core = core.attribute_value_length_limit(length);
    }
    if let Some(count) = limits.messages_per_rpc {
        core = core.max_messages_per_rpc(count);
    }
    if let Some(key) = hash_key {
        core = core.hash_key(&key.0);
    }
    for service in &limits.public_endpoints {
        core = core.public_endpoint(service);
    }
    core = core
        .skip_methods(&config.skip_methods)
        .expect("from_env checked the patterns");
    let metadata = &config.metadata;
    core = core
        .capture_server_request_metadata(&metadata.server_request)
        .capture_server_response_metadata(&metadata.server_response)
        .capture_client_request_metadata(&metadata.client_request)
        .capture_client_response_metadata(&metadata.client_response)
        .capture_sensitive_metadata(metadata.sensitive);
    if let Some(traces) = traces {
        core = core
            .tracer_provider(&traces.provider)
            .propagator(propagator)
            .parent_based_sampling(pipeline::is_parent_based(&config.traces.sampler));
    }
    match metrics {
        Some(metrics) => {
            core = core.meter_provider(metrics.provider.clone());
            if let Some(exemplars) = &metrics.exemplars {
                core = core.exemplars(exemplars.clone());
            }
        }
        None => core = core.without_metrics(),
    }
    core
}
