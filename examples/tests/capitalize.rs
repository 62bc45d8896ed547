//! The OpenCensus tutorial's capitalize server and client, as separate processes: the client
//! fed from a pipe prints the replies on stdout and each CLIENT span on stderr; the server
//! prints the SERVER spans of the same traces on its stderr, each with the payload's `id` and
//! `len`, as soon as each call ends.

mod common;

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{example, run_with_input, start_server, traces_in};

/// A batch delay no test waits for: a trace printed within it was printed when its call ended.
const LONG_BATCH_DELAY_MS: &str = "60000";

#[test]
fn client_and_server_trace_each_capitalize_call() {
    let mut server = start_server(
        example(env!("CARGO_BIN_EXE_capitalize-server"))
            .env("OTEL_BSP_SCHEDULE_DELAY", LONG_BATCH_DELAY_MS),
    );
    let server_out = server.take_stderr();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in server_out.lines() {
            let Ok(line) = line else { return };
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });

    let output = run_with_input(
        example(env!("CARGO_BIN_EXE_capitalize-client")).arg(server.address.to_string()),
        "hello\nworld\n",
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "the client failed:\n{stdout}\n{stderr}"
    );
    // Only the application's own output on stdout, with no trace in between.
    assert_eq!(stdout, "> < HELLO\n\n> < WORLD\n\n> \n");
    assert!(
        !stderr.contains('\x1b'),
        "plain output when not on a terminal"
    );

    // One trace per line, each a CLIENT span with the payload's id and length.
    let client_traces = traces_in(&stderr);
    assert_eq!(client_traces.len(), 2, "{stderr}");
    for (trace, id) in client_traces.iter().zip(1..) {
        let lines: Vec<&str> = trace.lines().collect();
        assert!(lines[0].contains("· 1 span "), "{trace}");
        assert!(
            lines[1].starts_with("rpc.Fetch/Capitalize  CLIENT") && lines[1].ends_with("OK"),
            "{trace}"
        );
        assert!(
            lines[2].contains(&format!("id={id} len=5 rpc.grpc.status_code=0")),
            "{trace}"
        );
        assert!(
            !trace.contains("hello") && !trace.contains("world"),
            "{trace}"
        );
    }
    let trace_ids: Vec<&str> = client_traces
        .iter()
        .map(|trace| trace.split_whitespace().nth(1).expect("a trace id"))
        .collect();

    // The server's spans join the client's traces, printed long before the batch delay.
    let mut server_stderr = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server_stderr
        .matches("rpc.Fetch/Capitalize  SERVER")
        .count()
        < 2
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                server_stderr.push_str(&line);
                server_stderr.push('\n');
            }
            Err(_) => panic!("the server printed no two SERVER spans:\n{server_stderr}"),
        }
    }
    // The span's attribute line comes right after its name.
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        server_stderr.push_str(&line);
        server_stderr.push('\n');
        if server_stderr.contains("id=2 len=5") {
            break;
        }
    }
    for (trace_id, id) in trace_ids.iter().zip(1..) {
        let trace = server_stderr
            .split("trace ")
            .find(|trace| trace.starts_with(trace_id))
            .unwrap_or_else(|| panic!("the server has no trace {trace_id}:\n{server_stderr}"));
        assert!(trace.contains("rpc.Fetch/Capitalize  SERVER"), "{trace}");
        assert!(
            trace.contains(&format!("id={id} len=5 rpc.grpc.status_code=0")),
            "{trace}"
        );
    }
}
