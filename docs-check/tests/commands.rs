//! Every command the docs show — the lines of ```sh/```console/```bash blocks and inline
//! `cargo run …` spans of README.md, docs/*.md, deploy/README.md and BENCHMARKS.md — is either
//! run here, its exit status and key output checked, or listed below with the reason it cannot
//! run here. A command that is neither fails the test, so no command joins the docs unchecked.

use std::collections::BTreeMap;
use std::process::Output;
use std::sync::OnceLock;

use tonic_traced_docs_check::commands_target_dir;
use tonic_traced_docs_check::markdown::{documents, repo};

/// A command as the docs show it.
#[derive(Debug)]
struct Shown {
    /// `file:line` where it is shown.
    at: String,
    /// The command, continuation lines joined, without its comment.
    text: String,
    /// Its trailing `# …` comment, if any.
    comment: String,
}

/// What checks the output of a command that runs here; `Err` says what is wrong.
type Check = fn(&Shown, &Output) -> Result<(), String>;

/// Commands run here, from the repository's root through `sh -c`, with none of the test's
/// `OTEL_*`/`TONIC_TRACED_*`/`RUST_LOG`/`NO_COLOR` settings, with `KEY` set to [`KEY`] and
/// Cargo building in a folder of its own ([`commands_target_dir`]).
const RUN: &[(&str, Check)] = &[
    ("cargo run -p tonic-traced-examples --bin demo", demo),
    (
        "NO_COLOR=1 cargo run -q -p tonic-traced-examples --bin demo",
        demo_without_colour,
    ),
    (
        "cargo run -p tonic-traced-examples --bin streams-demo",
        streams_demo,
    ),
    (
        "printf %s cust-123 | openssl dgst -sha256 -hmac \"$KEY\" | awk '{print $2}' | cut -c1-16",
        keyed_hash,
    ),
    ("printf %s cust-123 | sha256sum | cut -c1-16", unkeyed_hash),
];

/// Commands shown exactly so, and why they do not run here.
const NOT_HERE: &[(&str, &str)] = &[
    ("./scripts/test.sh", "the test command itself, which runs this test (CI: .ci/run)"),
    (
        "OTEL_SERVICE_NAME=payment-service OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4317 cargo run --release",
        "runs the reader's own service, in their project, against their collector",
    ),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run -p tonic-traced-lean-example",
        "needs a collector on localhost:4317; examples/lean/tests/own_pipeline.rs runs the \
         example against a real OTLP receiver",
    ),
    (
        "export OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4317",
        "points the shell at deploy/'s collector, which only deploy/'s stack runs",
    ),
    (
        "JAEGER=${JAEGER:-http://localhost:16686}",
        "the address of the Jaeger queries that follow it; tests/tests/jaeger_queries.rs runs \
         the queries with it pointing at a real Jaeger",
    ),
    (
        "now=$(date +%s)",
        "the time range of the Jaeger queries that follow it; tests/tests/jaeger_queries.rs \
         runs them",
    ),
    (
        "IMAGE=registry.example.com/team/tonic-traced-examples:0.1.0",
        "names the reader's registry",
    ),
    (
        "sed -i \"s#image: tonic-traced-examples:0.1.0#image: $IMAGE#\" deploy/kubernetes/{payment-service,order-service,payment-client}.yaml",
        "rewrites the manifests for the reader's registry",
    ),
    (
        "openssl rand -hex 32 > deploy/secrets/hash-key",
        "would overwrite the repository's placeholder key",
    ),
    (
        "git update-index --skip-worktree deploy/secrets/hash-key",
        "changes the index of the reader's clone",
    ),
    (
        "cargo bench -p tonic-traced-benches",
        "minutes of benchmarks; cargo test --all-targets runs each benchmark once",
    ),
    (
        "nice -n -10 cargo bench -p tonic-traced-benches",
        "minutes of benchmarks, as root; cargo test --all-targets runs each benchmark once",
    ),
    (
        "cargo bench -p tonic-traced-benches -- unary",
        "minutes of benchmarks; cargo test --all-targets runs each benchmark once",
    ),
    (
        "cargo bench -p tonic-traced-benches -- client_unary",
        "minutes of benchmarks; cargo test --all-targets runs each benchmark once",
    ),
    (
        "scripts/bench-e2e.sh",
        "~8.5 min of load; cargo test -p tonic-traced-benches runs the e2e binary's smoke test",
    ),
    (
        "scripts/bench-e2e.sh --rounds 5",
        "~8.5 min of load; cargo test -p tonic-traced-benches runs the e2e binary's smoke test",
    ),
    (
        "E2E_SWEEP= scripts/bench-e2e.sh",
        "minutes of load; cargo test -p tonic-traced-benches runs the e2e binary's smoke test",
    ),
    (
        "E2E_SWEEP= scripts/bench-e2e.sh --streams-only --modes traced+totals --messages 1000",
        "minutes of load; cargo test -p tonic-traced-benches runs the e2e binary's smoke test",
    ),
    (
        "OTEL_BSP_MAX_QUEUE_SIZE=65536 scripts/bench-e2e.sh",
        "~8.5 min of load; cargo test -p tonic-traced-benches runs the e2e binary's smoke test",
    ),
    (
        "scripts/callgrind.sh",
        "~5 min of load under valgrind; cargo test -p tonic-traced-benches runs the e2e \
         binary's smoke test",
    ),
];

