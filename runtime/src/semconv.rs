//! Which OpenTelemetry RPC semantic conventions to emit, from `OTEL_SEMCONV_STABILITY_OPT_IN`.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::KeyValue;

use crate::keys;

/// The attribute sets to emit: the old conventions (the default, as the migration rules
/// require), the stable ones (`rpc`), or both (`rpc/dup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemconvMode {
    /// `rpc.system`, `rpc.service`, short `rpc.method`, `rpc.grpc.status_code`.
    pub old: bool,
    /// `rpc.system.name`, fully-qualified `rpc.method`, `rpc.status_code`, `error.type`.
    pub stable: bool,
}

/// An entry of the opt-in list that starts with `rpc` but is neither `rpc` nor `rpc/dup`: a
/// typo, most likely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRpcOptIn(pub String);

impl fmt::Display for UnknownRpcOptIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "has {:?}, which is not an RPC opt-in; use rpc or rpc/dup (entries of other \
             categories, such as http, are left to their instrumentations)",
            self.0
        )
    }
}

impl SemconvMode {
    /// The old conventions only: the default.
    pub const OLD: SemconvMode = SemconvMode {
        old: true,
        stable: false,
    };
    /// The stable conventions only: `rpc`.
    pub const STABLE: SemconvMode = SemconvMode {
        old: false,
        stable: true,
    };
    /// Both: `rpc/dup`.
    pub const DUP: SemconvMode = SemconvMode {
        old: true,
        stable: true,
    };

    /// Parses the comma-separated opt-in list, entries trimmed and compared ignoring ASCII
    /// case. Entries of other categories (`http`, `database`, …) belong to other
    /// instrumentations and are skipped; an `rpc…` entry other than `rpc` and `rpc/dup` is an
    /// error.
    pub fn from_opt_in(value: &str) -> Result<Self, UnknownRpcOptIn> {
        let mut mode = SemconvMode::OLD;
        for entry in value.split(',').map(str::trim) {
            let lowercase = entry.to_ascii_lowercase();
            match lowercase.as_str() {
                "rpc/dup" => mode = SemconvMode::DUP,
                "rpc" if mode == SemconvMode::OLD => mode = SemconvMode::STABLE,
                "rpc" => {}
                other if other.starts_with("rpc") => return Err(UnknownRpcOptIn(entry.to_owned())),
                _ => {}
            }
        }
        Ok(mode)
    }

    /// Pushes the attributes that name a call's method: `rpc.system`, `rpc.service` and the
    /// short `rpc.method` (old); `rpc.system.name` and the fully-qualified `rpc.method`
    /// (stable, which also wins the one `rpc.method` key in `rpc/dup`).
    pub(crate) fn push_method_attributes(
        self,
        attributes: &mut Vec<KeyValue>,
        service: Cow<'static, str>,
        method: Cow<'static, str>,
        full_name: Cow<'static, str>,
    ) {
        if self.old {
            attributes.push(KeyValue::new(keys::RPC_SYSTEM, "grpc"));
            attributes.push(KeyValue::new(keys::RPC_SERVICE, service));
        }
        let method = if self.stable {
            attributes.push(KeyValue::new(keys::RPC_SYSTEM_NAME, "grpc"));
            full_name
        } else {
            method
        };
        attributes.push(KeyValue::new(keys::RPC_METHOD, method));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_in_values() {
        let mode = |value| SemconvMode::from_opt_in(value).unwrap();
        assert_eq!(mode(""), SemconvMode::OLD);
        assert_eq!(mode("http"), SemconvMode::OLD);
        assert_eq!(mode("database/dup, http"), SemconvMode::OLD);
        assert_eq!(mode("rpc"), SemconvMode::STABLE);
        assert_eq!(mode("http, rpc"), SemconvMode::STABLE);
        assert_eq!(mode(" RPC "), SemconvMode::STABLE);
        assert_eq!(mode("rpc/dup"), SemconvMode::DUP);
        assert_eq!(mode("Rpc/Dup"), SemconvMode::DUP);
        assert_eq!(mode("rpc,rpc/dup"), SemconvMode::DUP);
        assert_eq!(mode("rpc/dup,rpc"), SemconvMode::DUP);
    }

    #[test]
    fn rpc_typos_are_errors() {
        for (value, entry) in [
            ("rpc/dupe", "rpc/dupe"),
            ("http,rpcdup", "rpcdup"),
            ("rpc/", "rpc/"),
            ("rpc/dup, RPC_DUP", "RPC_DUP"),
        ] {
            assert_eq!(
                SemconvMode::from_opt_in(value),
                Err(UnknownRpcOptIn(entry.to_owned()))
            );
        }
    }
}
