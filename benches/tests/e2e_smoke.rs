//! The end-to-end load comparison works: a hand-written and a tonic-traced server answer the
//! load generator for a fraction of a second, export the spans their calls should make, and
//! tonic-traced records every attribute the hand-written floor records. Not timed: nothing here
//! depends on how fast anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const E2E: &str = env!("CARGO_BIN_EXE_e2e");

/// A server process of `mode`, answering `stats` and `shapes` on its stdin.
struct Server {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    port: u16,
}

impl Server {
    fn start(mode: &str) -> Self {
        let mut child = Command::new(E2E)
            .args(["server", "--mode", mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the e2e binary starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let port = read_line(&mut stdout)
            .strip_prefix("ready port=")
            .expect("the server says it is ready")
            .parse()
            .unwrap();
        Server {
            child,
            stdin,
            stdout,
            port,
        }
    }

    fn ask(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Spans exported so far, after a flush.
    fn exported(&mut self) -> u64 {
        self.ask("stats");
        read_line(&mut self.stdout)
            .strip_prefix("stats exported=")
            .expect("an answer to stats")
            .parse()
            .unwrap()
    }

    /// Span name → its attribute keys.
    fn shapes(&mut self) -> BTreeMap<String, BTreeSet<String>> {
        self.ask("shapes");
        let mut shapes = BTreeMap::new();
        loop {
            let line = read_line(&mut self.stdout);
            let Some(shape) = line.strip_prefix("shape ") else {
                assert_eq!(line, "end");
                return shapes;
            };
            let name = shape.split(" [").next().unwrap().to_owned();
            let (_, attributes) = shape.split_once(": ").unwrap();
            let keys = attributes
                .split_whitespace()
                .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_owned()))
                .collect();
            shapes.insert(name, keys);
        }
    }

    /// Runs the load generator against this server; its `result` fields.
    fn load(&self, workload: &str) -> BTreeMap<String, String> {
        let output = Command::new(E2E)
            .args(["load", "--port", &self.port.to_string()])
            .args([
                "--server-pid",
                &self.child.id().to_string(),
                "--send-traceparent",
            ])
            .args([
                "--workload",
                workload,
                "--caller",
                "sampled",
                "--messages",
                "5",
            ])
            .args(["--warmup", "0.1", "--secs", "0.3", "--concurrency", "4"])
            .output()
            .expect("the load generator runs");
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let line = stdout
            .lines()
            .find(|line| line.starts_with("result "))
            .expect("a result line");
        line.split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

fn number(result: &BTreeMap<String, String>, key: &str) -> f64 {
    result[key].parse().unwrap()
}

#[test]
fn servers_answer_the_load_and_export_every_span() {
    let mut shapes = BTreeMap::new();
    for mode in ["hand", "traced"] {
        let mut server = Server::start(mode);
        let mut exported = 0;
        // Unary: one SERVER span per call. Streams of 5: the RPC span, `message RECEIVED`,
        // and five `message SENT`.
        for (workload, spans_per_call) in [("unary", 1), ("stream", 7)] {
            let result = server.load(workload);
            assert!(
                number(&result, "calls") > 0.0,
                "{mode} {workload}: {result:?}"
            );
            assert_eq!(number(&result, "errors"), 0.0);
            assert!(number(&result, "server_cpu_s") > 0.0);
            if workload == "stream" {
                assert_eq!(number(&result, "messages"), 5.0 * number(&result, "calls"));
            }
            let total = number(&result, "total") as u64;
            let before = std::mem::replace(&mut exported, server.exported());
            assert_eq!(
                exported - before,
                total * spans_per_call,
                "{mode} {workload}: every span exported"
            );
        }
        shapes.insert(mode, server.shapes());
    }
    // The same spans, and tonic-traced records at least what the hand-written floor records.
    let (hand, traced) = (&shapes["hand"], &shapes["traced"]);
    assert_eq!(
        hand.keys().collect::<Vec<_>>(),
        traced.keys().collect::<Vec<_>>()
    );
    for (name, keys) in hand {
        let missing: Vec<_> = keys.difference(&traced[name]).collect();
        assert!(missing.is_empty(), "{name}: tonic-traced lacks {missing:?}");
    }
    assert!(hand["Rootless/Ping"].contains("ping.label"));
}

/// Runs streams against `mode`, which should export one span per stream; its attribute keys.
fn one_span_per_stream(mode: &str) -> BTreeSet<String> {
    let mut server = Server::start(mode);
    let result = server.load("stream");
    assert_eq!(number(&result, "errors"), 0.0);
    let total = number(&result, "total") as u64;
    assert!(total > 0, "{result:?}");
    assert_eq!(server.exported(), total, "{mode}: the RPC span only");
    let mut shapes = server.shapes();
    assert_eq!(
        shapes.keys().collect::<Vec<_>>(),
        ["kitchen.sink.v1.HTTPThings/WatchHTTPThings"]
    );
    shapes.pop_first().unwrap().1
}

#[test]
fn message_events_make_one_span_per_stream() {
    let keys = one_span_per_stream("traced+events");
    assert!(!keys.contains("tonic_traced.messages.sent"), "{keys:?}");
}

#[test]
fn message_totals_make_one_span_per_stream_with_its_counts() {
    let keys = one_span_per_stream("traced+totals");
    for key in ["sent", "sent_bytes", "received", "received_bytes"] {
        let key = format!("tonic_traced.messages.{key}");
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}
