//! Runs the example binaries as a new user would, with none of the test's own telemetry
//! settings: to completion, splitting what they printed into waterfalls, or as servers that
//! live until the test ends.

// Each test binary uses a part of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A command for `binary` with none of the test's settings (see [`without_test_settings`]).
pub fn example(binary: &str) -> Command {
    let mut command = Command::new(binary);
    without_test_settings(&mut command);
    command
}

/// Removes the test's `OTEL_*` variables, `TONIC_TRACED_CONFIG_STRICT`, `RUST_LOG` and `PORT`
/// from `command`, and turns colours off.
pub fn without_test_settings(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OTEL_") {
            command.env_remove(name);
        }
    }
    command
        .env_remove("TONIC_TRACED_CONFIG_STRICT")
        .env_remove("RUST_LOG")
        .env_remove("PORT")
        .env("NO_COLOR", "1")
}

/// Runs `binary` with `args` and nothing configured; asserts it exits 0 and prints no escape
/// codes. Returns its stdout, its stderr, and the traces the console printed on its stderr,
/// each a header line (`trace <id> · N spans · …`) and its tree.
pub fn run_example(binary: &str, args: &[&str]) -> (String, String, Vec<String>) {
    let (output, traces) = run_example_with(example(binary).args(args));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "{binary} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr, traces)
}

/// Runs `command` to its end, whatever its exit status; asserts it printed no escape codes and
/// no trace on stdout. Returns its output and the traces on its stderr, as [`run_example`] does.
pub fn run_example_with(command: &mut Command) -> (Output, Vec<String>) {
    let output = command.output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "plain output when not on a terminal"
    );
    assert!(
        traces_in(&stdout).is_empty(),
        "traces kept apart from the application's output:\n{stdout}"
    );
    let traces = traces_in(&stderr);
    (output, traces)
}

/// The traces the console printed in `text`: each starts a line and ends at a blank line.
pub fn traces_in(text: &str) -> Vec<String> {
    format!("\n{text}")
        .split("\ntrace ")
        .skip(1)
        .map(|trace| {
            let trace = trace.split_once("\n\n").map_or(trace, |(trace, _)| trace);
            format!("trace {trace}\n")
        })
        .collect()
}

/// The one trace containing `needle`.
pub fn trace_with<'a>(traces: &'a [String], needle: &str) -> &'a str {
    traces
        .iter()
        .find(|trace| trace.contains(needle))
        .unwrap_or_else(|| panic!("no trace contains {needle:?}: {traces:#?}"))
}

/// Runs `command` fed `input` on its stdin; what it printed once it has exited.
pub fn run_with_input(command: &mut Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("the program reads its input");
    child.wait_with_output().expect("the program runs")
}

/// A server started by [`start_server`], killed however the test ends.
pub struct RunningServer {
    /// Where it listens, from its first line.
    pub address: SocketAddr,
    child: Child,
    /// Its stdout after the first line, kept open so that later output does not fail on a
    /// closed pipe, until the test takes it.
    stdout: Option<BufReader<ChildStdout>>,
    /// Its stderr (logs and console traces), until the test takes it.
    stderr: Option<BufReader<ChildStderr>>,
}

impl RunningServer {
    /// Sends `signal` (e.g. `libc::SIGTERM`) to the server.
    #[cfg(unix)]
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) only reads its two integer arguments.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "{}", std::io::Error::last_os_error());
    }

    /// Waits at most `limit` for the server to exit; its exit status and everything it wrote on
    /// stderr that the test did not take. Panics, with that stderr, when it is still running
    /// then.
    pub fn wait_for_exit(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the server's status") {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        if let Some(mut rest) = self.stderr.take() {
            rest.read_to_string(&mut stderr)
                .expect("the server's stderr");
        }
        match status {
            Some(status) => (status, stderr),
            None => panic!("the server still ran {limit:?} later; stderr:\n{stderr}"),
        }
    }

    /// Its stdout after the first line, for the test to read.
    pub fn take_stdout(&mut self) -> BufReader<ChildStdout> {
        self.stdout
            .take()
            .expect("the server's stdout is taken once")
    }

    /// Its stderr, where its logs and console traces go, for the test to read.
    pub fn take_stderr(&mut self) -> BufReader<ChildStderr> {
        self.stderr
            .take()
            .expect("the server's stderr is taken once")
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server `command` runs and reads its address from its first line,
/// `listening on ADDR`; panics with that line and its stderr when it is not.
pub fn start_server(command: &mut Command) -> RunningServer {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the server prints");
    let address = first.trim_end().strip_prefix("listening on ");
    let Some(address) = address.and_then(|address| address.parse().ok()) else {
        let _ = child.kill();
        let mut stderr = String::new();
        let _ = child
            .stderr
            .take()
            .expect("piped stderr")
            .read_to_string(&mut stderr);
        let _ = child.wait();
        panic!("the server's first line is not `listening on ADDR`: {first:?}\nstderr:\n{stderr}");
    };
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    RunningServer {
        address,
        child,
        stdout: Some(stdout),
        stderr: Some(stderr),
    }
}

/// The number right after `before` on `line`.
pub fn number_after(line: &str, before: &str) -> u64 {
    let value = line
        .split(before)
        .nth(1)
        .unwrap_or_else(|| panic!("no {before:?} in {line}"));
    value
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {before:?} in {line}"))
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A collector that accepts TCP connections on loopback and never answers: every export to it
/// hangs until the exporter's own timeout. The sockets stay open as long as the process.
pub fn silent_collector() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("the listener's address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    address
}
