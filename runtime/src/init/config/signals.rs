//! The sections of the two signals: which exporters traces and metrics go to, the sampler and
//! batch processor of traces, the Prometheus endpoint and push interval of metrics.

use std::time::Duration;

use super::env::Env;
use super::otlp::{otlp, otlp_endpoint_set, METRICS, TRACES};
use super::values::{
    choice, host, list, list_names, millis, name_of, port, ratio, show_millis, size,
    METRICS_EXPORTERS, SAMPLERS, TRACES_EXPORTERS,
};
use super::{
    BatchConfig, ConfigError, MetricsConfig, MetricsExporter, PrometheusConfig, Sampler,
    TracesConfig, TracesExporter,
};

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
pub(super) fn traces(env: &Env) -> Result<TracesConfig, ConfigError> {
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
pub(super) fn metrics(env: &Env) -> Result<MetricsConfig, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

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
}
