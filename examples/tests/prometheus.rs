//! The OpenCensus tutorial's Prometheus views, through a real Prometheus server (Debian package
//! `prometheus`): `capitalize-server` serves its RPC metrics on `/metrics`
//! (`OTEL_METRICS_EXPORTER=prometheus`), `capitalize-client` makes a few calls, Prometheus
//! scrapes the server every second, and its query API shows the completed RPCs by method and
//! status, the latency distribution and the bytes sent per RPC, with exact values; with
//! exemplar storage on, the latency buckets' exemplars name the client's traces. A
//! `payment-server` scraped beside it, called by `payment-client` with payments that succeed
//! and fail, shows the completed RPCs split by status code.
//!
//! Without `prometheus` on `PATH` the test is skipped, or fails under `CI=true`:
//! `scripts/test.sh` installs it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{example, free_port, run_with_input, start_server, traces_in, RunningServer};
use prost::Message;
use tonic_traced_examples::rpc::Payload;

/// What the client is fed, one call per line: an empty payload, a non-ASCII one (left as it
/// is) and one long enough for a two-byte length prefix.
fn input_lines() -> Vec<String> {
    vec![
        "hello".to_owned(),
        "world".to_owned(),
        String::new(),
        "OpenCensus → OpenTelemetry".to_owned(),
        "x".repeat(300),
    ]
}