/// Programs none of whose commands can run here, and why.
const NOT_HERE_PROGRAMS: &[(&str, &str)] = &[
    ("docker", "needs a Docker engine, which CI does not have"),
    ("kind", "needs a kind cluster"),
    ("minikube", "needs a minikube cluster"),
    ("kubectl", "needs a Kubernetes cluster"),
    (
        "curl",
        "queries a Jaeger query service: tests/tests/jaeger_queries.rs runs \
         docs/finding-calls.md's against a real Jaeger behind deploy/'s collectors",
    ),
    (
        "payment-server",
        "the example installed on PATH, exporting to deploy/'s collector; \
         examples/tests/servers.rs runs it on loopback",
    ),
    (
        "payment-client",
        "the example installed on PATH, calling the payment-server above; \
         examples/tests/servers.rs runs it",
    ),
];

/// The hash key the keyed-hash command is run with, as `$KEY`.
const KEY: &str = "docs-check-key";

/// Splits a shell line into the command and its `# comment` (a `#` at the start or after a
/// space, outside quotes).
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote = None;
    let mut previous = ' ';
    for (index, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => {
                return (line[..index].trim(), line[index + 1..].trim());
            }
            _ => {}
        }
        previous = c;
    }
    (line.trim(), "")
}

/// The program a command runs: its first word after leading `NAME=value` assignments.
fn program(text: &str) -> &str {
    text.split_whitespace()
        .find(|word| !word.contains('=') || word.starts_with('-'))
        .unwrap_or_default()
}

/// The commands the documents show.
fn shown() -> Vec<Shown> {
    let mut commands = Vec::new();
    for document in documents() {
        for block in document.blocks() {
            if !matches!(block.lang(), "sh" | "console" | "bash" | "shell") {
                continue;
            }
            let mut pending = String::new();
            let mut start = 0;
            for (offset, line) in block.code.lines().enumerate() {
                let line = line.trim().trim_start_matches("$ ");
                if pending.is_empty() {
                    start = block.line + 1 + offset;
                }
                if let Some(continued) = line.strip_suffix('\\') {
                    pending.push_str(continued.trim());
                    pending.push(' ');
                    continue;
                }
                pending.push_str(line);
                let (text, comment) = split_comment(&pending);
                if !text.is_empty() {
                    commands.push(Shown {
                        at: format!("{}:{start}", block.file),
                        text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                        comment: comment.to_owned(),
                    });
                }
                pending.clear();
            }
        }
        for span in document.code_spans() {
            if program(&span.code) == "cargo" && span.code.contains("cargo run") {
                commands.push(Shown {
                    at: span.at,
                    text: span.code,
                    comment: String::new(),
                });
            }
        }
    }
    commands
}

/// Every command shown is run here or listed with the reason it is not, and every command
/// listed is still shown (a list entry outliving its command is removed, not kept).
#[test]
fn every_command_shown_is_run_or_listed_with_a_reason() {
    let commands = shown();
    let mut unknown = Vec::new();
    for command in &commands {
        let listed = RUN.iter().any(|(text, _)| *text == command.text)
            || NOT_HERE.iter().any(|(text, _)| *text == command.text)
            || NOT_HERE_PROGRAMS
                .iter()
                .any(|(name, _)| *name == program(&command.text));
        if !listed {
            unknown.push(format!("{}: {}", command.at, command.text));
        }
    }
    assert!(
        unknown.is_empty(),
        "commands the docs show that docs-check/tests/commands.rs neither runs nor lists as not \
         runnable here; add each to RUN (with a check of its output) or to NOT_HERE (with the \
         reason):\n{}",
        unknown.join("\n")
    );
    let listed = RUN
        .iter()
        .map(|(text, _)| *text)
        .chain(NOT_HERE.iter().map(|(text, _)| *text));
    for text in listed {
        assert!(
            commands.iter().any(|command| command.text == text),
            "docs-check/tests/commands.rs lists `{text}`, which no document shows any more; \
             remove it from the list"
        );
    }
}

