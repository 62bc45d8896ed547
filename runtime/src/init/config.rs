//! Typed telemetry settings, read from the standard OpenTelemetry environment variables.
//!
//! [`from_env`] follows the OpenTelemetry SDK environment-variable specification for names,
//! defaults and syntax: empty values count as unset, enum values are case-insensitive, durations
//! are milliseconds. A value it cannot use is, as [`Strictness`] says, either warned about and
//! ignored (what the specification asks, and the default) or an error.

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use crate::semconv::SemconvMode;

/// Everything `init()` needs to know, as read by [`from_env`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TelemetryConfig {
    /// `OTEL_SDK_DISABLED`: when `true`, install nothing.
    pub sdk_disabled: bool,
    /// `OTEL_SERVICE_NAME`, else `service.name` from `OTEL_RESOURCE_ATTRIBUTES`; `None` leaves
    /// `unknown_service`.
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded and in order, without `service.name`.
    pub resource_attributes: Vec<(String, String)>,
    /// Where spans go and which are kept.
    pub traces: TracesConfig,
    /// Where metrics go.
    pub metrics: MetricsConfig,
    /// `OTEL_PROPAGATORS`, in order; empty for `none`. Default `tracecontext,baggage`.
    pub propagators: Vec<Propagator>,
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`: which RPC semantic conventions to emit.
    pub semconv: SemconvMode,
    /// What bounds spans, how hashes are keyed, which services are public endpoints.
    pub limits: LimitsConfig,
    /// Which gRPC metadata keys become attributes.
    pub metadata: MetadataConfig,
    /// `TONIC_TRACED_CONSOLE_OUTPUT`: where the console exporters print.
    pub console_output: ConsoleOutput,
    /// `NO_COLOR` set and not empty (no-color.org): no ANSI colours in the console exporters'
    /// output or the log lines, even on a terminal.
    pub no_color: bool,
    /// [`STRICT_VARIABLE`], else the code's choice: what was done with bad values.
    pub strictness: Strictness,
    /// The bad values ignored ([`Strictness::Lenient`]): one warning per variable, naming it,
    /// its value, what is allowed and what is used instead.
    pub warnings: Vec<String>,
}

/// The variable that chooses the [`Strictness`], `true` or `false`; it overrides the code's
/// choice (`Init::strict`), so that operators can change it without a new build.
pub const STRICT_VARIABLE: &str = "TONIC_TRACED_CONFIG_STRICT";

/// What [`from_env`] does with a variable whose value it cannot use.
///
/// A value that is well formed but cannot be put in place (a Prometheus port in use, an
/// exporter this build leaves out) is an error either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strictness {
    /// Warn, naming the variable, its value and what is used instead, and go on as if it were
    /// unset: what the OpenTelemetry specification asks for, so that a typo in telemetry
    /// settings costs telemetry, never the service.
    #[default]
    Lenient,
    /// Fail with a [`ConfigError`], as Java's autoconfiguration does: the process stops at
    /// start-up until the variable is fixed.
    Strict,
}

/// `OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_{SERVER,CLIENT}_{REQUEST,RESPONSE}`:
/// comma-separated metadata keys recorded as attributes (the Java agent's
/// `otel.instrumentation.grpc.capture-metadata.*`), and
/// `TONIC_TRACED_CAPTURE_SENSITIVE_METADATA`, which allows `authorization` and cookies.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct MetadataConfig {
    /// Keys of requests traced servers receive.
    pub server_request: Vec<String>,
    /// Keys of responses traced servers send.
    pub server_response: Vec<String>,
    /// Keys of requests traced clients send.
    pub client_request: Vec<String>,
    /// Keys of responses traced clients receive.
    pub client_response: Vec<String>,
    /// Whether `authorization`, `cookie` and `set-cookie` may be captured.
    pub sensitive: bool,
}

/// The settings of the core's bounds; `None` leaves the core's default.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`:
    /// characters kept of string attribute values.
    pub attribute_value_length: Option<usize>,
    /// `TONIC_TRACED_MAX_MESSAGES_PER_RPC`: message spans or events recorded per RPC.
    pub messages_per_rpc: Option<u64>,
    /// `TONIC_TRACED_HASH_KEY`, or the contents of the file `TONIC_TRACED_HASH_KEY_FILE`
    /// names (a mounted Kubernetes Secret, say): the key of `HASH` redaction.
    pub hash_key: Option<Secret>,
    /// `TONIC_TRACED_PUBLIC_ENDPOINTS`: comma-separated services (`package.Service`, or the
    /// `service_name` an impl sets in its stead), or `*`, whose callers do not choose sampling.
    pub public_endpoints: Vec<String>,
}

/// A secret value; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

/// Where the console exporters print traces and metrics, apart from the application's own
/// output on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConsoleOutput {
    /// `stderr`, the default: beside the log lines, each trace written in one piece.
    #[default]
    Stderr,
    /// `stdout`.
    Stdout,
    /// Any other value: a file, created if missing and appended to.
    File(std::path::PathBuf),
}

/// Span export and sampling settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TracesConfig {
    /// `OTEL_TRACES_EXPORTER`, in order; empty for `none`. Unset means `otlp` when
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, otherwise
    /// `console`: with nothing configured, traces print as a waterfall in the terminal.
    pub exporters: Vec<TracesExporter>,
    /// The OTLP exporter's settings, used when `exporters` contains [`TracesExporter::Otlp`].
    pub otlp: OtlpConfig,
    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: Sampler,
    /// `OTEL_BSP_*`: the batch span processor in front of the OTLP exporter (the console
    /// prints each trace at once, with no batch).
    pub batch: BatchConfig,
}

/// A value of `OTEL_TRACES_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracesExporter {
    /// `otlp`: to a collector, see [`OtlpConfig`].
    Otlp,
    /// `console`: each trace as a readable waterfall, printed where [`ConsoleOutput`] says.
    Console,
}

/// Metric export settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsConfig {
    /// `OTEL_METRICS_EXPORTER`, in order; empty for `none`. Unset means `otlp` when
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is set, otherwise
    /// `console`.
    pub exporters: Vec<MetricsExporter>,
    /// The OTLP exporter's settings, used when `exporters` contains [`MetricsExporter::Otlp`].
    pub otlp: OtlpConfig,
    /// The scrape endpoint, used when `exporters` contains [`MetricsExporter::Prometheus`].
    pub prometheus: PrometheusConfig,
    /// `OTEL_METRIC_EXPORT_INTERVAL`: time between pushes (OTLP, console). Default 60 s.
    pub export_interval: Duration,
    /// `OTEL_METRIC_EXPORT_TIMEOUT`: time allowed for one push. Default 30 s.
    pub export_timeout: Duration,
}

/// A value of `OTEL_METRICS_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsExporter {
    /// `otlp`: pushed to a collector, see [`OtlpConfig`].
    Otlp,
    /// `prometheus`: served for scraping, see [`PrometheusConfig`].
    Prometheus,
    /// `console`: a table printed where [`ConsoleOutput`] says.
    Console,
}

/// One signal's OTLP exporter settings; each per-signal variable
/// (`OTEL_EXPORTER_OTLP_TRACES_*`, `OTEL_EXPORTER_OTLP_METRICS_*`) replaces the generic one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpConfig {
    /// The full URL to send to. A per-signal endpoint is used as is; the generic
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` gets `/v1/traces` or `/v1/metrics` appended for
    /// `http/protobuf`. Default `http://localhost:4317` (gRPC) or
    /// `http://localhost:4318/v1/{signal}` (HTTP).
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub protocol: OtlpProtocol,
    /// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs, values percent-decoded.
    pub headers: Vec<(String, String)>,
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`: time allowed for one export. Default 10 s.
    pub timeout: Duration,
}

/// The OTLP transport, from `OTEL_EXPORTER_OTLP_PROTOCOL`.
///
/// The default is [`Grpc`](Self::Grpc). The specification recommends `http/protobuf` but lets
/// an SDK choose gRPC for good reason, and the Rust SDK did so for years. Ours: a service that
/// uses tonic-traced already links tonic, so the gRPC exporter adds no HTTP client, and
/// collectors accept both (gRPC on 4317, HTTP on 4318).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// `grpc`: protobuf over gRPC.
    Grpc,
    /// `http/protobuf`: protobuf over HTTP POST.
    HttpProtobuf,
}

/// The sampler chosen by `OTEL_TRACES_SAMPLER`, with its ratio from `OTEL_TRACES_SAMPLER_ARG`
/// (a number in `[0, 1]`, default 1.0; ignored by samplers without a ratio, as the
/// specification says). Default [`ParentBasedAlwaysOn`](Self::ParentBasedAlwaysOn).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// `always_on`: keep every trace.
    AlwaysOn,
    /// `always_off`: keep none.
    AlwaysOff,
    /// `traceidratio`: keep this fraction of traces, by trace id.
    TraceIdRatio(f64),
    /// `parentbased_always_on`: follow the parent; keep every root.
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`: follow the parent; drop every root.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: follow the parent; keep this fraction of roots.
    ParentBasedTraceIdRatio(f64),
}

/// A value of `OTEL_PROPAGATORS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Propagator {
    /// `tracecontext`: W3C Trace Context (`traceparent`, `tracestate`).
    TraceContext,
    /// `baggage`: W3C Baggage.
    Baggage,
    /// `b3`: B3, single `b3` header.
    B3,
    /// `b3multi`: B3, one `X-B3-*` header per field.
    B3Multi,
    /// `jaeger`: `uber-trace-id`.
    Jaeger,
}