/// How long Prometheus gets to start and scrape the server.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn prometheus_scrapes_completed_rpcs_latency_and_bytes_from_capitalize_server() {
    let Some(prometheus_binary) = prometheus_binary() else {
        let message = "the Prometheus server (`prometheus`) is not on PATH: run scripts/test.sh, \
                       which installs it (Debian package `prometheus`)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
        return;
    };
    let dir = TempDir::new();
    let metrics_port = free_port();
    let server = start_with_metrics_endpoint(env!("CARGO_BIN_EXE_capitalize-server"), metrics_port);
    let payment_metrics_port = free_port();
    let payments =
        start_with_metrics_endpoint(env!("CARGO_BIN_EXE_payment-server"), payment_metrics_port);
    // Approved (OK), declined (FAILED_PRECONDITION), fraud check down (UNAVAILABLE), twice.
    for (amount, expected_exit) in [("99.99", 0), ("7500", 1), ("25000", 1), ("25000", 1)] {
        let output = example(env!("CARGO_BIN_EXE_payment-client"))
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none")
            .args([&payments.address.to_string(), amount])
            .output()
            .expect("payment-client runs");
        assert_eq!(output.status.code(), Some(expected_exit), "{output:?}");
    }

    let lines = input_lines();
    let requests: Vec<Payload> = (1..)
        .zip(&lines)
        .map(|(id, line)| payload(id, line.as_bytes()))
        .collect();
    let replies: Vec<Payload> = requests
        .iter()
        .map(|request| payload(request.id, &request.data.to_ascii_uppercase()))
        .collect();
    let (stdout, stderr) = run_client(server.address, &lines);
    for reply in &replies {
        let line = format!("< {}\n", String::from_utf8_lossy(&reply.data));
        assert!(stdout.contains(&line), "no reply {line:?} in:\n{stdout}");
    }
    // The client prints each call's trace on stderr, `trace <id> · 1 span · …`; the server's
    // spans join them (the server exports none, but samples as its caller did).
    let client_traces: BTreeSet<String> = traces_in(&stderr)
        .iter()
        .map(|trace| {
            trace
                .split_whitespace()
                .nth(1)
                .expect("a trace id")
                .to_owned()
        })
        .collect();
    assert_eq!(client_traces.len(), lines.len(), "{stderr}");

    let mut prometheus = Prometheus::start(
        &prometheus_binary,
        &dir.0,
        &[
            ("capitalize", metrics_port),
            ("payment", payment_metrics_port),
        ],
    );
    let calls = lines.len() as f64;
    let method = [
        ("job", "capitalize"),
        ("rpc_method", "Capitalize"),
        ("rpc_grpc_status_code", "0"),
    ];

    // Completed RPCs by method and status: every call, all OK.
    let completed =
        prometheus.wait_for(r#"rpc_server_duration_milliseconds_count{job="capitalize"}"#);
    let completed = only(completed, "rpc_server_duration_milliseconds_count");
    assert_labels(
        &completed,
        &[
            ("rpc_system", "grpc"),
            ("rpc_service", "rpc.Fetch"),
            ("rpc_method", "Capitalize"),
            ("rpc_grpc_status_code", "0"),
            ("otel_scope_name", "tonic-traced"),
        ],
    );
    assert_eq!(completed.value, calls);

    // Completed RPCs of another server by status code: one OK, one FAILED_PRECONDITION (9),
    // two UNAVAILABLE (14).
    let by_status = prometheus.wait_for(
        r#"sum by (rpc_method, rpc_grpc_status_code) (rpc_server_duration_milliseconds_count{job="payment"})"#,
    );
    let by_status: BTreeMap<(String, String), f64> = by_status
        .into_iter()
        .map(|series| {
            let label = |name: &str| series.labels.get(name).cloned().unwrap_or_default();
            (
                (label("rpc_method"), label("rpc_grpc_status_code")),
                series.value,
            )
        })
        .collect();
    let expected: BTreeMap<(String, String), f64> = [("0", 1.0), ("9", 1.0), ("14", 2.0)]
        .into_iter()
        .map(|(code, calls)| (("ProcessPayment".to_owned(), code.to_owned()), calls))
        .collect();
    assert_eq!(by_status, expected);

    // The latency distribution: cumulative buckets ending with every call in `+Inf`.
    let mut buckets = prometheus.query(&selector(
        "rpc_server_duration_milliseconds_bucket",
        &method,
    ));
    assert!(
        buckets.len() > 1,
        "one bucket series per bound: {buckets:?}"
    );
    let bound = |series: &Series| -> f64 {
        let le = series
            .labels
            .get("le")
            .unwrap_or_else(|| panic!("a bucket has `le`: {series:?}"));
        le.parse()
            .unwrap_or_else(|_| panic!("`le` is a number: {series:?}"))
    };
    buckets.sort_by(|a, b| bound(a).total_cmp(&bound(b)));
    assert!(
        buckets
            .windows(2)
            .all(|pair| pair[0].value <= pair[1].value),
        "cumulative buckets: {buckets:?}"
    );
    let last = buckets.last().expect("buckets");
    assert_eq!(last.labels["le"], "+Inf", "{buckets:?}");
    assert_eq!(last.value, calls, "{buckets:?}");
    let latency = only(
        prometheus.query(&selector("rpc_server_duration_milliseconds_sum", &method)),
        "rpc_server_duration_milliseconds_sum",
    );
    assert!(latency.value > 0.0, "{latency:?}");

    // Bytes and messages per RPC: each call one encoded message each way.
    for (name, expected) in [
        (
            "rpc_server_request_size_bytes_sum",
            encoded_bytes(&requests),
        ),
        (
            "rpc_server_response_size_bytes_sum",
            encoded_bytes(&replies),
        ),
        ("rpc_server_response_size_bytes_count", calls),
        ("rpc_server_requests_per_rpc_sum", calls),
        ("rpc_server_responses_per_rpc_sum", calls),
    ] {
        let series = only(prometheus.query(&selector(name, &method)), name);
        assert_eq!(series.value, expected, "{name}: {series:?}");
    }

    let target = only(
        prometheus.query(r#"target_info{job="capitalize"}"#),
        "target_info",
    );
    assert_labels(&target, &[("service_name", "capitalize-server")]);

    // Exemplars: a latency bucket links to a trace the client made, the call in the bucket.
    let exemplars = prometheus.wait_for_exemplars(&selector(
        "rpc_server_duration_milliseconds_bucket",
        &method,
    ));
    for exemplar in &exemplars {
        let le: f64 = exemplar.series["le"].parse().expect("`le` is a number");
        assert!(
            client_traces.contains(exemplar.labels["trace_id"].as_str()),
            "an exemplar of the client's traces {client_traces:?}: {exemplar:?}"
        );
        assert_eq!(exemplar.labels["span_id"].len(), 16, "{exemplar:?}");
        assert!(
            exemplar.value <= le && exemplar.value > 0.0,
            "the call's duration is in its bucket: {exemplar:?}"
        );
    }
}

fn payload(id: i32, data: &[u8]) -> Payload {
    Payload {
        id,
        data: data.to_vec(),
    }
}

fn encoded_bytes(messages: &[Payload]) -> f64 {
    messages
        .iter()
        .map(|message| message.encoded_len() as f64)
        .sum()
}

/// `name{label="value",…}`.
fn selector(name: &str, labels: &[(&str, &str)]) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(label, value)| format!("{label}={value:?}"))
        .collect();
    format!("{name}{{{}}}", matchers.join(","))
}

