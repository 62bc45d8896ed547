//! The console sample of docs/setup.md is real output of the demo: the demo is run as the
//! sentence before the sample says, and each trace the sample shows must be one the demo
//! printed, alike in everything but what varies from run to run (trace ids, offsets,
//! durations, the timeline bars and the column widths they set, the loopback ports, tonic's
//! version in `user-agent`). Span names, kinds, statuses, the tree's shape, every attribute,
//! event and fold line are compared as they are.

use std::process::{Command, Output};

use tonic_traced_docs_check::commands_target_dir;
use tonic_traced_docs_check::markdown::{guide, repo, Block, Document};

/// The command the sample is output of, as the sentence before it quotes it.
const COMMAND: &str = "NO_COLOR=1 cargo run -q -p tonic-traced-examples --bin demo";

/// The sentence that introduces the sample, up to the command.
const INTRODUCTION: &str =
    "Real output of `NO_COLOR=1 cargo run -q -p tonic-traced-examples --bin demo`";

/// The characters of the tree drawn before a span's name or a detail line.
const TREE: &[char] = &[' ', '│', '├', '└', '─'];

/// The document and its block that the introduction is right before.
fn sample() -> (Document, Block) {
    let setup = guide()
        .into_iter()
        .find(|document| document.path == "docs/setup.md")
        .expect("docs/setup.md is part of the guide");
    let introduced = setup
        .text
        .lines()
        .position(|line| line.starts_with(INTRODUCTION))
        .unwrap_or_else(|| panic!("docs/setup.md no longer says {INTRODUCTION:?}…"))
        + 1;
    let block = setup
        .blocks()
        .into_iter()
        .find(|block| block.line > introduced)
        .expect("a block after the introduction");
    // Nothing but the rest of the sentence between the introduction and the sample.
    let between: Vec<&str> = setup.text.lines().collect();
    let between = &between[introduced - 1..block.line - 1];
    assert!(
        between.last().is_some_and(|line| line.is_empty())
            && between[..between.len() - 1]
                .iter()
                .all(|line| !line.is_empty()),
        "{}: the sample is not the block right after {INTRODUCTION:?}",
        block.at()
    );
    assert_eq!(block.lang(), "text", "{}", block.at());
    (setup, block)
}

/// Runs [`COMMAND`] from the repository's root, as a reader would, with none of the test's
/// telemetry settings and at most ten minutes (the first `cargo run` compiles the examples).
fn run_demo() -> Output {
    let mut command = Command::new("timeout");
    command
        .args(["--kill-after=10", "600", "sh", "-c", COMMAND])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", commands_target_dir())
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") || name.starts_with("TONIC_TRACED_") {
            command.env_remove(name);
        }
    }
    let output = command.output().expect("sh runs");
    assert!(
        output.status.success(),
        "{COMMAND} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The traces printed in `text`: each starts a line with `trace ` and ends at a blank line.
fn traces_in(text: &str) -> Vec<String> {
    format!("\n{text}")
        .split("\ntrace ")
        .skip(1)
        .map(|trace| {
            let trace = trace.split_once("\n\n").map_or(trace, |(trace, _)| trace);
            format!("trace {}", trace.trim_end_matches('\n'))
        })
        .collect()
}

/// A trace with what varies between runs replaced, line by line: the tree's glyphs are kept
/// as they are, and the rest of the line is read as words (the bars removed) of which ids,
/// times, ports and tonic's version are replaced.
fn normalized(trace: &str) -> String {
    trace
        .lines()
        .map(|line| {
            let text = line.trim_start_matches(TREE);
            let tree = &line[..line.len() - text.len()];
            let words: Vec<String> = text
                .replace('▇', " ")
                .split_whitespace()
                .map(normalized_word)
                .collect();
            format!("{tree}{}", words.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn normalized_word(word: &str) -> String {
    let digits =
        |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    let time = word.strip_prefix('+').unwrap_or(word);
    let time = time.strip_suffix("ms").or_else(|| time.strip_suffix('s'));
    if time.is_some_and(digits) {
        return "<time>".to_owned();
    }
    if word.len() == 32 && word.chars().all(|c| c.is_ascii_hexdigit()) {
        return "<trace-id>".to_owned();
    }
    if let Some(port) = word.strip_prefix("server.port=") {
        if digits(port) {
            return "server.port=<port>".to_owned();
        }
    }
    match word.split_once("\"tonic/") {
        Some((before, after)) => {
            let version = after.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
            format!("{before}\"tonic/<version>{version}")
        }
        None => word.to_owned(),
    }
}

#[test]
fn normalising_keeps_the_structure_and_drops_what_varies() {
    let printed = "trace 4bf92f3577b34da6a3ce929d0e0e4736 · 24 spans · 216ms\n\
        a.S/M     CLIENT     +0ms   216ms  ▇▇▇▇▇▇  OK\n\
        │  a.id=x server.port=36451 rpc.grpc.request.metadata.user-agent=[\"tonic/0.14.9\"]\n\
        │  └─ … 7 more message spans   +65.4ms   1.2s    ▇▇▇\n\
        │        • done +0.92ms n=2";
    assert_eq!(
        normalized(printed),
        "trace <trace-id> · 24 spans · <time>\n\
         a.S/M CLIENT <time> <time> OK\n\
         │  a.id=x server.port=<port> rpc.grpc.request.metadata.user-agent=[\"tonic/<version>\"]\n\
         │  └─ … 7 more message spans <time> <time>\n\
         │        • done <time> n=2"
    );
    // The tree's shape counts.
    assert_ne!(normalized("│  ├─ a +0ms"), normalized("   ├─ a +0ms"));
    assert_ne!(normalized("├─ a +0ms"), normalized("└─ a +0ms"));
}

#[test]
fn the_console_sample_is_what_the_demo_prints() {
    let (_, block) = sample();
    let shown = traces_in(&block.code);
    assert!(
        !shown.is_empty(),
        "{}: the sample shows no trace",
        block.at()
    );
    let output = run_demo();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let printed = traces_in(&stderr);
    let printed_normalized: Vec<String> = printed.iter().map(|trace| normalized(trace)).collect();
    let mut stale = Vec::new();
    for trace in &shown {
        let expected = normalized(trace);
        if printed_normalized.contains(&expected) {
            continue;
        }
        // The printed trace of the same call, to show what differs.
        let root = expected.lines().nth(1).unwrap_or_default();
        let counterpart = printed_normalized
            .iter()
            .zip(&printed)
            .filter(|(candidate, _)| candidate.lines().nth(1) == Some(root))
            .map(|(_, printed)| printed.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        stale.push(format!(
            "shown:\n{trace}\n\nprinted now (same root span):\n{counterpart}"
        ));
    }
    assert!(
        stale.is_empty(),
        "{}: the console sample no longer matches what `{COMMAND}` prints; replace it with \
         the printed traces:\n\n{}\n\nall it printed on stderr:\n{stderr}",
        block.at(),
        stale.join("\n\n----\n\n")
    );
}