/// The batch span processor's settings, from `OTEL_BSP_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchConfig {
    /// `OTEL_BSP_SCHEDULE_DELAY`: time between exports. Default 5 s.
    pub schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT`: time allowed for one export. Default 30 s.
    pub export_timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`: spans held before new ones are dropped. Default 2048.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans per export, at most `max_queue_size`. Default
    /// 512, or `max_queue_size` when that is smaller.
    pub max_export_batch_size: usize,
}

/// Where the Prometheus exporter serves `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrometheusConfig {
    /// `OTEL_EXPORTER_PROMETHEUS_HOST`: a host name or IP address, an IPv6 address in
    /// brackets. Default `localhost`.
    pub host: String,
    /// `OTEL_EXPORTER_PROMETHEUS_PORT`. Default 9464.
    pub port: u16,
}

/// A malformed environment variable: the message names it, its value and what is allowed.
///
/// `Debug` prints the same text as `Display`, so `main() -> Result<(), Box<dyn Error>>` reads
/// well. Values of `*_HEADERS` variables are never shown: they often hold credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// A problem found while putting a valid configuration in place.
    pub(crate) fn new(message: String) -> Self {
        ConfigError { message }
    }

    /// `variable` chose `name`, which needs `feature`, left out of this build.
    pub(crate) fn not_compiled_in(variable: &str, name: &str, feature: &str) -> Self {
        ConfigError::new(format!(
            "{variable} selects {name}, which this build of tonic-traced leaves out: enable \
             its `{feature}` cargo feature (on by default), or select something else"
        ))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads every setting through `lookup`, normally `|name| std::env::var(name).ok()`; a bad
/// value is handled as [`STRICT_VARIABLE`] says, else as `strictness` says.
pub fn from_env(
    lookup: impl Fn(&str) -> Option<String>,
    strictness: Strictness,
) -> Result<TelemetryConfig, ConfigError> {
    let mut env = Env::new(&lookup, strictness);
    let strict = env.read(STRICT_VARIABLE, boolean)?.or_default(
        &env,
        strictness == Strictness::Strict,
        bool::to_string,
    );
    env.strictness = if strict {
        Strictness::Strict
    } else {
        Strictness::Lenient
    };
    let (service_name, resource_attributes) = resource(&env)?;
    let default_propagators = vec![Propagator::TraceContext, Propagator::Baggage];
    let config = TelemetryConfig {
        sdk_disabled: env.read("OTEL_SDK_DISABLED", boolean)?.or_default(
            &env,
            false,
            bool::to_string,
        ),
        service_name,
        resource_attributes,
        traces: traces(&env)?,
        metrics: metrics(&env)?,
        propagators: env
            .read("OTEL_PROPAGATORS", |var| {
                list(var, "a propagator", PROPAGATORS)
            })?
            .or_default(&env, default_propagators, |list| {
                list_names(PROPAGATORS, list)
            }),
        semconv: env
            .read("OTEL_SEMCONV_STABILITY_OPT_IN", |var| {
                SemconvMode::from_opt_in(&var.value).map_err(|error| var.error(error))
            })?
            .or_default(&env, SemconvMode::OLD, |_| {
                "none (the old RPC conventions)".to_owned()
            }),
        limits: limits(&env)?,
        metadata: metadata(&env)?,
        console_output: env
            .read("TONIC_TRACED_CONSOLE_OUTPUT", console_output)?
            .or_default(&env, ConsoleOutput::Stderr, |_| "stderr".to_owned()),
        no_color: env.var("NO_COLOR").is_some(),
        strictness: env.strictness,
        warnings: Vec::new(),
    };
    Ok(TelemetryConfig {
        warnings: env.warnings.into_inner(),
        ..config
    })
}

/// The warning for a bad value ignored in favour of `default`: the error, then what is used.
pub(super) fn ignored_for_default(error: &ConfigError, default: &str) -> String {
    format!("{error}; ignored, using the default: {default}")
}

pub(super) const TRACES_EXPORTERS: &[(&str, TracesExporter)] = &[
    ("otlp", TracesExporter::Otlp),
    ("console", TracesExporter::Console),
];

pub(super) const METRICS_EXPORTERS: &[(&str, MetricsExporter)] = &[
    ("otlp", MetricsExporter::Otlp),
    ("prometheus", MetricsExporter::Prometheus),
    ("console", MetricsExporter::Console),
];

const PROTOCOLS: &[(&str, OtlpProtocol)] = &[
    ("grpc", OtlpProtocol::Grpc),
    ("http/protobuf", OtlpProtocol::HttpProtobuf),
];

/// The ratio samplers carry the default ratio here; [`sampler`] replaces it with the argument.
const SAMPLERS: &[(&str, Sampler)] = &[
    ("always_on", Sampler::AlwaysOn),
    ("always_off", Sampler::AlwaysOff),
    ("traceidratio", Sampler::TraceIdRatio(1.0)),
    ("parentbased_always_on", Sampler::ParentBasedAlwaysOn),
    ("parentbased_always_off", Sampler::ParentBasedAlwaysOff),
    (
        "parentbased_traceidratio",
        Sampler::ParentBasedTraceIdRatio(1.0),
    ),
];

pub(super) const PROPAGATORS: &[(&str, Propagator)] = &[
    ("tracecontext", Propagator::TraceContext),
    ("baggage", Propagator::Baggage),
    ("b3", Propagator::B3),
    ("b3multi", Propagator::B3Multi),
    ("jaeger", Propagator::Jaeger),
];

/// The generic endpoint, shared by the signals.
const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The variable names and URL path of one OTLP signal.
struct Signal {
    exporter: &'static str,
    endpoint: &'static str,
    protocol: &'static str,
    headers: &'static str,
    timeout: &'static str,
    path: &'static str,
}

const TRACES: Signal = Signal {
    exporter: "OTEL_TRACES_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    path: "/v1/traces",
};

const METRICS: Signal = Signal {
    exporter: "OTEL_METRICS_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    protocol: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    headers: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    timeout: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    path: "/v1/metrics",
};

/// The environment as seen through the caller's lookup, and what to do with bad values.
struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    strictness: Strictness,
    /// The warnings for the bad values ignored so far, with their variables.
    warnings: RefCell<Vec<String>>,
    /// The variables warned about: each is warned about once, though some are read per signal.
    warned: RefCell<Vec<&'static str>>,
}

/// A set variable: its name and trimmed, non-empty value.
struct Var {
    name: &'static str,
    value: String,
}

/// What the variables of one setting gave, read in order of precedence.
struct Found<T> {
    /// The first good value, and the variable it came from.
    value: Option<(T, &'static str)>,
    /// The bad values passed over on the way (lenient only), with their variables.
    ignored: Vec<(&'static str, ConfigError)>,
}

impl<'a> Env<'a> {
    fn new(lookup: &'a dyn Fn(&str) -> Option<String>, strictness: Strictness) -> Self {
        Env {
            lookup,
            strictness,
            warnings: RefCell::default(),
            warned: RefCell::default(),
        }
    }

    /// The variable, or `None` when it is unset or empty.
    fn var(&self, name: &'static str) -> Option<Var> {
        let value = (self.lookup)(name)?.trim().to_owned();
        (!value.is_empty()).then_some(Var { name, value })
    }

    /// The variable `name`, parsed; a bad value is an error when strict, else passed over.
    fn read<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&Var) -> Result<T, ConfigError>,
    ) -> Result<Found<T>, ConfigError> {
        let mut found = Found {
            value: None,
            ignored: Vec::new(),
        };
        if let Some(var) = self.var(name) {
            match parse(&var) {
                Ok(value) => found.value = Some((value, name)),
                Err(error) if self.strictness == Strictness::Strict => return Err(error),
                Err(error) => found.ignored.push((name, error)),
            }
        }
        Ok(found)
    }

    /// Records the warning for `variable`'s bad value, unless it has one already.
    fn warn(&self, variable: &'static str, warning: String) {
        let mut warned = self.warned.borrow_mut();
        if !warned.contains(&variable) {
            warned.push(variable);
            self.warnings.borrow_mut().push(warning);
        }
    }
}

impl<T> Found<T> {
    /// This value if there is one, else the variable `name`'s, parsed (see [`Env::read`]).
    fn or_read(
        self,
        env: &Env,
        name: &'static str,
        parse: impl FnOnce(&Var) -> Result<T, ConfigError>,
    ) -> Result<Found<T>, ConfigError> {
        if self.value.is_some() {
            return Ok(self);
        }
        let mut next = env.read(name, parse)?;
        next.ignored.splice(0..0, self.ignored);
        Ok(next)
    }

    /// The value found, else `default`; warns about each bad value passed over, saying what
    /// is used instead as `show` writes it.
    fn or_default(self, env: &Env, default: T, show: impl Fn(&T) -> String) -> T {
        let (value, source) = match self.value {
            Some((value, name)) => (value, Some(name)),
            None => (default, None),
        };
        for (name, error) in &self.ignored {
            let warning = match source {
                Some(source) => format!("{error}; ignored, using {} from {source}", show(&value)),
                None => ignored_for_default(error, &show(&value)),
            };
            env.warn(name, warning);
        }
        value
    }
}

impl Var {
    /// An error saying what is wrong with this variable's value.
    fn error(&self, problem: impl fmt::Display) -> ConfigError {
        let message = if self.name.ends_with("_HEADERS") {
            format!("{} (value hidden) {problem}", self.name)
        } else {
            format!("{}={:?} {problem}", self.name, self.value)
        };
        ConfigError { message }
    }
}

