//! The Prometheus blocks of the docs are checked by Prometheus's own `promtool` (Debian package
//! `prometheus`): every `yaml` block that is a rule file (it starts with `groups:`) passes
//! `promtool check rules`, every `promql` block parses as a rule's expression, and the alert of
//! docs/metrics.md for spans dropped before export fires on a drop and not without one
//! (`promtool test rules`).
//!
//! Without `promtool` on `PATH` the tests are skipped, or fail under `CI=true`:
//! `scripts/test.sh` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use tonic_traced_docs_check::markdown::{documents, Block};

/// The `promtool` executable on `PATH`; `None`, after a notice, when it is not there. Under
/// `CI=true` a missing `promtool` fails the test instead.
fn promtool_or_skip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("promtool"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let message = "Prometheus's `promtool` is not on PATH: run scripts/test.sh, which \
                       installs it (Debian package `prometheus`)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    found
}

/// Runs `promtool` with `args` in `dir`; fails the test, with what it said and `context`,
/// unless it succeeds.
fn promtool(binary: &Path, dir: &Path, args: &[&str], context: &str) {
    let output = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    assert!(
        output.status.success(),
        "{context}: promtool {}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The blocks of every document in `lang` whose code passes `keep`.
fn blocks(lang: &str, keep: impl Fn(&Block) -> bool) -> Vec<Block> {
    documents()
        .iter()
        .flat_map(|document| document.blocks())
        .filter(|block| block.lang() == lang && keep(block))
        .collect()
}

/// The rule files the docs show.
fn rule_files() -> Vec<Block> {
    blocks("yaml", |block| block.code.starts_with("groups:"))
}

/// `code` as a block scalar of YAML indented by `indent` spaces.
fn indented(code: &str, indent: usize) -> String {
    code.lines()
        .map(|line| format!("{:indent$}{line}\n", ""))
        .collect()
}

#[test]
fn rule_files_and_queries_pass_promtool() {
    let Some(binary) = promtool_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rules = rule_files();
    assert!(!rules.is_empty(), "docs/metrics.md shows a rule file");
    for block in &rules {
        std::fs::write(dir.path().join("rules.yaml"), &block.code).unwrap();
        promtool(
            binary.as_path(),
            dir.path(),
            &["check", "rules", "rules.yaml"],
            &block.at(),
        );
    }
    let queries = blocks("promql", |_| true);
    assert!(!queries.is_empty(), "docs/metrics.md shows queries");
    for block in &queries {
        let file = format!(
            // `|2`: the block's lines are indented 2 spaces past `expr`'s 8, whatever the
            // first line's own indentation.
            "groups:\n  - name: docs\n    rules:\n      - record: docs:query\n        expr: |2\n{}",
            indented(&block.code, 10)
        );
        std::fs::write(dir.path().join("query.yaml"), file).unwrap();
        promtool(
            binary.as_path(),
            dir.path(),
            &["check", "rules", "query.yaml"],
            &block.at(),
        );
    }
}

/// The alert fires for the service whose counter of dropped spans grows, with the summary
/// the docs give, and not for the one whose counter stays still.
#[test]
fn dropped_spans_alert_fires_on_a_drop_only() {
    let Some(binary) = promtool_or_skip() else {
        return;
    };
    let rules = rule_files();
    let block = rules
        .iter()
        .find(|block| block.code.contains("alert: SpansDroppedBeforeExport"))
        .expect("docs/metrics.md shows the SpansDroppedBeforeExport alert");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), &block.code).unwrap();
    let dropped = r#"otel_sdk_processor_span_processed_total{error_type="queue_full""#;
    let test = format!(
        r#"rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: '{dropped},job="order",instance="order:9464"}}'
        values: '0 0 0 120 120'
      - series: '{dropped},job="payment",instance="payment:9464"}}'
        values: '0 0 0 0 0'
    alert_rule_test:
      - eval_time: 1m
        alertname: SpansDroppedBeforeExport
        exp_alerts: []
      - eval_time: 4m
        alertname: SpansDroppedBeforeExport
        exp_alerts:
          - exp_labels:
              severity: warning
              job: order
              instance: order:9464
            exp_annotations:
              summary: "order:9464 dropped 120 spans in 10 minutes: its span queue was full"
              description: "The collector does not take spans as fast as order ends them. Check the collector's health and throughput, or raise OTEL_BSP_MAX_QUEUE_SIZE (memory) or lower OTEL_BSP_SCHEDULE_DELAY."
"#
    );
    std::fs::write(dir.path().join("test.yaml"), test).unwrap();
    promtool(
        binary.as_path(),
        dir.path(),
        &["test", "rules", "test.yaml"],
        &block.at(),
    );
}
