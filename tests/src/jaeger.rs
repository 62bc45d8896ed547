//! Jaeger v2 (`github.com/jaegertracing/jaeger/cmd/jaeger` v1.75.0, the `tool` of
//! `tests/jaeger/go.mod`) with in-memory storage, and its HTTP query API (`/api/traces`, what
//! the UI and docs/finding-calls.md use), read with `curl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value as Json;

use crate::go;
use crate::process::{free_port, Program};

/// The Go module whose `tool` is Jaeger, and the configuration the tests run it with.
const MODULE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/jaeger");
/// How long Jaeger may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The Jaeger binary, built once per test binary into `out`; `None` when the test skips (no
/// Go, not under CI).
pub fn binary(out: &Path) -> Option<&'static Path> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            go::build(
                Path::new(MODULE),
                "github.com/jaegertracing/jaeger/cmd/jaeger",
                out,
                "jaeger",
            )
        })
        .as_deref()
}

/// A running Jaeger, stopped on drop.
pub struct Jaeger {
    _program: Program,
    /// Its OTLP gRPC receiver's port.
    pub otlp_grpc: u16,
    /// The query service's HTTP port (the API and the UI).
    pub query: u16,
}

impl Jaeger {
    /// Starts Jaeger with `tests/jaeger/config.yaml` on free loopback ports.
    pub fn start(binary: &Path, logs: &Path) -> Jaeger {
        let (otlp_grpc, query) = (free_port(), free_port());
        let mut command = Command::new(binary);
        command
            .arg(format!("--config={MODULE}/config.yaml"))
            .env(
                "JAEGER_OTLP_GRPC_ENDPOINT",
                format!("127.0.0.1:{otlp_grpc}"),
            )
            .env("JAEGER_QUERY_ENDPOINT", format!("127.0.0.1:{query}"))
            .env(
                "JAEGER_QUERY_GRPC_ENDPOINT",
                format!("127.0.0.1:{}", free_port()),
            );
        let mut program = Program::start("jaeger", &mut command, logs);
        program.wait_for_port(otlp_grpc, START_TIMEOUT);
        program.wait_for_port(query, START_TIMEOUT);
        Jaeger {
            _program: program,
            otlp_grpc,
            query,
        }
    }

    /// The query service's base URL, e.g. `http://127.0.0.1:16686`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.query)
    }

    /// The traces `/api/traces` finds with the query parameters `params` (URL-encoded here).
    pub fn find_traces(&self, params: &[(&str, &str)]) -> Vec<Trace> {
        let mut command = Command::new("curl");
        command.args(["-sfG", &format!("{}/api/traces", self.url())]);
        for (key, value) in params {
            command.args(["--data-urlencode", &format!("{key}={value}")]);
        }
        let output = command.output().expect("curl runs");
        assert!(output.status.success(), "{command:?}: {output:?}");
        let body: Json = serde_json::from_slice(&output.stdout).unwrap();
        body["data"]
            .as_array()
            .unwrap_or_else(|| panic!("no data: {body}"))
            .iter()
            .map(Trace::from_json)
            .collect()
    }
}

/// A trace as Jaeger's API returns it.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The trace id, 32 hex digits.
    pub id: String,
    /// Its spans, in Jaeger's order.
    pub spans: Vec<Span>,
}

/// A span of a [`Trace`], with its process's service and tags resolved.
#[derive(Debug, Clone)]
pub struct Span {
    pub id: String,
    /// The operation name.
    pub name: String,
    /// The span's `CHILD_OF` reference, if any.
    pub parent: Option<String>,
    /// Microseconds.
    pub duration: u64,
    /// The service (process) that reported it.
    pub service: String,
    /// Its tags (attributes, `span.kind`, `error`, `otel.status_code`, …), as strings.
    pub tags: BTreeMap<String, String>,
    /// Its process's tags (resource attributes), as strings.
    pub process: BTreeMap<String, String>,
}

/// `[{key, value}, …]` as a map of string forms.
fn tag_map(tags: &Json) -> BTreeMap<String, String> {
    tags.as_array()
        .into_iter()
        .flatten()
        .map(|tag| {
            let value = match &tag["value"] {
                Json::String(text) => text.clone(),
                other => other.to_string(),
            };
            (tag["key"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

impl Trace {
    fn from_json(trace: &Json) -> Trace {
        let processes = &trace["processes"];
        let spans = trace["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|span| {
                let process = &processes[span["processID"].as_str().unwrap()];
                let parent = span["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|reference| reference["refType"] == "CHILD_OF")
                    .map(|reference| reference["spanID"].as_str().unwrap().to_owned());
                Span {
                    id: span["spanID"].as_str().unwrap().to_owned(),
                    name: span["operationName"].as_str().unwrap().to_owned(),
                    parent,
                    duration: span["duration"].as_u64().unwrap(),
                    service: process["serviceName"].as_str().unwrap().to_owned(),
                    tags: tag_map(&span["tags"]),
                    process: tag_map(&process["tags"]),
                }
            })
            .collect();
        Trace {
            id: trace["traceID"].as_str().unwrap().to_owned(),
            spans,
        }
    }

    /// The one span named `name` of `service`; panics when there is not exactly one.
    pub fn span(&self, service: &str, name: &str) -> &Span {
        let found: Vec<&Span> = self
            .spans
            .iter()
            .filter(|span| span.service == service && span.name == name)
            .collect();
        assert_eq!(found.len(), 1, "{service} {name} in {self:#?}");
        found[0]
    }
}

impl Span {
    /// The tag `key`'s string form.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}