/// `OTEL_SERVICE_NAME` (or the `service.name` attribute) and the other resource attributes.
fn resource(env: &Env) -> Result<(Option<String>, Pairs), ConfigError> {
    let mut attributes =
        env.read("OTEL_RESOURCE_ATTRIBUTES", pairs)?
            .or_default(env, Vec::new(), |_| "none".to_owned());
    let mut attribute_name = None;
    attributes.retain(|(key, value)| {
        let is_name = key == "service.name";
        if is_name {
            attribute_name = Some(value.clone());
        }
        !is_name
    });
    let service_name = env
        .var("OTEL_SERVICE_NAME")
        .map(|var| var.value)
        .or(attribute_name);
    Ok((service_name, attributes))
}

/// The exporter when neither the exporter variable nor an OTLP endpoint is set: the console
/// where this build has it, else OTLP (the specification's default), else none.
fn default_exporter<T>(console: T, otlp: T) -> Vec<T> {
    if cfg!(feature = "console") {
        vec![console]
    } else if cfg!(feature = "otlp") {
        vec![otlp]
    } else {
        vec![]
    }
}

/// `OTEL_TRACES_EXPORTER`, the traces OTLP settings, the sampler and the batch processor.
fn traces(env: &Env) -> Result<TracesConfig, ConfigError> {
    let default = if otlp_endpoint_set(env, &TRACES) {
        vec![TracesExporter::Otlp]
    } else {
        default_exporter(TracesExporter::Console, TracesExporter::Otlp)
    };
    let exporters = env
        .read(TRACES.exporter, |var| {
            list(var, "a traces exporter", TRACES_EXPORTERS)
        })?
        .or_default(env, default, |list| list_names(TRACES_EXPORTERS, list));
    Ok(TracesConfig {
        exporters,
        otlp: otlp(env, &TRACES)?,
        sampler: sampler(env)?,
        batch: batch(env)?,
    })
}

/// `OTEL_METRICS_EXPORTER`, the metrics OTLP and Prometheus settings, the export interval.
fn metrics(env: &Env) -> Result<MetricsConfig, ConfigError> {
    let default = if otlp_endpoint_set(env, &METRICS) {
        vec![MetricsExporter::Otlp]
    } else {
        default_exporter(MetricsExporter::Console, MetricsExporter::Otlp)
    };
    let exporters = env
        .read(METRICS.exporter, |var| {
            list(var, "a metrics exporter", METRICS_EXPORTERS)
        })?
        .or_default(env, default, |list| list_names(METRICS_EXPORTERS, list));
    Ok(MetricsConfig {
        exporters,
        otlp: otlp(env, &METRICS)?,
        prometheus: PrometheusConfig {
            host: env.read("OTEL_EXPORTER_PROMETHEUS_HOST", host)?.or_default(
                env,
                "localhost".to_owned(),
                String::clone,
            ),
            port: env.read("OTEL_EXPORTER_PROMETHEUS_PORT", port)?.or_default(
                env,
                9464,
                u16::to_string,
            ),
        },
        export_interval: env.read("OTEL_METRIC_EXPORT_INTERVAL", millis)?.or_default(
            env,
            Duration::from_secs(60),
            show_millis,
        ),
        export_timeout: env.read("OTEL_METRIC_EXPORT_TIMEOUT", millis)?.or_default(
            env,
            Duration::from_secs(30),
            show_millis,
        ),
    })
}

/// Whether an endpoint variable for this signal is set, which makes OTLP its default exporter
/// (even when its value is bad and ignored: the intent to export over OTLP is clear).
fn otlp_endpoint_set(env: &Env, signal: &Signal) -> bool {
    env.var(signal.endpoint).is_some() || env.var(OTLP_ENDPOINT).is_some()
}

/// One signal's OTLP settings, each per-signal variable before the generic one.
fn otlp(env: &Env, signal: &Signal) -> Result<OtlpConfig, ConfigError> {
    let protocol_of = |var: &Var| choice(var, "an OTLP protocol", PROTOCOLS);
    let protocol = env
        .read(signal.protocol, protocol_of)?
        .or_read(env, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol_of)?
        .or_default(env, OtlpProtocol::Grpc, |protocol| {
            name_of(PROTOCOLS, protocol).to_owned()
        });
    let headers_of = |var: &Var| headers(var, protocol);
    Ok(OtlpConfig {
        endpoint: endpoint(env, signal, protocol)?,
        protocol,
        headers: env
            .read(signal.headers, headers_of)?
            .or_read(env, "OTEL_EXPORTER_OTLP_HEADERS", headers_of)?
            .or_default(env, Vec::new(), |headers| {
                if headers.is_empty() {
                    "none".to_owned()
                } else {
                    "the headers (values hidden)".to_owned()
                }
            }),
        timeout: env
            .read(signal.timeout, millis)?
            .or_read(env, "OTEL_EXPORTER_OTLP_TIMEOUT", millis)?
            .or_default(env, Duration::from_secs(10), show_millis),
    })
}

/// The per-signal endpoint as is, else the generic one (or the default) plus the signal's path
/// for HTTP.
fn endpoint(env: &Env, signal: &Signal, protocol: OtlpProtocol) -> Result<String, ConfigError> {
    let for_signal = |base: &str| match protocol {
        OtlpProtocol::Grpc => base.to_owned(),
        OtlpProtocol::HttpProtobuf => format!("{}{}", base.trim_end_matches('/'), signal.path),
    };
    let default = match protocol {
        OtlpProtocol::Grpc => for_signal("http://localhost:4317"),
        OtlpProtocol::HttpProtobuf => for_signal("http://localhost:4318"),
    };
    Ok(env
        .read(signal.endpoint, url)?
        .or_read(env, OTLP_ENDPOINT, |var| {
            url(var).map(|base| for_signal(&base))
        })?
        .or_default(env, default, String::clone))
}

/// `OTEL_TRACES_SAMPLER`, with `OTEL_TRACES_SAMPLER_ARG` read only for the ratio samplers.
fn sampler(env: &Env) -> Result<Sampler, ConfigError> {
    let sampler = env
        .read("OTEL_TRACES_SAMPLER", |var| {
            choice(var, "a sampler", SAMPLERS)
        })?
        .or_default(env, Sampler::ParentBasedAlwaysOn, |sampler| {
            name_of(SAMPLERS, sampler).to_owned()
        });
    let argument = |default: f64| -> Result<f64, ConfigError> {
        Ok(env
            .read("OTEL_TRACES_SAMPLER_ARG", ratio)?
            .or_default(env, default, f64::to_string))
    };
    Ok(match sampler {
        Sampler::TraceIdRatio(default) => Sampler::TraceIdRatio(argument(default)?),
        Sampler::ParentBasedTraceIdRatio(default) => {
            Sampler::ParentBasedTraceIdRatio(argument(default)?)
        }
        other => other,
    })
}

/// `OTEL_BSP_*`, checking that a batch fits in the queue.
fn batch(env: &Env) -> Result<BatchConfig, ConfigError> {
    let max_queue_size =
        env.read("OTEL_BSP_MAX_QUEUE_SIZE", size)?
            .or_default(env, 2048, usize::to_string);
    let max_export_batch_size = env
        .read("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", |var| match size(var)? {
            batch if batch > max_queue_size => Err(var.error(format_args!(
                "is larger than OTEL_BSP_MAX_QUEUE_SIZE ({max_queue_size}); \
                 use at most {max_queue_size}"
            ))),
            batch => Ok(batch),
        })?
        .or_default(env, max_queue_size.min(512), usize::to_string);
    Ok(BatchConfig {
        schedule_delay: env.read("OTEL_BSP_SCHEDULE_DELAY", millis)?.or_default(
            env,
            Duration::from_secs(5),
            show_millis,
        ),
        export_timeout: env.read("OTEL_BSP_EXPORT_TIMEOUT", millis)?.or_default(
            env,
            Duration::from_secs(30),
            show_millis,
        ),
        max_queue_size,
        max_export_batch_size,
    })
}

/// A duration as its variable would give it: whole milliseconds.
fn show_millis(duration: &Duration) -> String {
    duration.as_millis().to_string()
}

