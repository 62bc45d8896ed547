//! The OpenCensus tutorial's capitalize server and client, as separate processes: the client
//! fed from a pipe prints the replies and, at the end of input, the CLIENT spans; the server
//! prints the SERVER spans of the same traces, each with the payload's `id` and `len`.

mod common;

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{example, run_with_input, start_server};

#[test]
fn client_and_server_trace_each_capitalize_call() {
    let mut server = start_server(
        // The server runs until killed: export every 100 ms so its traces print meanwhile.
        example(env!("CARGO_BIN_EXE_capitalize-server")).env("OTEL_BSP_SCHEDULE_DELAY", "100"),
    );
    let server_out = server.take_stdout();
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
    assert!(
        output.status.success(),
        "the client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("> < HELLO\n"), "{stdout}");
    assert!(stdout.contains("> < WORLD\n"), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "plain output when not on a terminal"
    );

    // One trace per line, each a CLIENT span with the payload's id and length.
    let client_traces: Vec<&str> = stdout.split("\ntrace ").skip(1).collect();
    assert_eq!(client_traces.len(), 2, "{stdout}");
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
        .map(|trace| trace.split_whitespace().next().expect("a trace id"))
        .collect();

    // The server's spans join the client's traces.
    let mut server_stdout = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server_stdout
        .matches("rpc.Fetch/Capitalize  SERVER")
        .count()
        < 2
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                server_stdout.push_str(&line);
                server_stdout.push('\n');
            }
            Err(_) => panic!("the server printed no two SERVER spans:\n{server_stdout}"),
        }
    }
    // The span's attribute line comes right after its name.
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        server_stdout.push_str(&line);
        server_stdout.push('\n');
        if server_stdout.contains("id=2 len=5") {
            break;
        }
    }
    for (trace_id, id) in trace_ids.iter().zip(1..) {
        let trace = server_stdout
            .split("trace ")
            .find(|trace| trace.starts_with(trace_id))
            .unwrap_or_else(|| panic!("the server has no trace {trace_id}:\n{server_stdout}"));
        assert!(trace.contains("rpc.Fetch/Capitalize  SERVER"), "{trace}");
        assert!(
            trace.contains(&format!("id={id} len=5 rpc.grpc.status_code=0")),
            "{trace}"
        );
    }
}
