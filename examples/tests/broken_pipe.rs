//! `cargo run --bin demo | head`: the example binaries stop quietly when the reader of their
//! output goes away, whether that is stdout (their own lines) or stderr too (the waterfalls,
//! the metrics table, the log lines): no panic, and a successful exit.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::example;

/// How long a binary may take to notice and stop; the demo alone takes about 1.5 s.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Waits for `child`, killing it after [`TIMEOUT`].
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("the example can be waited for") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the example did not stop within {TIMEOUT:?} of its output closing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts `status` is a clean exit: not a panic (101), not an abort (134, or SIGABRT), not
/// a signal.
#[track_caller]
fn assert_quiet_exit(binary: &str, status: ExitStatus, stderr: &str) {
    assert!(!stderr.contains("panicked"), "{binary} panicked:\n{stderr}");
    assert_eq!(
        status.code(),
        Some(0),
        "{binary} did not stop quietly ({status}):\n{stderr}"
    );
}

/// Runs `binary` with its stdout a pipe that is closed after the first line; its stderr is
/// read to the end.
fn stdout_closed_early(binary: &str) {
    let mut child = example(binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(!first.is_empty(), "{binary} printed nothing");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr is read");
    let status = wait(&mut child);
    assert_quiet_exit(binary, status, &stderr);
}

/// Runs `binary` with both its stdout and its stderr pipes closed after its first line on
/// stdout; what it would have said about a panic is lost, so only its exit status tells.
fn both_closed_early(binary: &str) {
    let mut child = example(binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    drop(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    drop(stdout);
    let status = wait(&mut child);
    assert_quiet_exit(binary, status, "(stderr closed)");
}

#[test]
fn demo_stops_quietly_when_stdout_is_closed() {
    stdout_closed_early(env!("CARGO_BIN_EXE_demo"));
}

#[test]
fn demo_stops_quietly_when_stdout_and_stderr_are_closed() {
    both_closed_early(env!("CARGO_BIN_EXE_demo"));
}

#[test]
fn streams_demo_stops_quietly_when_its_output_is_closed() {
    stdout_closed_early(env!("CARGO_BIN_EXE_streams-demo"));
    both_closed_early(env!("CARGO_BIN_EXE_streams-demo"));
}
