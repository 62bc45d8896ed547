//! The `tracing` subscriber `init()` installs: user spans become OpenTelemetry spans, and log
//! lines carry the trace and span ids of the OpenTelemetry context they were written in.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use super::config::{ignored_for_default, ConfigError, Strictness};
use super::guard::TelemetryGuard;
use super::terminal::colour_wanted;

/// What is logged and traced when `RUST_LOG` is unset: the application at `info`, the HTTP/2
/// stack only when it warns (its own spans would drown the RPC spans), and the OpenTelemetry
/// SDK's own diagnostics only when they warn (e.g. spans dropped from a full queue).
const DEFAULT_FILTER: &str = "info,h2=warn,hyper=warn,hyper_util=warn,tower=warn,\
                              opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// The filter `RUST_LOG` gives (`value`), or the default when it is unset or empty. A value
/// that does not parse is an error naming it when `strictness` is strict; otherwise the
/// default is used and the error, with that default, added to `warnings`.
pub(super) fn filter(
    value: Option<String>,
    strictness: Strictness,
    warnings: &mut Vec<String>,
) -> Result<EnvFilter, ConfigError> {
    let value = value.unwrap_or_default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(EnvFilter::new(DEFAULT_FILTER));
    }
    let error = match EnvFilter::builder().parse(value) {
        Ok(filter) => return Ok(filter),
        Err(error) => ConfigError::new(format!(
            "RUST_LOG={value:?} is not a log filter ({error}); use comma-separated directives \
             such as info,my_crate=debug,h2=warn"
        )),
    };
    match strictness {
        Strictness::Strict => Err(error),
        Strictness::Lenient => {
            warnings.push(ignored_for_default(&error, DEFAULT_FILTER));
            Ok(EnvFilter::new(DEFAULT_FILTER))
        }
    }
}

/// Installs the global subscriber logging what `filter` lets through, unless the application
/// already has one; its lines are coloured on a terminal unless `no_color`.
pub(super) fn install(guard: &TelemetryGuard, filter: EnvFilter, no_color: bool) {
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour_wanted(&std::io::stderr(), no_color))
        .event_format(WithTraceIds(Format::default()));
    let _already_installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(guard.tracing_layer())
        .try_init();
}

/// Prefixes each log line with `trace_id=… span_id=…` when a valid span context is current,
/// sampled or not.
struct WithTraceIds(Format<Full>);

impl<S, N> FormatEvent<S, N> for WithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        cx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ids = Context::map_current(|otel| {
            let span = otel.span();
            let context = span.span_context();
            context
                .is_valid()
                .then(|| (context.trace_id(), context.span_id()))
        });
        if let Some((trace_id, span_id)) = ids {
            write!(writer, "trace_id={trace_id} span_id={span_id} ")?;
        }
        self.0.format_event(cx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: EnvFilter, b: &str) {
        assert_eq!(a.to_string(), EnvFilter::new(b).to_string());
    }

    #[test]
    fn rust_log() {
        for strictness in [Strictness::Strict, Strictness::Lenient] {
            let mut warnings = Vec::new();
            let mut filter = |value: Option<&str>| {
                filter(value.map(str::to_owned), strictness, &mut warnings).unwrap()
            };
            for value in [None, Some(""), Some("  ")] {
                same(filter(value), DEFAULT_FILTER);
            }
            same(
                filter(Some(" error,my_crate=debug ")),
                "error,my_crate=debug",
            );
            assert_eq!(warnings, Vec::<String>::new());
        }
    }

    #[test]
    fn bad_rust_log_is_an_error_when_strict() {
        let mut warnings = Vec::new();
        let error = filter(
            Some("info,h2=loud".to_owned()),
            Strictness::Strict,
            &mut warnings,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with(r#"RUST_LOG="info,h2=loud" is not a log filter ("#)
                && error.ends_with(
                    "); use comma-separated directives such as info,my_crate=debug,h2=warn"
                ),
            "{error}"
        );
        assert_eq!(warnings, Vec::<String>::new());
    }

    #[test]
    fn bad_rust_log_is_a_warning_and_the_default_when_lenient() {
        let mut warnings = Vec::new();
        let filter = filter(
            Some("info,h2=loud".to_owned()),
            Strictness::Lenient,
            &mut warnings,
        )
        .unwrap();
        same(filter, DEFAULT_FILTER);
        let [warning] = warnings.as_slice() else {
            panic!("one warning: {warnings:?}");
        };
        assert!(
            warning.starts_with(r#"RUST_LOG="info,h2=loud" is not a log filter ("#)
                && warning.ends_with(&format!(
                    "); use comma-separated directives such as info,my_crate=debug,h2=warn; \
                     ignored, using the default: {DEFAULT_FILTER}"
                )),
            "{warning}"
        );
    }
}