/// `items` as a list variable would name them: comma-separated, or `none`.
fn list_names<T: PartialEq>(options: &[(&'static str, T)], items: &[T]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let names: Vec<&str> = items.iter().map(|item| name_of(options, item)).collect();
    names.join(",")
}

/// The option whose name matches `word`, ignoring ASCII case.
fn lookup<T: Copy>(options: &[(&str, T)], word: &str) -> Option<T> {
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map(|&(_, value)| value)
}

/// The name `item` has in `options`, as a variable would spell it.
pub(super) fn name_of<T: PartialEq>(options: &[(&'static str, T)], item: &T) -> &'static str {
    options
        .iter()
        .find(|(_, option)| option == item)
        .map_or("?", |(name, _)| name)
}

/// The option names, comma-separated, for error messages.
fn names<T>(options: &[(&str, T)]) -> String {
    let names: Vec<&str> = options.iter().map(|&(name, _)| name).collect();
    names.join(", ")
}

/// One of `options`, by name.
fn choice<T: Copy>(var: &Var, kind: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
    lookup(options, &var.value)
        .ok_or_else(|| var.error(format_args!("is not {kind}; use one of {}", names(options))))
}

/// A comma-separated list of distinct `options`, or `none` alone for an empty list.
fn list<T: Copy + PartialEq>(
    var: &Var,
    kind: &str,
    options: &[(&str, T)],
) -> Result<Vec<T>, ConfigError> {
    let entries: Vec<&str> = var.value.split(',').map(str::trim).collect();
    if entries
        .iter()
        .any(|entry| entry.eq_ignore_ascii_case("none"))
    {
        return match entries.len() {
            1 => Ok(Vec::new()),
            _ => Err(var.error("combines none with other values; use none alone")),
        };
    }
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let item = lookup(options, entry).ok_or_else(|| {
            var.error(format_args!(
                "has {entry:?}, which is not {kind}; use a comma-separated list of {}, or none",
                names(options)
            ))
        })?;
        if items.contains(&item) {
            return Err(var.error(format_args!("lists {entry:?} twice; list it once")));
        }
        items.push(item);
    }
    Ok(items)
}

/// The span bounds, the hash key and the public endpoints. A problem with the hash key is an
/// error even when lenient: going on without the key would hash ids in the reversible form.
fn limits(env: &Env) -> Result<LimitsConfig, ConfigError> {
    let some_size = |var: &Var| size(var).map(Some);
    let core_default = |_: &Option<usize>| "the default of tonic-traced".to_owned();
    let attribute_value_length = env
        .read("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", some_size)?
        .or_read(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", some_size)?
        .or_default(env, None, core_default);
    let messages_per_rpc = env
        .read("TONIC_TRACED_MAX_MESSAGES_PER_RPC", some_size)?
        .or_default(env, None, core_default);
    let hash_key = match (
        env.var("TONIC_TRACED_HASH_KEY"),
        env.var("TONIC_TRACED_HASH_KEY_FILE"),
    ) {
        (Some(_), Some(file)) => {
            return Err(file.error("is set as well as TONIC_TRACED_HASH_KEY; set one of them"))
        }
        (Some(key), None) => Some(Secret(key.value.into_bytes())),
        (None, Some(file)) => Some(key_file(&file)?),
        (None, None) => None,
    };
    Ok(LimitsConfig {
        attribute_value_length,
        messages_per_rpc: messages_per_rpc.map(|count| count as u64),
        hash_key,
        public_endpoints: env
            .var("TONIC_TRACED_PUBLIC_ENDPOINTS")
            .map(|var| comma_list(&var.value))
            .unwrap_or_default(),
    })
}

/// The metadata keys to capture, each side and way.
fn metadata(env: &Env) -> Result<MetadataConfig, ConfigError> {
    let keys = |name: &'static str| {
        env.var(name)
            .map(|var| comma_list(&var.value))
            .unwrap_or_default()
    };
    Ok(MetadataConfig {
        server_request: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST"),
        server_response: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_RESPONSE"),
        client_request: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_REQUEST"),
        client_response: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_RESPONSE"),
        sensitive: env
            .read("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", boolean)?
            .or_default(env, false, bool::to_string),
    })
}

/// The non-empty entries of a comma-separated list, trimmed.
fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The key in the file `var` names, without a trailing newline; an error when it cannot be
/// read or is empty.
fn key_file(var: &Var) -> Result<Secret, ConfigError> {
    let mut key = std::fs::read(&var.value).map_err(|error| {
        var.error(format_args!(
            "cannot be read ({error}); mount the key file there, or unset the variable"
        ))
    })?;
    while key.last().is_some_and(|byte| matches!(byte, b'\n' | b'\r')) {
        key.pop();
    }
    if key.is_empty() {
        return Err(var.error("names an empty file; put the hash key in it"));
    }
    Ok(Secret(key))
}

/// `stderr`, `stdout` (in any case), else the path of a file that can be appended to (it is
/// created if missing).
fn console_output(var: &Var) -> Result<ConsoleOutput, ConfigError> {
    Ok(match var.value.to_ascii_lowercase().as_str() {
        "stderr" => ConsoleOutput::Stderr,
        "stdout" => ConsoleOutput::Stdout,
        _ => {
            let path = std::path::PathBuf::from(&var.value);
            open_console_file(&path)?;
            ConsoleOutput::File(path)
        }
    })
}

/// Opens the file `TONIC_TRACED_CONSOLE_OUTPUT` names for appending, creating it if missing.
pub(crate) fn open_console_file(path: &std::path::Path) -> Result<std::fs::File, ConfigError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| {
            ConfigError::new(format!(
                "TONIC_TRACED_CONSOLE_OUTPUT={path:?} cannot be appended to ({error}); name a \
                 writable file, or `stderr` or `stdout`"
            ))
        })
}

/// `true` or `false`, ignoring ASCII case.
fn boolean(var: &Var) -> Result<bool, ConfigError> {
    choice(var, "a boolean", &[("true", true), ("false", false)])
}

/// A positive whole number of milliseconds.
fn millis(var: &Var) -> Result<Duration, ConfigError> {
    match var.value.parse() {
        Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        _ => Err(var.error("is not a duration; use a positive whole number of milliseconds")),
    }
}

/// A positive whole number.
fn size(var: &Var) -> Result<usize, ConfigError> {
    match var.value.parse() {
        Ok(size) if size > 0 => Ok(size),
        _ => Err(var.error("is not a size; use a positive whole number")),
    }
}

/// A TCP port to listen on, 1 to 65535.
fn port(var: &Var) -> Result<u16, ConfigError> {
    match var.value.parse() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(var.error("is not a port; use a number from 1 to 65535")),
    }
}

/// A host name or IP address to listen on; an IPv6 address is returned in brackets, ready for
/// `host:port`.
fn host(var: &Var) -> Result<String, ConfigError> {
    let value = var.value.as_str();
    let unbracketed = value
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(value);
    if let Ok(ip) = unbracketed.parse::<std::net::IpAddr>() {
        return Ok(match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(value.to_owned())
    } else {
        Err(var.error(
            "is not a host name or IP address; use e.g. localhost, 0.0.0.0 or \
             metrics.internal, without a scheme or port",
        ))
    }
}

/// A number from 0 to 1.
fn ratio(var: &Var) -> Result<f64, ConfigError> {
    match var.value.parse() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(var.error("is not a ratio; use a number from 0 to 1")),
    }
}

/// An `http://` URL with a host. `https://` is an error: the exporters are built without TLS.
fn url(var: &Var) -> Result<String, ConfigError> {
    let lowercase = var.value.to_ascii_lowercase();
    if lowercase.starts_with("https://") {
        return Err(var.error(
            "uses https, but TLS is not supported: send to a collector over http:// (e.g. a \
             sidecar or node-local collector)",
        ));
    }
    match lowercase.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(var.value.clone()),
        _ => Err(var.error("is not a URL; use http://host:port")),
    }
}

/// Decoded `key=value` pairs, in order.
type Pairs = Vec<(String, String)>;

/// Comma-separated `key=value` pairs, keys and values percent-decoded (W3C Baggage syntax,
/// without properties).
fn pairs(var: &Var) -> Result<Pairs, ConfigError> {
    var.value.split(',').map(|entry| pair(var, entry)).collect()
}

/// OTLP headers: [`pairs`] that can be sent as they are, with names of HTTP headers and values
/// of visible ASCII and spaces (what gRPC metadata allows, and HTTP with it); over gRPC, no
/// binary (`-bin`) metadata keys.
fn headers(var: &Var, protocol: OtlpProtocol) -> Result<Pairs, ConfigError> {
    let headers = pairs(var)?;
    for (key, value) in &headers {
        if http::HeaderName::from_bytes(key.as_bytes()).is_err() {
            return Err(var.error(format_args!(
                "has {key:?}, which is not a header name; use letters, digits and - _ . only"
            )));
        }
        if protocol == OtlpProtocol::Grpc && key.to_ascii_lowercase().ends_with("-bin") {
            return Err(var.error(format_args!(
                "has {key:?}, a binary gRPC metadata key, which cannot carry text; use a name \
                 that does not end in -bin"
            )));
        }
        if !value.bytes().all(|byte| (b' '..=b'~').contains(&byte)) {
            return Err(var.error(format_args!(
                "has a value for {key:?} that a header cannot carry; use visible ASCII \
                 characters and spaces (after %XX decoding)"
            )));
        }
    }
    Ok(headers)
}

