//! Which OpenTelemetry RPC semantic conventions to emit, from `OTEL_SEMCONV_STABILITY_OPT_IN`.

use std::borrow::Cow;
use std::sync::OnceLock;

use opentelemetry::{Key, KeyValue};

static MODE: OnceLock<SemconvMode> = OnceLock::new();

/// The attribute sets to emit: the old conventions (the default, as the migration rules
/// require), the stable ones (`rpc`), or both (`rpc/dup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemconvMode {
    /// `rpc.system`, `rpc.service`, short `rpc.method`, `rpc.grpc.status_code`.
    pub old: bool,
    /// `rpc.system.name`, fully-qualified `rpc.method`, `rpc.response.status_code`, `error.type`.
    pub stable: bool,
}

impl SemconvMode {
    /// Parses the comma-separated opt-in list; values for other domains are ignored.
    pub fn from_opt_in(value: &str) -> Self {
        let mut mode = SemconvMode {
            old: true,
            stable: false,
        };
        for entry in value.split(',').map(str::trim) {
            match entry {
                "rpc" if mode.old => {
                    mode = SemconvMode {
                        old: false,
                        stable: true,
                    }
                }
                "rpc/dup" => {
                    return SemconvMode {
                        old: true,
                        stable: true,
                    }
                }
                _ => {}
            }
        }
        mode
    }

    /// The process-wide mode: as `init()` configured it, else read from the environment on
    /// first use.
    pub fn current() -> Self {
        *MODE.get_or_init(|| {
            SemconvMode::from_opt_in(
                &std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN").unwrap_or_default(),
            )
        })
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
            attributes.push(KeyValue::new(Key::from_static_str("rpc.system"), "grpc"));
            attributes.push(KeyValue::new(Key::from_static_str("rpc.service"), service));
        }
        let method = if self.stable {
            attributes.push(KeyValue::new(
                Key::from_static_str("rpc.system.name"),
                "grpc",
            ));
            full_name
        } else {
            method
        };
        attributes.push(KeyValue::new(Key::from_static_str("rpc.method"), method));
    }

    /// Makes `self` the process-wide mode, unless spans were already made with another.
    pub(crate) fn install(self) {
        let _first_use_wins = MODE.set(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_in_values() {
        let old = SemconvMode {
            old: true,
            stable: false,
        };
        let stable = SemconvMode {
            old: false,
            stable: true,
        };
        let dup = SemconvMode {
            old: true,
            stable: true,
        };
        assert_eq!(SemconvMode::from_opt_in(""), old);
        assert_eq!(SemconvMode::from_opt_in("http"), old);
        assert_eq!(SemconvMode::from_opt_in("rpc"), stable);
        assert_eq!(SemconvMode::from_opt_in("http, rpc"), stable);
        assert_eq!(SemconvMode::from_opt_in("rpc/dup"), dup);
        assert_eq!(SemconvMode::from_opt_in("rpc,rpc/dup"), dup);
    }
}
