//! Typed telemetry settings, read from the standard OpenTelemetry environment variables.
//!
//! [`from_env`] follows the OpenTelemetry SDK environment-variable specification for names,
//! defaults and syntax: empty values count as unset, enum values are case-insensitive, durations
//! are milliseconds. A value it cannot use is, as [`Strictness`] says, either warned about and
//! ignored (what the specification asks, and the default) or an error.
//!
//! Reading touches nothing but the variables: a file a variable names (the hash key's, the
//! console output's) is kept as a path, read or opened when `init()` sets up.
//!
//! This module holds the schema and [`from_env`]; `env` is the reading engine (strictness,
//! fallbacks, warnings), `values` the parsers of single values, and `service`, `signals` and
//! `otlp` read the sections.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::semconv::SemconvMode;

use env::Env;
use service::{limits, metadata, resource, skip_methods};
use signals::{metrics, traces};
use values::{boolean, console_output, list, list_names};

pub(super) use env::ignored_for_default;
pub(super) use values::{name_of, METRICS_EXPORTERS, PROPAGATORS, TRACES_EXPORTERS};

mod env;
mod otlp;
mod service;
mod signals;
#[cfg(test)]
mod test_support;
mod values;

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
    /// `TONIC_TRACED_SKIP_METHODS`: comma-separated methods whose calls are not traced, each
    /// `package.Service/Method` or `package.Service/*`.
    pub skip_methods: Vec<String>,
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
    /// `TONIC_TRACED_HASH_KEY`, or the file `TONIC_TRACED_HASH_KEY_FILE` names (a mounted
    /// Kubernetes Secret, say): the key of `HASH` redaction.
    pub hash_key: Option<HashKeySource>,
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

/// Where the hash key of `HASH` redaction comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKeySource {
    /// `TONIC_TRACED_HASH_KEY`: the key itself.
    Value(Secret),
    /// `TONIC_TRACED_HASH_KEY_FILE`: a file holding the key, read when `init()` sets up; a
    /// trailing newline is not part of the key.
    File(PathBuf),
}

/// The variable that names the hash key file.
pub(super) const HASH_KEY_FILE_VARIABLE: &str = "TONIC_TRACED_HASH_KEY_FILE";

/// The variable that chooses where the console exporters print.
pub(super) const CONSOLE_OUTPUT_VARIABLE: &str = "TONIC_TRACED_CONSOLE_OUTPUT";

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
    /// Any other value: a file, created if missing and appended to when `init()` sets up.
    File(PathBuf),
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
    /// An error with `message`, which names the variable at fault.
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
    env.set_strictness(if strict {
        Strictness::Strict
    } else {
        Strictness::Lenient
    });
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
        skip_methods: skip_methods(&env)?,
        console_output: env
            .var(CONSOLE_OUTPUT_VARIABLE)
            .map(|var| console_output(&var.value))
            .unwrap_or_default(),
        no_color: env.var("NO_COLOR").is_some(),
        strictness: env.strictness(),
        warnings: Vec::new(),
    };
    Ok(TelemetryConfig {
        warnings: env.into_warnings(),
        ..config
    })
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

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
                skip_methods: Vec::new(),
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
        // A file is named, not created: that is left to setup.
        let file = std::env::temp_dir().join(format!("console-{}.txt", std::process::id()));
        let named = file.to_str().expect("a UTF-8 temporary directory");
        assert_eq!(output(named), ConsoleOutput::File(file.clone()));
        assert!(!file.exists(), "reading the environment creates no file");
        assert_eq!(
            output("/nonexistent-dir/traces.txt"),
            ConsoleOutput::File("/nonexistent-dir/traces.txt".into())
        );
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
