//! A real Prometheus server (Debian package `prometheus`) for the tests: started in a temporary
//! directory scraping the given targets every second, queried through its HTTP API.
//!
//! Without `prometheus` on `PATH` a test is skipped, or fails under `CI=true`:
//! `scripts/test.sh` installs it.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;

/// The `prometheus` executable on `PATH`; `None`, after a notice on stderr, when it is not
/// there. Under `CI=true` a missing server fails the test instead.
pub fn binary_or_skip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let message = "the Prometheus server (`prometheus`) is not on PATH: run scripts/test.sh, \
                       which installs it (Debian package `prometheus`)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    found
}

/// How long Prometheus gets to start and scrape a target.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(30);

/// `name{label="value",…}`.
pub fn selector(name: &str, labels: &[(&str, &str)]) -> String {
    let matchers: Vec<String> = labels
        .iter()
        .map(|(label, value)| format!("{label}={value:?}"))
        .collect();
    format!("{name}{{{}}}", matchers.join(","))
}

/// A directory of its own under the system's temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
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

/// A Prometheus server scraping its targets every second, killed however the test ends.
pub struct Prometheus {
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
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One exemplar of an exemplar query's answer, with the labels of its series.
#[derive(Debug)]
pub struct Exemplar {
    pub series: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Prometheus {
    /// Starts `binary` in `dir` (configuration, data, log) scraping each job of `targets` at
    /// `127.0.0.1:port`, with exemplar storage on.
    pub fn start(binary: &Path, dir: &Path, targets: &[(&str, u16)]) -> Self {
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
    pub fn wait_for(&mut self, promql: &str) -> Vec<Series> {
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
    pub fn wait_for_exemplars(&self, promql: &str) -> Vec<Exemplar> {
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
    pub fn query(&self, promql: &str) -> Vec<Series> {
        self.try_query(promql)
            .unwrap_or_else(|| panic!("prometheus stopped answering:\n{}", self.diagnostics()))
    }

    /// The answer to `promql`, or `None` while Prometheus does not answer yet.
    pub fn try_query(&self, promql: &str) -> Option<Vec<Series>> {
        let path = format!("/api/v1/query?query={}", url_encoded(promql));
        let (status, body) = http_get(self.port, &path).ok()?;
        if status == 503 {
            return None; // starting up
        }
        assert_eq!(status, 200, "prometheus refused {promql}: {body}");
        Some(instant_vector(&json::parse(&body), promql))
    }

    /// The targets' state, what the servers serve and Prometheus's log.
    pub fn diagnostics(&self) -> String {
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

/// The one series of `series`, `name`'s; fails the test when there are more or none.
pub fn only(mut series: Vec<Series>, name: &str) -> Series {
    assert_eq!(series.len(), 1, "one series of {name}: {series:?}");
    series.remove(0)
}

/// Fails the test unless `series` has each label of `expected` with its value.
pub fn assert_labels(series: &Series, expected: &[(&str, &str)]) {
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
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
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
