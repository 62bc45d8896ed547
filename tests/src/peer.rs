//! Peers in other languages for the interop tests: a program built with that language's
//! official OpenTelemetry gRPC instrumentation, run as a child process, that serves or calls
//! and reports the spans it finished as JSON objects.
//!
//! The Go and Java peers share one command line (`-spans FILE serve ADDR`, `-spans FILE call
//! ADDR TRACEPARENT [TRACESTATE]`, see `tests/go/main.go`) and write each span to `FILE` as
//! one JSON object a line: `serve` prints `{"port": N}` and stops gracefully when its stdin
//! closes; `call` prints `{"calls": [...]}`. The Python peer (`tests/python/interop.py`)
//! serves alike but prints its spans on stdout instead.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};

use opentelemetry::trace::TraceId;
use serde_json::Value as Json;

use crate::process::KilledOnDrop;

/// A file in `dir` for a peer's spans, unique to one test (`name`) of this run.
pub fn spans_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}-{}.jsonl", std::process::id()))
}

/// The spans a peer wrote, one JSON object a line.
pub fn read_spans(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A string field of a span (`""` when absent).
pub fn text(span: &Json, key: &str) -> String {
    span[key].as_str().unwrap_or_default().to_owned()
}

/// The spans of one trace.
pub fn spans_of_trace(spans: &[Json], trace_id: TraceId) -> Vec<Json> {
    spans
        .iter()
        .filter(|span| text(span, "trace_id") == trace_id.to_string())
        .cloned()
        .collect()
}

/// Runs a peer's command to its end, asserting that it succeeded; returns its stdout.
pub async fn run(mut command: Command) -> String {
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs a peer's `call` command to its end; returns the calls it reports.
pub async fn run_calls(command: Command) -> Vec<Json> {
    let stdout = run(command).await;
    let last = stdout.lines().last().unwrap_or_default();
    let calls: Json = serde_json::from_str(last)
        .unwrap_or_else(|error| panic!("{error}: no calls in {stdout:?}"));
    calls["calls"].as_array().unwrap().clone()
}

/// A peer's `serve` command, running: killed if dropped before [`PeerServer::stop`] (a
/// failed assertion does not leave it behind).
pub struct PeerServer {
    child: KilledOnDrop,
    /// Its stdout, after the port.
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl PeerServer {
    /// Starts `command` and reads the port it listens on.
    pub fn start(mut command: Command) -> Self {
        let mut child = KilledOnDrop::spawn(command.stdin(Stdio::piped()).stdout(Stdio::piped()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let port = serde_json::from_str::<Json>(&first)
            .ok()
            .and_then(|line| line["port"].as_u64())
            .unwrap_or_else(|| panic!("no port from the peer: {first:?}"));
        Self {
            child,
            stdout,
            port: u16::try_from(port).unwrap(),
        }
    }

    /// Its loopback address.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Closes its stdin, so that it stops gracefully and flushes its spans, and waits for it;
    /// returns what it printed after the port.
    pub async fn stop(self) -> String {
        let Self {
            mut child,
            mut stdout,
            ..
        } = self;
        drop(child.stdin.take());
        let (status, rest) = tokio::task::spawn_blocking(move || {
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).unwrap();
            (child.wait().unwrap(), rest)
        })
        .await
        .unwrap();
        assert!(status.success(), "the peer server failed: {status}\n{rest}");
        rest
    }
}