/// The `prometheus` executable on `PATH`.
fn prometheus_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
}

/// Starts the server `binary` on a free port, exporting no traces, with its Prometheus
/// endpoint on `127.0.0.1:metrics_port`.
fn start_with_metrics_endpoint(binary: &str, metrics_port: u16) -> RunningServer {
    start_server(
        example(binary)
            .arg("127.0.0.1:0")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "prometheus")
            .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
            .env("OTEL_EXPORTER_PROMETHEUS_PORT", metrics_port.to_string()),
    )
}

/// Feeds `lines` to `capitalize-client address` through a pipe; its stdout, with the replies,
/// and its stderr, with the waterfall of each call's trace and nothing else.
fn run_client(address: SocketAddr, lines: &[String]) -> (String, String) {
    let input: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let output = run_with_input(
        example(env!("CARGO_BIN_EXE_capitalize-client"))
            .env("OTEL_METRICS_EXPORTER", "none")
            // The examples' binaries hold the payment messages' HASH field: with a key, as
            // deployed, setup has nothing to warn about.
            .env("TONIC_TRACED_HASH_KEY", "prometheus-test-key")
            .arg(address.to_string()),
        &input,
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 output");
    assert!(
        output.status.success()
            && stderr
                .split("\n\n")
                .all(|block| block.is_empty() || block.starts_with("trace ")),
        "the client failed or complained:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("tonic-traced-prometheus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Prometheus server scraping one target every second, killed however the test ends.
struct Prometheus {
    child: Child,
    port: u16,
    /// The scraped targets: job name and port.
    targets: Vec<(String, u16)>,
    log: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One series of an instant query's answer.
#[derive(Debug)]
struct Series {
    labels: BTreeMap<String, String>,
    value: f64,
}

/// One exemplar of an exemplar query's answer, with the labels of its series.
#[derive(Debug)]
struct Exemplar {
    series: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Prometheus {
    /// Starts `binary` in `dir` (configuration, data, log) scraping each job of `targets` at
    /// `127.0.0.1:port`, with exemplar storage on.
    fn start(binary: &Path, dir: &Path, targets: &[(&str, u16)]) -> Self {
        let config = dir.join("prometheus.yml");
        let jobs: String = targets
            .iter()
            .map(|(job, port)| {
                format!(
                    "  - job_name: {job}\n    static_configs:\n      \
                     - targets: [\"127.0.0.1:{port}\"]\n"
                )
            })
            .collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}"
            ),
        )
        .expect("the configuration is written");
        let log = dir.join("prometheus.log");
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--enable-feature=exemplar-storage")
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("the log file is created"))
            .spawn()
            .expect("prometheus starts");
        Prometheus {
            child,
            port,
            targets: targets
                .iter()
                .map(|(job, port)| (job.to_string(), *port))
                .collect(),
            log,
        }
    }

    /// The answer to `promql` once it has a series: Prometheus is up and has scraped.
    fn wait_for(&mut self, promql: &str) -> Vec<Series> {
        let deadline = Instant::now() + SCRAPE_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", self.diagnostics());
            }
            match self.try_query(promql) {
                Some(series) if !series.is_empty() => return series,
                _ if Instant::now() > deadline => panic!(
                    "no series for {promql} within {SCRAPE_TIMEOUT:?}:\n{}",
                    self.diagnostics()
                ),
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// The exemplars of the series `promql` selects, once there are any.
    fn wait_for_exemplars(&self, promql: &str) -> Vec<Exemplar> {
        let deadline = Instant::now() + SCRAPE_TIMEOUT;
        let path = format!("/api/v1/query_exemplars?query={}", url_encoded(promql));
        loop {
            let (status, body) = http_get(self.port, &path)
                .unwrap_or_else(|error| panic!("prometheus stopped answering: {error}"));
            assert_eq!(status, 200, "prometheus refused {promql}: {body}");
            let exemplars = exemplars(&json::parse(&body), promql);
            if !exemplars.is_empty() {
                return exemplars;
            }
            assert!(
                Instant::now() < deadline,
                "no exemplars for {promql} within {SCRAPE_TIMEOUT:?}:\n{}",
                self.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The answer to `promql`.
    fn query(&self, promql: &str) -> Vec<Series> {
        self.try_query(promql)
            .unwrap_or_else(|| panic!("prometheus stopped answering:\n{}", self.diagnostics()))
    }

    /// The answer to `promql`, or `None` while Prometheus does not answer yet.
    fn try_query(&self, promql: &str) -> Option<Vec<Series>> {
        let path = format!("/api/v1/query?query={}", url_encoded(promql));
        let (status, body) = http_get(self.port, &path).ok()?;
        if status == 503 {
            return None; // starting up
        }
        assert_eq!(status, 200, "prometheus refused {promql}: {body}");
        Some(instant_vector(&json::parse(&body), promql))
    }

    /// The targets' state, what the servers serve and Prometheus's log.
    fn diagnostics(&self) -> String {
        let up = match self.try_query("up") {
            Some(series) => format!("{series:?}"),
            None => "no answer".to_owned(),
        };
        let mut text = format!("up: {up}\n");
        for (job, port) in &self.targets {
            let metrics = match http_get(*port, "/metrics") {
                Ok((status, body)) => format!("{status}\n{body}"),
                Err(error) => error.to_string(),
            };
            text += &format!("/metrics of {job}: {metrics}\n");
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        text + &format!("prometheus log:\n{log}")
    }
}

/// The series of a query API answer of type `vector`.
fn instant_vector(answer: &json::Value, promql: &str) -> Vec<Series> {
    assert_eq!(answer["status"].as_str(), "success", "{promql}: {answer:?}");
    let data = &answer["data"];
    assert_eq!(
        data["resultType"].as_str(),
        "vector",
        "{promql}: {answer:?}"
    );
    data["result"]
        .as_array()
        .iter()
        .map(|series| {
            let labels = series["metric"]
                .as_object()
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().to_owned()))
                .collect();
            // `[time, "value"]`
            let value = series["value"].as_array()[1].as_str();
            Series {
                labels,
                value: value
                    .parse()
                    .unwrap_or_else(|_| panic!("a sample value: {value:?}")),
            }
        })
        .collect()
}

/// The exemplars of an exemplar query's answer.
fn exemplars(answer: &json::Value, promql: &str) -> Vec<Exemplar> {
    assert_eq!(answer["status"].as_str(), "success", "{promql}: {answer:?}");
    let labels = |object: &json::Value| -> BTreeMap<String, String> {
        object
            .as_object()
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().to_owned()))
            .collect()
    };
    let mut found = Vec::new();
    for series in answer["data"].as_array() {
        for exemplar in series["exemplars"].as_array() {
            let value = exemplar["value"].as_str();
            found.push(Exemplar {
                series: labels(&series["seriesLabels"]),
                labels: labels(&exemplar["labels"]),
                value: value
                    .parse()
                    .unwrap_or_else(|_| panic!("an exemplar value: {value:?}")),
            });
        }
    }
    found
}

fn only(mut series: Vec<Series>, name: &str) -> Series {
    assert_eq!(series.len(), 1, "one series of {name}: {series:?}");
    series.remove(0)
}

fn assert_labels(series: &Series, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(
            series.labels.get(*name).map(String::as_str),
            Some(*value),
            "{name}: {series:?}"
        );
    }
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `GET path` from `127.0.0.1:port` over HTTP/1.0, whose server closes the connection after
/// the body: the status code and the body.
fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, response.clone());
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(invalid)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(invalid)?;
    Ok((status, body.to_owned()))
}

