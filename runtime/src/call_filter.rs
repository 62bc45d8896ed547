//! Which calls are traced: methods left out by name, and a predicate on the call's start.
//! A call left out gets no span and no metrics, but still carries the caller's trace context
//! on, so the calls it makes stay in the caller's trace.

use std::fmt;
use std::sync::Arc;

use crate::call_info::CallStart;

/// The gRPC health service's methods and server reflection's (both versions): the calls
/// [`Config::skip_health_and_reflection`](crate::Config::skip_health_and_reflection) leaves out.
pub const HEALTH_AND_REFLECTION: [&str; 3] = [
    "grpc.health.v1.Health/*",
    "grpc.reflection.v1.ServerReflection/*",
    "grpc.reflection.v1alpha.ServerReflection/*",
];

/// A predicate on a call's start: `true` traces the call.
pub(crate) type Predicate = dyn Fn(&CallStart<'_>) -> bool + Send + Sync;

/// The methods left out by name and the predicates every traced call must pass; empty, it
/// traces every call and costs two checks.
#[derive(Clone, Default)]
pub(crate) struct CallFilter {
    skipped: Vec<MethodPattern>,
    predicates: Vec<Arc<Predicate>>,
}

/// `package.Service/Method`, or `package.Service/*` for all of a service's methods.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MethodPattern {
    Method(String),
    Service(String),
}

/// A method pattern that is neither `package.Service/Method` nor `package.Service/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMethodPattern(pub String);

impl fmt::Display for BadMethodPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} names no method; write package.Service/Method, or package.Service/* for all \
             of a service's methods",
            self.0
        )
    }
}

impl std::error::Error for BadMethodPattern {}

impl MethodPattern {
    fn parse(pattern: &str) -> Result<Self, BadMethodPattern> {
        let bad = || BadMethodPattern(pattern.to_owned());
        let (service, method) = pattern.trim().split_once('/').ok_or_else(bad)?;
        if service.is_empty() || method.is_empty() || method.contains('/') {
            return Err(bad());
        }
        Ok(match method {
            "*" => MethodPattern::Service(service.to_owned()),
            _ => MethodPattern::Method(format!("{service}/{method}")),
        })
    }

    fn matches(&self, call: &CallStart<'_>) -> bool {
        match self {
            MethodPattern::Method(method) => call.method() == method,
            MethodPattern::Service(service) => call.service() == service,
        }
    }
}

impl CallFilter {
    /// Leaves out the methods `patterns` name, each checked before any is kept.
    pub(crate) fn skip_methods<P: AsRef<str>>(
        &mut self,
        patterns: impl IntoIterator<Item = P>,
    ) -> Result<(), BadMethodPattern> {
        let parsed = patterns
            .into_iter()
            .map(|pattern| MethodPattern::parse(pattern.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        self.skipped.extend(parsed);
        Ok(())
    }

    /// Traces only the calls `predicate` returns `true` for, besides the other conditions.
    pub(crate) fn require(&mut self, predicate: Arc<Predicate>) {
        self.predicates.push(predicate);
    }

    /// Whether the call is traced: no pattern names it and every predicate passes it.
    pub(crate) fn traces(&self, call: &CallStart<'_>) -> bool {
        !self.skipped.iter().any(|pattern| pattern.matches(call))
            && self.predicates.iter().all(|predicate| predicate(call))
    }
}

impl fmt::Debug for CallFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFilter")
            .field("skipped", &self.skipped)
            .field("predicates", &self.predicates.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Side;

    fn call(method: &str) -> bool {
        let mut filter = CallFilter::default();
        filter
            .skip_methods(HEALTH_AND_REFLECTION.iter().chain(&["shop.Cart/Ping"]))
            .unwrap();
        let headers = http::HeaderMap::new();
        let extensions = http::Extensions::new();
        filter.traces(&CallStart {
            side: Side::Server,
            method,
            kind: None,
            metadata: &headers,
            extensions: &extensions,
        })
    }

    #[test]
    fn patterns_name_methods_or_whole_services() {
        assert!(!call("grpc.health.v1.Health/Check"));
        assert!(!call("grpc.health.v1.Health/Watch"));
        assert!(!call(
            "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!call("shop.Cart/Ping"));
        assert!(call("shop.Cart/Pay"));
        assert!(call("grpc.health.v1.HealthX/Check"));
        assert!(call("grpc.health.v1/Check"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for bad in ["grpc.health.v1.Health", "/Check", "Health/", "a/b/c", ""] {
            assert_eq!(
                MethodPattern::parse(bad),
                Err(BadMethodPattern(bad.to_owned()))
            );
        }
    }
}
