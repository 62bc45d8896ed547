//! Peers in other languages for the interop tests: a program built with that language's
//! official OpenTelemetry gRPC instrumentation, run as a child process, that serves or calls
//! and writes each span it finished to a file as one JSON object a line.
//!
//! The peers share one command line (`-spans FILE serve ADDR`, `-spans FILE call ADDR
//! TRACEPARENT [TRACESTATE]`, see `tests/go/main.go`): `serve` prints `{"port": N}` and
//! stops gracefully when its stdin closes; `call` prints `{"calls": [...]}`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use opentelemetry::trace::TraceId;
use serde_json::Value as Json;

/// Whether a peer's toolchain (`what`) is on this machine: a missing one fails the test under
/// `CI=true` and skips it elsewhere, with a notice.
pub fn toolchain_present(present: bool, what: &str) -> bool {
    if !present {
        assert!(std::env::var("CI").is_err(), "{what} is required under CI");
        eprintln!("skipping: {what} is not installed");
    }
    present
}

/// Whether `program args` runs and succeeds.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

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

/// Runs a peer's `call` command to its end; returns the calls it reports.
pub async fn run_calls(mut command: Command) -> Vec<Json> {
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let calls: Json = serde_json::from_str(last)
        .unwrap_or_else(|error| panic!("{error}: no calls in {stdout:?}"));
    calls["calls"].as_array().unwrap().clone()
}

/// A peer's `serve` command, running: killed if dropped before [`PeerServer::stop`] (a
/// failed assertion does not leave it behind).
pub struct PeerServer {
    /// `None` once stopped.
    child: Option<Child>,
    port: u16,
}

impl PeerServer {
    /// Starts `command` and waits for the port it listens on.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = serde_json::from_str::<Json>(&first)
            .ok()
            .and_then(|line| line["port"].as_u64())
            .unwrap_or_else(|| panic!("no port from the peer: {first:?}"));
        Self {
            child: Some(child),
            port: u16::try_from(port).unwrap(),
        }
    }

    /// Its loopback address.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Closes its stdin, so that it stops gracefully and flushes its spans, and waits for it.
    pub async fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        drop(child.stdin.take());
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "the peer server failed: {status}");
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