/// One `key=value` entry of [`pairs`].
fn pair(var: &Var, entry: &str) -> Result<(String, String), ConfigError> {
    const USAGE: &str = "use key=value pairs separated by commas";
    const ENCODING: &str = "write special characters as %XX, two hex digits per UTF-8 byte";
    let (key, value) = entry
        .split_once('=')
        .ok_or_else(|| var.error(format_args!("has an entry without \"=\"; {USAGE}")))?;
    let key = percent_decode(key.trim()).ok_or_else(|| {
        var.error(format_args!(
            "has a key that is not percent-encoded; {ENCODING}"
        ))
    })?;
    if key.is_empty() {
        return Err(var.error(format_args!("has an entry with an empty key; {USAGE}")));
    }
    let value = percent_decode(value.trim()).ok_or_else(|| {
        var.error(format_args!(
            "has a value for {key:?} that is not percent-encoded; {ENCODING}"
        ))
    })?;
    Ok((key, value))
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = char::from(*bytes.get(i + 1)?).to_digit(16)?;
            let low = char::from(*bytes.get(i + 2)?).to_digit(16)?;
            decoded.push((high * 16 + low) as u8);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)], strictness: Strictness) -> Result<TelemetryConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|&(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        from_env(|name| vars.get(name).cloned(), strictness)
    }

    fn config(vars: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
        read(vars, Strictness::Strict)
    }

    fn lenient(vars: &[(&str, &str)]) -> TelemetryConfig {
        read(vars, Strictness::Lenient).unwrap()
    }

    /// The configuration without its warnings, to compare with another.
    fn without_warnings(config: TelemetryConfig) -> TelemetryConfig {
        TelemetryConfig {
            warnings: Vec::new(),
            ..config
        }
    }

    fn ok(vars: &[(&str, &str)]) -> TelemetryConfig {
        config(vars).unwrap()
    }

    fn error(vars: &[(&str, &str)]) -> String {
        config(vars).unwrap_err().to_string()
    }

    fn strings(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let otlp = OtlpConfig {
            endpoint: "http://localhost:4317".to_owned(),
            protocol: OtlpProtocol::Grpc,
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
        };
        assert_eq!(
            ok(&[]),
            TelemetryConfig {
                sdk_disabled: false,
                service_name: None,
                resource_attributes: Vec::new(),
                traces: TracesConfig {
                    exporters: vec![TracesExporter::Console],
                    otlp: otlp.clone(),
                    sampler: Sampler::ParentBasedAlwaysOn,
                    batch: BatchConfig {
                        schedule_delay: Duration::from_secs(5),
                        export_timeout: Duration::from_secs(30),
                        max_queue_size: 2048,
                        max_export_batch_size: 512,
                    },
                },
                metrics: MetricsConfig {
                    exporters: vec![MetricsExporter::Console],
                    otlp,
                    prometheus: PrometheusConfig {
                        host: "localhost".to_owned(),
                        port: 9464,
                    },
                    export_interval: Duration::from_secs(60),
                    export_timeout: Duration::from_secs(30),
                },
                propagators: vec![Propagator::TraceContext, Propagator::Baggage],
                semconv: SemconvMode::OLD,
                limits: LimitsConfig::default(),
                metadata: MetadataConfig::default(),
                console_output: ConsoleOutput::Stderr,
                no_color: false,
                strictness: Strictness::Strict,
                warnings: Vec::new(),
            }
        );
    }

    #[test]
    fn empty_and_blank_values_count_as_unset() {
        let vars = [
            "OTEL_SDK_DISABLED",
            "OTEL_SERVICE_NAME",
            "OTEL_RESOURCE_ATTRIBUTES",
            "OTEL_TRACES_EXPORTER",
            "OTEL_METRICS_EXPORTER",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_TRACES_SAMPLER",
            "OTEL_PROPAGATORS",
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "OTEL_EXPORTER_PROMETHEUS_HOST",
            "OTEL_EXPORTER_PROMETHEUS_PORT",
            "OTEL_METRIC_EXPORT_INTERVAL",
            "OTEL_SEMCONV_STABILITY_OPT_IN",
        ];
        let empty: Vec<(&str, &str)> = vars.iter().map(|&name| (name, "")).collect();
        let blank: Vec<(&str, &str)> = vars.iter().map(|&name| (name, "  ")).collect();
        assert_eq!(ok(&empty), ok(&[]));
        assert_eq!(ok(&blank), ok(&[]));
    }

    #[test]
    fn sdk_disabled() {
        let disabled = |value| ok(&[("OTEL_SDK_DISABLED", value)]).sdk_disabled;
        assert!(disabled("true"));
        assert!(disabled("TRUE"));
        assert!(disabled(" True "));
        assert!(!disabled("false"));
        assert!(!disabled("False"));
        assert_eq!(
            error(&[("OTEL_SDK_DISABLED", "yes")]),
            r#"OTEL_SDK_DISABLED="yes" is not a boolean; use one of true, false"#
        );
        assert_eq!(
            error(&[("OTEL_SDK_DISABLED", "1")]),
            r#"OTEL_SDK_DISABLED="1" is not a boolean; use one of true, false"#
        );
    }

    #[test]
    fn service_name_and_resource_attributes() {
        let config = ok(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod, service.version = 1.2 ,team=a%2Cb%3Dc%20d",
        )]);
        assert_eq!(config.service_name, None);
        assert_eq!(
            config.resource_attributes,
            strings(&[
                ("deployment.environment", "prod"),
                ("service.version", "1.2"),
                ("team", "a,b=c d"),
            ])
        );

        let from_attributes = ok(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=payments%20api,host.name=h1",
        )]);
        assert_eq!(
            from_attributes.service_name.as_deref(),
            Some("payments api")
        );
        assert_eq!(
            from_attributes.resource_attributes,
            strings(&[("host.name", "h1")])
        );

        let both = ok(&[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=payments,k=v"),
        ]);
        assert_eq!(both.service_name.as_deref(), Some("checkout"));
        assert_eq!(both.resource_attributes, strings(&[("k", "v")]));

        let encoded_key = ok(&[("OTEL_RESOURCE_ATTRIBUTES", "a%3Db=%E2%82%AC,empty=")]);
        assert_eq!(
            encoded_key.resource_attributes,
            strings(&[("a=b", "€"), ("empty", "")])
        );
    }

    #[test]
    fn blank_service_name_falls_back() {
        // Any non-empty name is valid; an empty or blank one counts as unset, so the
        // `service.name` attribute, else the code's default, else `unknown_service` applies.
        for blank in ["", "   "] {
            let config = ok(&[
                ("OTEL_SERVICE_NAME", blank),
                ("OTEL_RESOURCE_ATTRIBUTES", "service.name=payments"),
            ]);
            assert_eq!(config.service_name.as_deref(), Some("payments"));
            assert_eq!(ok(&[("OTEL_SERVICE_NAME", blank)]).service_name, None);
        }
        assert_eq!(
            ok(&[("OTEL_SERVICE_NAME", " checkout api ")])
                .service_name
                .as_deref(),
            Some("checkout api")
        );
    }

    #[test]
    fn bad_resource_attributes() {
        let error = |value| error(&[("OTEL_RESOURCE_ATTRIBUTES", value)]);
        assert_eq!(
            error("a=1,b"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=1,b" has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error("a=1,"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=1," has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error(" =1"),
            r#"OTEL_RESOURCE_ATTRIBUTES="=1" has an entry with an empty key; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error("a=50%"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=50%" has a value for "a" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
        assert_eq!(
            error("a=%ff"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=%ff" has a value for "a" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
        assert_eq!(
            error("%zz=1"),
            r#"OTEL_RESOURCE_ATTRIBUTES="%zz=1" has a key that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("a%20b%2c%2C").as_deref(), Some("a b,,"));
        assert_eq!(percent_decode("%C3%A9t%C3%A9").as_deref(), Some("été"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%+4"), None);
        assert_eq!(percent_decode("%g0"), None);
        assert_eq!(percent_decode("%C3"), None);
    }

    #[test]
    fn traces_exporters() {
        let exporters = |value| ok(&[("OTEL_TRACES_EXPORTER", value)]).traces.exporters;
        assert_eq!(exporters("otlp"), [TracesExporter::Otlp]);
        assert_eq!(exporters("Console"), [TracesExporter::Console]);
        assert_eq!(
            exporters("otlp, console"),
            [TracesExporter::Otlp, TracesExporter::Console]
        );
        assert_eq!(exporters("none"), []);
        assert_eq!(exporters("NONE"), []);
        let error = |value| error(&[("OTEL_TRACES_EXPORTER", value)]);
        assert_eq!(
            error("zipkin"),
            r#"OTEL_TRACES_EXPORTER="zipkin" has "zipkin", which is not a traces exporter; use a comma-separated list of otlp, console, or none"#
        );
        assert_eq!(
            error("otlp,,console"),
            r#"OTEL_TRACES_EXPORTER="otlp,,console" has "", which is not a traces exporter; use a comma-separated list of otlp, console, or none"#
        );
        assert_eq!(
            error("otlp,none"),
            r#"OTEL_TRACES_EXPORTER="otlp,none" combines none with other values; use none alone"#
        );
        assert_eq!(
            error("otlp,OTLP"),
            r#"OTEL_TRACES_EXPORTER="otlp,OTLP" lists "OTLP" twice; list it once"#
        );
    }

    #[test]
    fn metrics_exporters() {
        let exporters = |value| ok(&[("OTEL_METRICS_EXPORTER", value)]).metrics.exporters;
        assert_eq!(exporters("otlp"), [MetricsExporter::Otlp]);
        assert_eq!(exporters("prometheus"), [MetricsExporter::Prometheus]);
        assert_eq!(exporters("console"), [MetricsExporter::Console]);
        assert_eq!(
            exporters("prometheus,otlp"),
            [MetricsExporter::Prometheus, MetricsExporter::Otlp]
        );
        assert_eq!(exporters("none"), []);
        assert_eq!(
            error(&[("OTEL_METRICS_EXPORTER", "statsd")]),
            r#"OTEL_METRICS_EXPORTER="statsd" has "statsd", which is not a metrics exporter; use a comma-separated list of otlp, prometheus, console, or none"#
        );
    }

    #[test]
    fn an_endpoint_alone_means_otlp_and_nothing_means_console() {
        let exporters = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.exporters, config.metrics.exporters)
        };
        assert_eq!(
            exporters(&[]),
            (
                vec![TracesExporter::Console],
                vec![MetricsExporter::Console]
            )
        );
        assert_eq!(
            exporters(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]),
            (vec![TracesExporter::Otlp], vec![MetricsExporter::Otlp])
        );
        assert_eq!(
            exporters(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://collector:4317"
            )]),
            (vec![TracesExporter::Otlp], vec![MetricsExporter::Console])
        );
        assert_eq!(
            exporters(&[(
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://collector:4317"
            )]),
            (vec![TracesExporter::Console], vec![MetricsExporter::Otlp])
        );
        assert_eq!(
            exporters(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_TRACES_EXPORTER", "console"),
                ("OTEL_METRICS_EXPORTER", "none"),
            ]),
            (vec![TracesExporter::Console], vec![])
        );
    }

    #[test]
    fn endpoints() {
        let endpoints = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.endpoint, config.metrics.otlp.endpoint)
        };
        let pair = |traces: &str, metrics: &str| (traces.to_owned(), metrics.to_owned());
        let http = ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");

        assert_eq!(
            endpoints(&[]),
            pair("http://localhost:4317", "http://localhost:4317")
        );
        assert_eq!(
            endpoints(&[http]),
            pair(
                "http://localhost:4318/v1/traces",
                "http://localhost:4318/v1/metrics"
            )
        );
        // gRPC: the generic endpoint as is.
        assert_eq!(
            endpoints(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]),
            pair("http://collector:4317", "http://collector:4317")
        );
        // HTTP: the signal's path appended to the generic endpoint, after any base path.
        assert_eq!(
            endpoints(&[
                http,
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
            ]),
            pair(
                "http://collector:4318/v1/traces",
                "http://collector:4318/v1/metrics"
            )
        );
        assert_eq!(
            endpoints(&[http, ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/otlp/")]),
            pair(
                "http://c:4318/otlp/v1/traces",
                "http://c:4318/otlp/v1/metrics"
            )
        );
        // Per-signal: as is, over the generic one, for either protocol.
        let per_signal = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:4318/custom",
            ),
        ];
        assert_eq!(
            endpoints(&per_signal),
            pair("http://traces:4318/custom", "http://generic:4318")
        );
        assert_eq!(
            endpoints(&[per_signal[0], per_signal[1], http]),
            pair(
                "http://traces:4318/custom",
                "http://generic:4318/v1/metrics"
            )
        );
        assert_eq!(
            endpoints(&[
                http,
                (
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    "http://metrics:9090/m"
                )
            ]),
            pair("http://localhost:4318/v1/traces", "http://metrics:9090/m")
        );
    }

    #[test]
    fn bad_endpoints() {
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")]),
            r#"OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4317" is not a URL; use http://host:port"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://" is not a URL; use http://host:port"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "grpc://c:4317")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="grpc://c:4317" is not a URL; use http://host:port"#
        );
        assert_eq!(
            ok(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "HTTP://Collector:4317")])
                .traces
                .otlp
                .endpoint,
            "HTTP://Collector:4317"
        );
        // No TLS: https is refused for every endpoint variable, whatever its case.
        for name in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ] {
            for value in ["https://collector:4317", "HTTPS://collector"] {
                assert_eq!(
                    error(&[(name, value)]),
                    format!(
                        "{name}={value:?} uses https, but TLS is not supported: send to a \
                         collector over http:// (e.g. a sidecar or node-local collector)"
                    )
                );
            }
        }
    }

    #[test]
    fn protocols() {
        let protocols = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.protocol, config.metrics.otlp.protocol)
        };
        use OtlpProtocol::{Grpc, HttpProtobuf};
        assert_eq!(protocols(&[]), (Grpc, Grpc));
        assert_eq!(
            protocols(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/Protobuf")]),
            (HttpProtobuf, HttpProtobuf)
        );
        assert_eq!(
            protocols(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ]),
            (Grpc, HttpProtobuf)
        );
        assert_eq!(
            protocols(&[("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")]),
            (Grpc, HttpProtobuf)
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]),
            r#"OTEL_EXPORTER_OTLP_PROTOCOL="http/json" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http/json" is not an OTLP protocol; use one of grpc, http/protobuf"#
        );
    }

    #[test]
    fn headers() {
        let headers = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.headers, config.metrics.otlp.headers)
        };
        let generic = (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20abc, x-tenant = t1",
        );
        let expected = strings(&[("authorization", "Bearer abc"), ("x-tenant", "t1")]);
        assert_eq!(headers(&[generic]), (expected.clone(), expected.clone()));
        // A per-signal variable replaces the generic one; it is not merged.
        assert_eq!(
            headers(&[
                generic,
                ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "api-key=k%3D1")
            ]),
            (expected, strings(&[("api-key", "k=1")]))
        );
    }

    #[test]
    fn per_signal_headers() {
        let config = ok(&[(
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "Authorization=Basic%20dXNlcjpwYXNz,x-scope-orgid=team-a",
        )]);
        assert_eq!(
            config.traces.otlp.headers,
            strings(&[
                ("Authorization", "Basic dXNlcjpwYXNz"),
                ("x-scope-orgid", "team-a")
            ])
        );
        assert_eq!(config.metrics.otlp.headers, []);
    }

    #[test]
    fn headers_that_cannot_be_sent_are_errors_naming_their_variable() {
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        ] {
            for protocol in ["grpc", "http/protobuf"] {
                let protocol = ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
                assert_eq!(
                    error(&[protocol, (name, "api key=secret")]),
                    format!(
                        r#"{name} (value hidden) has "api key", which is not a header name; use letters, digits and - _ . only"#
                    )
                );
                assert_eq!(
                    error(&[protocol, (name, "api-key=s%0Aecret")]),
                    format!(
                        r#"{name} (value hidden) has a value for "api-key" that a header cannot carry; use visible ASCII characters and spaces (after %XX decoding)"#
                    )
                );
                assert_eq!(
                    error(&[protocol, (name, "api-key=s%C3%A9cret")]),
                    format!(
                        r#"{name} (value hidden) has a value for "api-key" that a header cannot carry; use visible ASCII characters and spaces (after %XX decoding)"#
                    )
                );
            }
        }
        // Binary metadata is for gRPC only; over HTTP such a name is an ordinary header.
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "Token-Bin=abc")]),
            r#"OTEL_EXPORTER_OTLP_METRICS_HEADERS (value hidden) has "Token-Bin", a binary gRPC metadata key, which cannot carry text; use a name that does not end in -bin"#
        );
        assert_eq!(
            ok(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "token-bin=abc"),
            ])
            .metrics
            .otlp
            .headers,
            strings(&[("token-bin", "abc")])
        );
    }

    #[test]
    fn header_errors_hide_the_value() {
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_HEADERS", "Bearer secret")]),
            r#"OTEL_EXPORTER_OTLP_HEADERS (value hidden) has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error(&[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=sec%ret")]),
            r#"OTEL_EXPORTER_OTLP_TRACES_HEADERS (value hidden) has a value for "api-key" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
    }

    #[test]
    fn timeouts() {
        let timeouts = |vars: &[(&str, &str)]| {
            let config = ok(vars);
            (config.traces.otlp.timeout, config.metrics.otlp.timeout)
        };
        let ms = Duration::from_millis;
        assert_eq!(timeouts(&[]), (ms(10_000), ms(10_000)));
        assert_eq!(
            timeouts(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")]),
            (ms(2500), ms(2500))
        );
        assert_eq!(
            timeouts(&[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "100"),
                ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "200"),
            ]),
            (ms(100), ms(200))
        );
        for name in [
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
        ] {
            for value in ["10s", "-1", "0", "1.5"] {
                assert_eq!(
                    error(&[(name, value)]),
                    format!(
                        "{name}={value:?} is not a duration; \
                         use a positive whole number of milliseconds"
                    )
                );
            }
        }
    }

    #[test]
    fn samplers() {
        let sampler = |vars: &[(&str, &str)]| ok(vars).traces.sampler;
        let named = |name| sampler(&[("OTEL_TRACES_SAMPLER", name)]);
        assert_eq!(named("always_on"), Sampler::AlwaysOn);
        assert_eq!(named("always_off"), Sampler::AlwaysOff);
        assert_eq!(named("traceidratio"), Sampler::TraceIdRatio(1.0));
        assert_eq!(named("parentbased_always_on"), Sampler::ParentBasedAlwaysOn);
        assert_eq!(
            named("ParentBased_Always_Off"),
            Sampler::ParentBasedAlwaysOff
        );
        assert_eq!(
            named("parentbased_traceidratio"),
            Sampler::ParentBasedTraceIdRatio(1.0)
        );
        assert_eq!(
            sampler(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ]),
            Sampler::TraceIdRatio(0.25)
        );
        assert_eq!(
            sampler(&[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0"),
            ]),
            Sampler::ParentBasedTraceIdRatio(0.0)
        );
        assert_eq!(
            sampler(&[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
            ]),
            Sampler::ParentBasedTraceIdRatio(0.1)
        );
        // The specification: samplers without a ratio ignore the argument.
        assert_eq!(
            sampler(&[
                ("OTEL_TRACES_SAMPLER", "always_on"),
                ("OTEL_TRACES_SAMPLER_ARG", "not read"),
            ]),
            Sampler::AlwaysOn
        );
        assert_eq!(
            error(&[("OTEL_TRACES_SAMPLER", "sometimes")]),
            r#"OTEL_TRACES_SAMPLER="sometimes" is not a sampler; use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"#
        );
        for value in ["1.5", "-0.1", "half", "NaN", "inf"] {
            assert_eq!(
                error(&[
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", value),
                ]),
                format!(
                    "OTEL_TRACES_SAMPLER_ARG={value:?} is not a ratio; use a number from 0 to 1"
                )
            );
        }
    }

    #[test]
    fn propagators() {
        let propagators = |value| ok(&[("OTEL_PROPAGATORS", value)]).propagators;
        assert_eq!(
            propagators("b3multi, jaeger,tracecontext"),
            [
                Propagator::B3Multi,
                Propagator::Jaeger,
                Propagator::TraceContext
            ]
        );
        assert_eq!(propagators("B3"), [Propagator::B3]);
        assert_eq!(propagators("baggage"), [Propagator::Baggage]);
        assert_eq!(propagators("none"), []);
        assert_eq!(
            error(&[("OTEL_PROPAGATORS", "tracecontext,xray")]),
            r#"OTEL_PROPAGATORS="tracecontext,xray" has "xray", which is not a propagator; use a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, or none"#
        );
        assert_eq!(
            error(&[("OTEL_PROPAGATORS", "none,b3")]),
            r#"OTEL_PROPAGATORS="none,b3" combines none with other values; use none alone"#
        );
    }

    #[test]
    fn batch_span_processor() {
        let batch = |vars: &[(&str, &str)]| ok(vars).traces.batch;
        assert_eq!(
            batch(&[
                ("OTEL_BSP_SCHEDULE_DELAY", "1000"),
                ("OTEL_BSP_EXPORT_TIMEOUT", "2000"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
            ]),
            BatchConfig {
                schedule_delay: Duration::from_secs(1),
                export_timeout: Duration::from_secs(2),
                max_queue_size: 4096,
                max_export_batch_size: 4096,
            }
        );
        // The default batch size shrinks to fit a small queue.
        let small = batch(&[("OTEL_BSP_MAX_QUEUE_SIZE", "100")]);
        assert_eq!(
            (small.max_queue_size, small.max_export_batch_size),
            (100, 100)
        );
        assert_eq!(
            error(&[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")]),
            r#"OTEL_BSP_MAX_EXPORT_BATCH_SIZE="4096" is larger than OTEL_BSP_MAX_QUEUE_SIZE (2048); use at most 2048"#
        );
        assert_eq!(
            error(&[("OTEL_BSP_SCHEDULE_DELAY", "5s")]),
            r#"OTEL_BSP_SCHEDULE_DELAY="5s" is not a duration; use a positive whole number of milliseconds"#
        );
        assert_eq!(
            error(&[("OTEL_BSP_EXPORT_TIMEOUT", "0")]),
            r#"OTEL_BSP_EXPORT_TIMEOUT="0" is not a duration; use a positive whole number of milliseconds"#
        );
        for name in ["OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] {
            for value in ["0", "-1", "lots"] {
                assert_eq!(
                    error(&[(name, value)]),
                    format!("{name}={value:?} is not a size; use a positive whole number")
                );
            }
        }
    }

    #[test]
    fn prometheus() {
        let prometheus = ok(&[
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "9100"),
        ])
        .metrics
        .prometheus;
        assert_eq!(
            prometheus,
            PrometheusConfig {
                host: "0.0.0.0".to_owned(),
                port: 9100
            }
        );
        for value in ["0", "65536", "http"] {
            assert_eq!(
                error(&[("OTEL_EXPORTER_PROMETHEUS_PORT", value)]),
                format!(
                    "OTEL_EXPORTER_PROMETHEUS_PORT={value:?} is not a port; \
                     use a number from 1 to 65535"
                )
            );
        }
    }

    #[test]
    fn prometheus_hosts() {
        let host = |value| {
            ok(&[("OTEL_EXPORTER_PROMETHEUS_HOST", value)])
                .metrics
                .prometheus
                .host
        };
        assert_eq!(host("localhost"), "localhost");
        assert_eq!(host("metrics-1.internal"), "metrics-1.internal");
        assert_eq!(host("127.0.0.1"), "127.0.0.1");
        // IPv6, bare or in brackets, comes out in brackets for host:port.
        assert_eq!(host("::1"), "[::1]");
        assert_eq!(host("[::]"), "[::]");
        let long_label = "a".repeat(64);
        for value in [
            "http://0.0.0.0",
            "0.0.0.0:9464",
            "my host",
            "-metrics",
            "metrics..internal",
            "[localhost]",
            long_label.as_str(),
        ] {
            assert_eq!(
                error(&[("OTEL_EXPORTER_PROMETHEUS_HOST", value)]),
                format!(
                    "OTEL_EXPORTER_PROMETHEUS_HOST={value:?} is not a host name or IP address; \
                     use e.g. localhost, 0.0.0.0 or metrics.internal, without a scheme or port"
                )
            );
        }
    }

    #[test]
    fn metric_export_interval_and_timeout() {
        let metrics = ok(&[
            ("OTEL_METRIC_EXPORT_INTERVAL", "15000"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "5000"),
        ])
        .metrics;
        assert_eq!(metrics.export_interval, Duration::from_secs(15));
        assert_eq!(metrics.export_timeout, Duration::from_secs(5));
        assert_eq!(
            error(&[("OTEL_METRIC_EXPORT_INTERVAL", "1m")]),
            r#"OTEL_METRIC_EXPORT_INTERVAL="1m" is not a duration; use a positive whole number of milliseconds"#
        );
        for value in ["30s", "0", "-5"] {
            assert_eq!(
                error(&[("OTEL_METRIC_EXPORT_TIMEOUT", value)]),
                format!(
                    "OTEL_METRIC_EXPORT_TIMEOUT={value:?} is not a duration; \
                     use a positive whole number of milliseconds"
                )
            );
        }
    }

    #[test]
    fn no_color_is_read_through_the_lookup() {
        // This process's own NO_COLOR, whatever it is, is not what counts.
        assert!(ok(&[("NO_COLOR", "1")]).no_color);
        assert!(ok(&[("NO_COLOR", "false")]).no_color, "any value but empty");
        assert!(!ok(&[("NO_COLOR", "")]).no_color);
        assert!(!ok(&[]).no_color);
    }

    #[test]
    fn console_output() {
        let output = |value: &str| ok(&[("TONIC_TRACED_CONSOLE_OUTPUT", value)]).console_output;
        assert_eq!(ok(&[]).console_output, ConsoleOutput::Stderr);
        assert_eq!(output("STDOUT"), ConsoleOutput::Stdout);
        assert_eq!(output(" stderr "), ConsoleOutput::Stderr);
        let file = std::env::temp_dir().join(format!("console-{}.txt", std::process::id()));
        let named = file.to_str().expect("a UTF-8 temporary directory");
        assert_eq!(output(named), ConsoleOutput::File(file.clone()));
        assert!(file.exists(), "created");
        std::fs::remove_file(&file).unwrap();
        let unwritable = [("TONIC_TRACED_CONSOLE_OUTPUT", "/nonexistent-dir/traces.txt")];
        let message = error(&unwritable);
        assert!(
            message.starts_with(
                "TONIC_TRACED_CONSOLE_OUTPUT=\"/nonexistent-dir/traces.txt\" cannot be appended \
                 to ("
            ) && message.ends_with("); name a writable file, or `stderr` or `stdout`"),
            "{message}"
        );
        let config = lenient(&unwritable);
        assert_eq!(config.console_output, ConsoleOutput::Stderr);
        assert!(
            config.warnings[0].ends_with("; ignored, using the default: stderr"),
            "{:?}",
            config.warnings
        );
    }

    #[test]
    fn limits_hash_key_and_public_endpoints() {
        let limits = |vars: &[(&str, &str)]| ok(vars).limits;
        assert_eq!(
            limits(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64")]).attribute_value_length,
            Some(64)
        );
        assert_eq!(
            limits(&[
                ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
                ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32"),
            ])
            .attribute_value_length,
            Some(32),
            "the span limit wins"
        );
        assert_eq!(
            limits(&[("TONIC_TRACED_MAX_MESSAGES_PER_RPC", "10")]).messages_per_rpc,
            Some(10)
        );
        assert_eq!(
            limits(&[("TONIC_TRACED_HASH_KEY", "s3cret")]).hash_key,
            Some(Secret(b"s3cret".to_vec()))
        );
        assert_eq!(
            format!("{:?}", Secret(b"s3cret".to_vec())),
            "Secret(hidden)"
        );
        let file = tempfile_with("from-a-secret\n");
        assert_eq!(
            limits(&[("TONIC_TRACED_HASH_KEY_FILE", &file)]).hash_key,
            Some(Secret(b"from-a-secret".to_vec()))
        );
        assert_eq!(
            limits(&[(
                "TONIC_TRACED_PUBLIC_ENDPOINTS",
                "payment.PaymentService, order.OrderService"
            )])
            .public_endpoints,
            ["payment.PaymentService", "order.OrderService"]
        );
        assert_eq!(limits(&[]), LimitsConfig::default());

        for (vars, start) in [
            (
                &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1")][..],
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"-1\" is not a size",
            ),
            (
                &[("TONIC_TRACED_MAX_MESSAGES_PER_RPC", "lots")][..],
                "TONIC_TRACED_MAX_MESSAGES_PER_RPC=\"lots\" is not a size",
            ),
            (
                &[
                    ("TONIC_TRACED_HASH_KEY", "a"),
                    ("TONIC_TRACED_HASH_KEY_FILE", "/k"),
                ][..],
                "TONIC_TRACED_HASH_KEY_FILE=\"/k\" is set as well as TONIC_TRACED_HASH_KEY",
            ),
            (
                &[("TONIC_TRACED_HASH_KEY_FILE", "/no/such/key")][..],
                "TONIC_TRACED_HASH_KEY_FILE=\"/no/such/key\" cannot be read",
            ),
        ] {
            let error = error(vars);
            assert!(error.starts_with(start), "{error}");
        }
        // A hash key that cannot be had is an error even when lenient: going on would hash
        // in the reversible, unkeyed form.
        let missing = &[("TONIC_TRACED_HASH_KEY_FILE", "/no/such/key")];
        let error = read(missing, Strictness::Lenient).unwrap_err().to_string();
        assert!(error.contains("cannot be read"), "{error}");
    }

    #[test]
    fn metadata_to_capture() {
        let metadata = ok(&[
            (
                "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST",
                "x-tenant, User-Agent",
            ),
            (
                "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_RESPONSE",
                "x-region",
            ),
            ("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", "true"),
        ])
        .metadata;
        assert_eq!(metadata.server_request, ["x-tenant", "User-Agent"]);
        assert!(metadata.server_response.is_empty() && metadata.client_request.is_empty());
        assert_eq!(metadata.client_response, ["x-region"]);
        assert!(metadata.sensitive);
        assert_eq!(ok(&[]).metadata, MetadataConfig::default());
        let error = error(&[("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", "yes")]);
        assert!(
            error.starts_with("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA=\"yes\" is not a boolean"),
            "{error}"
        );
    }

    /// A file holding `contents` that lasts for the test process; its path.
    fn tempfile_with(contents: &str) -> String {
        let path = std::env::temp_dir().join(format!("tonic-traced-key-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn semconv_opt_in() {
        let semconv = |value| ok(&[("OTEL_SEMCONV_STABILITY_OPT_IN", value)]).semconv;
        assert_eq!(semconv("rpc"), SemconvMode::STABLE);
        assert_eq!(semconv("http,RPC/dup"), SemconvMode::DUP);
        assert_eq!(semconv("http, database"), SemconvMode::OLD);
        assert_eq!(ok(&[]).semconv, SemconvMode::OLD);
        for value in ["rpc/dupe", "http,rpcdup", "rpc/"] {
            let entry = value.rsplit(',').next().unwrap();
            assert_eq!(
                error(&[("OTEL_SEMCONV_STABILITY_OPT_IN", value)]),
                format!(
                    "OTEL_SEMCONV_STABILITY_OPT_IN={value:?} has {entry:?}, which is not an RPC \
                     opt-in; use rpc or rpc/dup (entries of other categories, such as http, \
                     are left to their instrumentations)"
                )
            );
        }
    }

    #[test]
    fn error_debug_is_the_message() {
        let error = config(&[("OTEL_TRACES_SAMPLER", "x")]).unwrap_err();
        assert_eq!(format!("{error:?}"), error.to_string());
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        assert!(boxed.to_string().starts_with("OTEL_TRACES_SAMPLER=\"x\""));
    }

    #[test]
    fn values_with_quotes_are_escaped_in_errors() {
        assert_eq!(
            error(&[("OTEL_TRACES_SAMPLER", "\"on\"")]),
            r#"OTEL_TRACES_SAMPLER="\"on\"" is not a sampler; use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"#
        );
    }

    #[test]
    fn lenient_is_the_default() {
        assert_eq!(Strictness::default(), Strictness::Lenient);
        assert_eq!(
            read(
                &[("OTEL_TRACES_SAMPLER", "sometimes")],
                Strictness::default()
            )
            .unwrap()
            .traces
            .sampler,
            Sampler::ParentBasedAlwaysOn
        );
    }

    #[test]
    fn lenient_ignores_each_bad_value_with_one_warning_naming_the_default() {
        /// Variables, as a test sets them.
        type Vars = [(&'static str, &'static str)];
        // (context, the bad variable and value, the default its warning names)
        let ratio_sampler = [("OTEL_TRACES_SAMPLER", "traceidratio")];
        let cases: &[(&Vars, (&str, &str), &str)] = &[
            (&[], ("OTEL_SDK_DISABLED", "yes"), "false"),
            (&[], ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b"), "none"),
            (&[], ("OTEL_TRACES_EXPORTER", "zipkin"), "console"),
            (&[], ("OTEL_METRICS_EXPORTER", "statsd,otlp"), "console"),
            (&[], ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"), "grpc"),
            (&[], ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http"), "grpc"),
            (&[], ("OTEL_EXPORTER_OTLP_HEADERS", "Bearer secret"), "none"),
            (&[], ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "k=%zz"), "none"),
            (&[], ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"), "10000"),
            (&[], ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0"), "10000"),
            (
                &[],
                ("OTEL_TRACES_SAMPLER", "sometimes"),
                "parentbased_always_on",
            ),
            (&ratio_sampler, ("OTEL_TRACES_SAMPLER_ARG", "half"), "1"),
            (
                &[],
                ("OTEL_PROPAGATORS", "tracecontext,xray"),
                "tracecontext,baggage",
            ),
            (&[], ("OTEL_BSP_SCHEDULE_DELAY", "5s"), "5000"),
            (&[], ("OTEL_BSP_EXPORT_TIMEOUT", "0"), "30000"),
            (&[], ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"), "2048"),
            (&[], ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"), "512"),
            (
                &[("OTEL_BSP_MAX_QUEUE_SIZE", "100")],
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"),
                "100",
            ),
            (
                &[],
                ("OTEL_EXPORTER_PROMETHEUS_HOST", "http://0.0.0.0"),
                "localhost",
            ),
            (&[], ("OTEL_EXPORTER_PROMETHEUS_PORT", "65536"), "9464"),
            (&[], ("OTEL_METRIC_EXPORT_INTERVAL", "1m"), "60000"),
            (&[], ("OTEL_METRIC_EXPORT_TIMEOUT", "30s"), "30000"),
            (
                &[],
                ("OTEL_SEMCONV_STABILITY_OPT_IN", "rpc/dupe"),
                "none (the old RPC conventions)",
            ),
            (&[], (STRICT_VARIABLE, "yes"), "false"),
        ];
        for &(context, bad, default) in cases {
            let mut vars = context.to_vec();
            vars.push(bad);
            let config = lenient(&vars);
            // The strict error, then what is used instead.
            assert_eq!(
                config.warnings,
                [format!(
                    "{}; ignored, using the default: {default}",
                    error(&vars)
                )],
                "{bad:?}"
            );
            // Everything else as if the variable were unset.
            assert_eq!(without_warnings(config), lenient(context), "{bad:?}");
        }
    }

    #[test]
    fn lenient_warnings_hide_header_values() {
        let config = lenient(&[("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer secret%")]);
        assert_eq!(
            config.warnings,
            [
                r#"OTEL_EXPORTER_OTLP_HEADERS (value hidden) has a value for "authorization" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte; ignored, using the default: none"#
            ]
        );
    }

    #[test]
    fn lenient_falls_back_from_a_bad_per_signal_value_to_the_generic_one() {
        let config = lenient(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=a"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant"),
        ]);
        assert_eq!(config.traces.otlp.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            config.metrics.otlp.endpoint,
            "http://collector:4318/v1/metrics"
        );
        assert_eq!(config.traces.otlp.headers, strings(&[("x-tenant", "a")]));
        assert_eq!(
            config.warnings,
            [
                r#"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http" is not an OTLP protocol; use one of grpc, http/protobuf; ignored, using http/protobuf from OTEL_EXPORTER_OTLP_PROTOCOL"#,
                r#"OTEL_EXPORTER_OTLP_TRACES_HEADERS (value hidden) has an entry without "="; use key=value pairs separated by commas; ignored, using the headers (values hidden) from OTEL_EXPORTER_OTLP_HEADERS"#,
                r#"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="collector:4318" is not a URL; use http://host:port; ignored, using http://collector:4318/v1/metrics from OTEL_EXPORTER_OTLP_ENDPOINT"#,
            ]
        );
    }

    #[test]
    fn lenient_warns_once_about_a_bad_generic_value_read_for_both_signals() {
        let config = lenient(&[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpcc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grcp"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5s"),
        ]);
        assert_eq!(
            (config.traces.otlp.protocol, config.metrics.otlp.protocol),
            (OtlpProtocol::Grpc, OtlpProtocol::Grpc)
        );
        assert_eq!(
            config.warnings,
            [
                r#"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpcc" is not an OTLP protocol; use one of grpc, http/protobuf; ignored, using the default: grpc"#,
                r#"OTEL_EXPORTER_OTLP_PROTOCOL="grcp" is not an OTLP protocol; use one of grpc, http/protobuf; ignored, using the default: grpc"#,
                r#"OTEL_EXPORTER_OTLP_TIMEOUT="5s" is not a duration; use a positive whole number of milliseconds; ignored, using the default: 10000"#,
            ]
        );
    }

    #[test]
    fn lenient_keeps_otlp_for_a_bad_endpoint() {
        // Setting an endpoint says "export over OTLP", even with a value that cannot be used.
        let config = lenient(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
        assert_eq!(config.traces.exporters, [TracesExporter::Otlp]);
        assert_eq!(config.metrics.exporters, [MetricsExporter::Otlp]);
        assert_eq!(config.traces.otlp.endpoint, "http://localhost:4317");
        assert_eq!(config.metrics.otlp.endpoint, "http://localhost:4317");
        assert_eq!(
            config.warnings,
            [
                r#"OTEL_EXPORTER_OTLP_ENDPOINT="collector:4317" is not a URL; use http://host:port; ignored, using the default: http://localhost:4317"#
            ]
        );
    }

    #[test]
    fn the_strict_variable_overrides_the_code() {
        let bad = ("OTEL_TRACES_SAMPLER", "sometimes");
        let sampler_error = r#"OTEL_TRACES_SAMPLER="sometimes" is not a sampler; use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"#;
        for value in ["true", "TRUE", " True "] {
            let error = read(&[(STRICT_VARIABLE, value), bad], Strictness::Lenient).unwrap_err();
            assert_eq!(error.to_string(), sampler_error);
        }
        let config = read(&[(STRICT_VARIABLE, "false"), bad], Strictness::Strict).unwrap();
        assert_eq!(config.strictness, Strictness::Lenient);
        assert_eq!(
            config.warnings,
            [format!(
                "{sampler_error}; ignored, using the default: parentbased_always_on"
            )]
        );
        // Unset or empty, the code decides.
        for vars in [&[][..], &[(STRICT_VARIABLE, "")][..]] {
            assert_eq!(
                read(vars, Strictness::Strict).unwrap().strictness,
                Strictness::Strict
            );
            assert_eq!(
                read(vars, Strictness::Lenient).unwrap().strictness,
                Strictness::Lenient
            );
        }
        // A bad value of its own is handled as the code says.
        assert_eq!(
            error(&[(STRICT_VARIABLE, "1")]),
            r#"TONIC_TRACED_CONFIG_STRICT="1" is not a boolean; use one of true, false"#
        );
    }
}
