//! The engine that reads variables: each value trimmed, empty counted as unset, a bad value an
//! error when strict or passed over when lenient, each passed-over value warned about once,
//! naming what is used instead.

use std::cell::RefCell;
use std::fmt;

use super::{ConfigError, Strictness};

/// The warning for a bad value ignored in favour of `default`: the error, then what is used.
pub(in crate::init) fn ignored_for_default(error: &ConfigError, default: &str) -> String {
    format!("{error}; ignored, using the default: {default}")
}

/// The environment as seen through the caller's lookup, and what to do with bad values.
pub(super) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    strictness: Strictness,
    /// The warnings for the bad values ignored so far, with their variables.
    warnings: RefCell<Vec<String>>,
    /// The variables warned about: each is warned about once, though some are read per signal.
    warned: RefCell<Vec<&'static str>>,
}

/// A set variable: its name and trimmed, non-empty value.
pub(super) struct Var {
    /// The variable's name.
    pub(super) name: &'static str,
    /// Its value, trimmed.
    pub(super) value: String,
}

/// What the variables of one setting gave, read in order of precedence.
pub(super) struct Found<T> {
    /// The first good value, and the variable it came from.
    value: Option<(T, &'static str)>,
    /// The bad values passed over on the way (lenient only), with their variables.
    ignored: Vec<(&'static str, ConfigError)>,
}

impl<'a> Env<'a> {
    /// The variables `lookup` gives, bad values handled as `strictness` says.
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>, strictness: Strictness) -> Self {
        Env {
            lookup,
            strictness,
            warnings: RefCell::default(),
            warned: RefCell::default(),
        }
    }

    /// What is done with bad values.
    pub(super) fn strictness(&self) -> Strictness {
        self.strictness
    }

    /// Changes what is done with the bad values read from now on.
    pub(super) fn set_strictness(&mut self, strictness: Strictness) {
        self.strictness = strictness;
    }

    /// The warnings for the bad values ignored, in the order they were read.
    pub(super) fn into_warnings(self) -> Vec<String> {
        self.warnings.into_inner()
    }

    /// The variable, or `None` when it is unset or empty.
    pub(super) fn var(&self, name: &'static str) -> Option<Var> {
        let value = (self.lookup)(name)?.trim().to_owned();
        (!value.is_empty()).then_some(Var { name, value })
    }

    /// The variable `name`, parsed; a bad value is an error when strict, else passed over.
    pub(super) fn read<T>(
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
    pub(super) fn or_read(
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
    pub(super) fn or_default(self, env: &Env, default: T, show: impl Fn(&T) -> String) -> T {
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
    pub(super) fn error(&self, problem: impl fmt::Display) -> ConfigError {
        let message = if self.name.ends_with("_HEADERS") {
            format!("{} (value hidden) {problem}", self.name)
        } else {
            format!("{}={:?} {problem}", self.name, self.value)
        };
        ConfigError::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

    #[test]
    fn values_with_quotes_are_escaped_in_errors() {
        assert_eq!(
            error(&[("OTEL_TRACES_SAMPLER", "\"on\"")]),
            r#"OTEL_TRACES_SAMPLER="\"on\"" is not a sampler; use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"#
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
}