/// Just enough JSON for the query API's answers (serde_json is no dependency of the examples).
mod json {
    use std::ops::Index;

    #[derive(Debug)]
    pub enum Value {
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
        /// A number, `true`, `false` or `null`: the answers give sample values as strings.
        Other,
    }

    impl Value {
        pub fn as_str(&self) -> &str {
            match self {
                Value::String(text) => text,
                other => panic!("not a string: {other:?}"),
            }
        }

        pub fn as_array(&self) -> &[Value] {
            match self {
                Value::Array(items) => items,
                other => panic!("not an array: {other:?}"),
            }
        }

        pub fn as_object(&self) -> &[(String, Value)] {
            match self {
                Value::Object(members) => members,
                other => panic!("not an object: {other:?}"),
            }
        }
    }

    impl Index<&str> for Value {
        type Output = Value;

        fn index(&self, key: &str) -> &Value {
            self.as_object()
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value)
                .unwrap_or_else(|| panic!("no {key:?} in {self:?}"))
        }
    }

    pub fn parse(text: &str) -> Value {
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let value = parser.value();
        parser.skip_space();
        assert_eq!(parser.at, text.len(), "one JSON value: {text}");
        value
    }

    struct Parser<'a> {
        text: &'a [u8],
        at: usize,
    }

    impl Parser<'_> {
        fn value(&mut self) -> Value {
            self.skip_space();
            match self.next() {
                b'{' => {
                    let mut members = Vec::new();
                    self.sequence(b'}', |parser| {
                        parser.skip_space();
                        parser.expect(b'"');
                        let name = parser.string();
                        parser.skip_space();
                        parser.expect(b':');
                        members.push((name, parser.value()));
                    });
                    Value::Object(members)
                }
                b'[' => {
                    let mut items = Vec::new();
                    self.sequence(b']', |parser| items.push(parser.value()));
                    Value::Array(items)
                }
                b'"' => Value::String(self.string()),
                _ => {
                    while self.at < self.text.len() && !b",]} \t\r\n".contains(&self.text[self.at])
                    {
                        self.at += 1;
                    }
                    Value::Other
                }
            }
        }

        /// Comma-separated items up to `close`, after the opening bracket.
        fn sequence(&mut self, close: u8, mut item: impl FnMut(&mut Self)) {
            self.skip_space();
            if self.text.get(self.at) == Some(&close) {
                self.at += 1;
                return;
            }
            loop {
                item(self);
                self.skip_space();
                match self.next() {
                    b',' => {}
                    byte if byte == close => return,
                    byte => panic!("unexpected {:?} at {} of the JSON", byte as char, self.at),
                }
            }
        }

        /// A string's characters up to its closing quote, after the opening one.
        fn string(&mut self) -> String {
            let mut bytes = Vec::new();
            loop {
                match self.next() {
                    b'"' => return String::from_utf8(bytes).expect("UTF-8 JSON"),
                    b'\\' => match self.next() {
                        b'u' => {
                            let hex = std::str::from_utf8(&self.text[self.at..self.at + 4])
                                .expect("hex digits");
                            self.at += 4;
                            let code = u32::from_str_radix(hex, 16).expect("hex digits");
                            let char = char::from_u32(code).expect("no surrogate pairs here");
                            bytes.extend_from_slice(char.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        b'n' => bytes.push(b'\n'),
                        b't' => bytes.push(b'\t'),
                        b'r' => bytes.push(b'\r'),
                        b'b' => bytes.push(0x08),
                        b'f' => bytes.push(0x0c),
                        escaped => bytes.push(escaped), // `"`, `\` and `/`
                    },
                    byte => bytes.push(byte),
                }
            }
        }

        fn skip_space(&mut self) {
            while self.at < self.text.len() && self.text[self.at].is_ascii_whitespace() {
                self.at += 1;
            }
        }

        fn expect(&mut self, byte: u8) {
            let found = self.next();
            assert_eq!(found as char, byte as char, "at {} of the JSON", self.at);
        }

        fn next(&mut self) -> u8 {
            let byte = *self.text.get(self.at).expect("the JSON goes on");
            self.at += 1;
            byte
        }
    }
}
