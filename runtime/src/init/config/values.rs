//! Parsers of single values and the names of the options: each checks one variable's value
//! and, when it is bad, says what is allowed. They read nothing else: no other variable, no
//! file.

use std::time::Duration;

use super::env::Var;
use super::{
    ConfigError, ConsoleOutput, MetricsExporter, OtlpProtocol, Propagator, Sampler, TracesExporter,
};

/// The values of `OTEL_TRACES_EXPORTER`.
pub(in crate::init) const TRACES_EXPORTERS: &[(&str, TracesExporter)] = &[
    ("otlp", TracesExporter::Otlp),
    ("console", TracesExporter::Console),
];

/// The values of `OTEL_METRICS_EXPORTER`.
pub(in crate::init) const METRICS_EXPORTERS: &[(&str, MetricsExporter)] = &[
    ("otlp", MetricsExporter::Otlp),
    ("prometheus", MetricsExporter::Prometheus),
    ("console", MetricsExporter::Console),
];

/// The values of `OTEL_EXPORTER_OTLP_PROTOCOL` and its per-signal variants.
pub(super) const PROTOCOLS: &[(&str, OtlpProtocol)] = &[
    ("grpc", OtlpProtocol::Grpc),
    ("http/protobuf", OtlpProtocol::HttpProtobuf),
];

/// The values of `OTEL_TRACES_SAMPLER`. The ratio samplers carry the default ratio here;
/// `signals::sampler` replaces it with the argument.
pub(super) const SAMPLERS: &[(&str, Sampler)] = &[
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

/// The values of `OTEL_PROPAGATORS`.
pub(in crate::init) const PROPAGATORS: &[(&str, Propagator)] = &[
    ("tracecontext", Propagator::TraceContext),
    ("baggage", Propagator::Baggage),
    ("b3", Propagator::B3),
    ("b3multi", Propagator::B3Multi),
    ("jaeger", Propagator::Jaeger),
];

/// A duration as its variable would give it: whole milliseconds.
pub(super) fn show_millis(duration: &Duration) -> String {
    duration.as_millis().to_string()
}

/// `items` as a list variable would name them: comma-separated, or `none`.
pub(super) fn list_names<T: PartialEq>(options: &[(&'static str, T)], items: &[T]) -> String {
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
pub(in crate::init) fn name_of<T: PartialEq>(
    options: &[(&'static str, T)],
    item: &T,
) -> &'static str {
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
pub(super) fn choice<T: Copy>(
    var: &Var,
    kind: &str,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    lookup(options, &var.value)
        .ok_or_else(|| var.error(format_args!("is not {kind}; use one of {}", names(options))))
}

/// A comma-separated list of distinct `options`, or `none` alone for an empty list.
pub(super) fn list<T: Copy + PartialEq>(
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

/// The non-empty entries of a comma-separated list, trimmed.
pub(super) fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `stderr` or `stdout` (in any case), else the path of a file; the file is opened when
/// `init()` sets up.
pub(super) fn console_output(value: &str) -> ConsoleOutput {
    match value.to_ascii_lowercase().as_str() {
        "stderr" => ConsoleOutput::Stderr,
        "stdout" => ConsoleOutput::Stdout,
        _ => ConsoleOutput::File(value.into()),
    }
}

/// `true` or `false`, ignoring ASCII case.
pub(super) fn boolean(var: &Var) -> Result<bool, ConfigError> {
    choice(var, "a boolean", &[("true", true), ("false", false)])
}

/// A positive whole number of milliseconds.
pub(super) fn millis(var: &Var) -> Result<Duration, ConfigError> {
    match var.value.parse() {
        Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        _ => Err(var.error("is not a duration; use a positive whole number of milliseconds")),
    }
}

/// A positive whole number.
pub(super) fn size(var: &Var) -> Result<usize, ConfigError> {
    match var.value.parse() {
        Ok(size) if size > 0 => Ok(size),
        _ => Err(var.error("is not a size; use a positive whole number")),
    }
}

/// A TCP port to listen on, 1 to 65535.
pub(super) fn port(var: &Var) -> Result<u16, ConfigError> {
    match var.value.parse() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(var.error("is not a port; use a number from 1 to 65535")),
    }
}

/// A host name or IP address to listen on; an IPv6 address is returned in brackets, ready for
/// `host:port`.
pub(super) fn host(var: &Var) -> Result<String, ConfigError> {
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
pub(super) fn ratio(var: &Var) -> Result<f64, ConfigError> {
    match var.value.parse() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(var.error("is not a ratio; use a number from 0 to 1")),
    }
}

/// An `http://` URL with a host. `https://` is an error: the exporters are built without TLS.
pub(super) fn url(var: &Var) -> Result<String, ConfigError> {
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
pub(super) type Pairs = Vec<(String, String)>;

/// Comma-separated `key=value` pairs, keys and values percent-decoded (W3C Baggage syntax,
/// without properties).
pub(super) fn pairs(var: &Var) -> Result<Pairs, ConfigError> {
    var.value.split(',').map(|entry| pair(var, entry)).collect()
}

/// OTLP headers: [`pairs`] that can be sent as they are, with names of HTTP headers and values
/// of visible ASCII and spaces (what gRPC metadata allows, and HTTP with it); over gRPC, no
/// binary (`-bin`) metadata keys.
pub(super) fn headers(var: &Var, protocol: OtlpProtocol) -> Result<Pairs, ConfigError> {
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
}