/// Runs `text` with `sh -c` from the repository's root, as a reader would, with at most ten
/// minutes (the first `cargo run` compiles the examples).
fn run(text: &str) -> Output {
    let mut command = std::process::Command::new("timeout");
    command
        .args(["--kill-after=10", "600", "sh", "-c", text])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", commands_target_dir())
        .env("KEY", KEY)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") || name.starts_with("TONIC_TRACED_") {
            command.env_remove(name);
        }
    }
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run `{text}`: {error}"))
}

/// The commands that run here work: each exits 0 and prints what the docs say it does.
#[test]
fn commands_that_run_here_work() {
    let checks: BTreeMap<&str, Check> = RUN.iter().copied().collect();
    let mut failures = Vec::new();
    let mut outputs: BTreeMap<String, Output> = BTreeMap::new();
    for command in shown() {
        let Some(check) = checks.get(command.text.as_str()) else {
            continue;
        };
        let output = outputs.entry(command.text.clone()).or_insert_with(|| {
            let started = std::time::Instant::now();
            let output = run(&command.text);
            eprintln!(
                "{}: `{}` ran in {:.1?}",
                command.at,
                command.text,
                started.elapsed()
            );
            output
        });
        let verdict = if output.status.success() {
            check(&command, output)
        } else {
            Err(format!("it exited with {}", output.status))
        };
        if let Err(problem) = verdict {
            failures.push(format!(
                "{}: `{}`: {problem}\n--- stdout:\n{}\n--- stderr:\n{}",
                command.at,
                command.text,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "commands shown in the docs do not do what the docs say; fix the command or the \
         text around it:\n{}",
        failures.join("\n\n")
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a reader sees in the terminal: stdout, then stderr (where the console exporter
/// prints traces unless `TONIC_TRACED_CONSOLE_OUTPUT` says otherwise).
fn terminal(output: &Output) -> String {
    stdout(output) + &String::from_utf8_lossy(&output.stderr)
}

/// Checks that `text` contains each of `wanted`.
fn contains_all(text: &str, wanted: &[&str]) -> Result<(), String> {
    match wanted.iter().find(|part| !text.contains(**part)) {
        Some(missing) => Err(format!("its output lacks {missing:?}")),
        None => Ok(()),
    }
}

/// The demo: payment and order services on loopback, their traces as waterfalls.
fn demo(_: &Shown, output: &Output) -> Result<(), String> {
    let terminal = terminal(output);
    if !terminal.lines().any(|line| line.starts_with("trace ")) {
        return Err("it printed no waterfall (no `trace …` header)".into());
    }
    contains_all(
        &terminal,
        &[
            "a payment: txn-123 approved",
            "payment.PaymentService/ProcessPayment",
            "payment.OrderService/StreamOrderUpdates",
        ],
    )
}

/// The demo as docs/setup.md runs it for its sample output: the same, without colours.
fn demo_without_colour(shown: &Shown, output: &Output) -> Result<(), String> {
    demo(shown, output)?;
    match terminal(output).contains('\u{1b}') {
        true => Err("NO_COLOR=1 still printed escape codes".into()),
        false => Ok(()),
    }
}

/// The streaming demo: client streaming and bidi calls, traced.
fn streams_demo(_: &Shown, output: &Output) -> Result<(), String> {
    contains_all(
        &terminal(output),
        &[
            "files.FileService/Upload",
            "chat.ChatService/Chat",
            "message RECEIVED",
        ],
    )
}

/// The value the hash commands hash: the word after `printf %s`.
fn hashed_value(shown: &Shown) -> &str {
    shown
        .text
        .split("printf %s ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a hash command starts with printf %s VALUE")
}

/// The keyed-hash recipe gives what the runtime records for a `HASH` field under that key.
fn keyed_hash(shown: &Shown, output: &Output) -> Result<(), String> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tonic_traced::Config::new()
            .hash_key(KEY)
            .install()
            .expect("the only configuration of this test process");
    });
    let runtime = tonic_traced::redact::hash(hashed_value(shown).as_bytes());
    let printed = stdout(output);
    match printed.trim() == runtime.as_str() {
        true => Ok(()),
        false => Err(format!(
            "it printed {:?}; the runtime hashes {:?} under the key {KEY:?} to {:?}",
            printed.trim(),
            hashed_value(shown),
            runtime.as_str()
        )),
    }
}

/// The unkeyed-hash recipe prints the hash its comment quotes (the value the README's
/// `record_attributes` block asserts for `customer.id`).
fn unkeyed_hash(shown: &Shown, output: &Output) -> Result<(), String> {
    let quoted = shown.comment.split_whitespace().last().unwrap_or_default();
    let printed = stdout(output);
    match printed.trim() == quoted {
        true => Ok(()),
        false => Err(format!(
            "it printed {:?}, but its comment says {quoted:?}",
            printed.trim()
        )),
    }
}
