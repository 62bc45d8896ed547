//! `e2e run`: the whole comparison, interleaved, and its Markdown report.
//!
//! One server process per server mode, pinned to the server core with `taskset`, started once
//! and kept for the whole run. Each measurement is a fresh `e2e load` process pinned to the
//! other core. Round after round, every (workload, caller) is measured against every server
//! mode in turn (plain, hand, peer, traced, traced+metrics and, on streams, traced+events and
//! traced+totals; then plain, hand, …), then every client mode against the plain server
//! (`--streams-only`: streams alone; `--modes`: only these server modes). After each
//! measurement the server is asked to flush its batch span processor and report how many
//! spans it exported: the difference from the spans its calls should have made is what its
//! queue dropped.
//!
//! The report gives, per mode, the median over rounds of each figure and the median of its
//! per-round ratio to plain tonic in the same round.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Args, ClientMode, Error, ServerMode, Workload};

/// The cores: servers on one, the load generator on the other.
const SERVER_CORE: &str = "0";
const CLIENT_CORE: &str = "1";

struct Options {
    rounds: usize,
    secs: f64,
    warmup: f64,
    concurrency: usize,
    messages: u32,
    pin: bool,
    sweep: Vec<f64>,
    /// Streams only: no unary calls, no client.
    streams_only: bool,
    /// The server modes measured, plain first.
    modes: Vec<ServerMode>,
}

impl Options {
    /// The modes measured on `workload`.
    fn measured_on(&self, workload: Workload) -> impl Iterator<Item = ServerMode> + '_ {
        self.modes
            .iter()
            .copied()
            .filter(move |mode| !mode.streams_only() || workload == Workload::Stream)
    }
}

/// One server process and its control pipes.
struct ServerProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    port: u16,
    exported: u64,
}

impl ServerProcess {
    fn start(exe: &str, mode: ServerMode, pin: bool) -> Result<Self, Error> {
        let mut command = pinned(exe, SERVER_CORE, pin);
        command
            .args(["server", "--mode", &mode.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = command.spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("ready port=")
            .ok_or_else(|| format!("server {mode} did not start: {line:?}"))?
            .parse()?;
        Ok(ServerProcess {
            child,
            stdin,
            stdout,
            port,
            exported: 0,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Spans exported since the last call, after a flush.
    fn exported_since(&mut self) -> Result<u64, Error> {
        writeln!(self.stdin, "stats")?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let total: u64 = line
            .trim()
            .strip_prefix("stats exported=")
            .ok_or_else(|| format!("unexpected answer to stats: {line:?}"))?
            .parse()?;
        Ok(total - std::mem::replace(&mut self.exported, total))
    }

    fn shapes(&mut self) -> Result<Vec<String>, Error> {
        writeln!(self.stdin, "shapes")?;
        self.stdin.flush()?;
        let mut shapes = Vec::new();
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                break;
            }
            match line.trim_end().strip_prefix("shape ") {
                Some(shape) => shapes.push(shape.to_owned()),
                None => break,
            }
        }
        Ok(shapes)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing stdin ends it; kill it in case it hangs.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pinned(exe: &str, core: &str, pin: bool) -> Command {
    if pin {
        let mut command = Command::new("taskset");
        command.args(["-c", core, exe]);
        command
    } else {
        Command::new(exe)
    }
}

/// One measurement, as the load generator reported it.
#[derive(Debug, Clone, Default)]
struct Measured {
    calls: f64,
    messages: f64,
    total: u64,
    errors: u64,
    window_s: f64,
    server_cpu_s: f64,
    client_cpu_s: f64,
    p50_us: f64,
    p99_us: f64,
    /// Spans exported for this measurement's calls (server's, or the client's own).
    exported: u64,
    /// Spans its calls should have made.
    expected: u64,
}

impl Measured {
    fn parse(line: &str) -> Result<Self, Error> {
        let fields: HashMap<&str, &str> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.split_once('='))
            .collect();
        let get = |key: &str| -> Result<f64, Error> {
            Ok(fields
                .get(key)
                .ok_or_else(|| format!("no {key} in {line}"))?
                .parse()?)
        };
        Ok(Measured {
            calls: get("calls")?,
            messages: get("messages")?,
            total: get("total")? as u64,
            errors: get("errors")? as u64,
            window_s: get("window_s")?,
            server_cpu_s: get("server_cpu_s")?,
            client_cpu_s: get("client_cpu_s")?,
            p50_us: get("p50_us")?,
            p99_us: get("p99_us")?,
            exported: get("client_exported")? as u64,
            expected: 0,
        })
    }

    fn calls_per_s(&self) -> f64 {
        self.calls / self.window_s
    }

    fn server_us_per_call(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.calls
    }

    fn server_us_per_message(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.messages
    }

    fn client_us_per_call(&self) -> f64 {
        self.client_cpu_s * 1e6 / self.calls
    }
}

/// Spans a call should make on the server.
fn server_spans(mode: ServerMode, workload: Workload, sampled: bool, messages: u32) -> u64 {
    if !sampled || mode == ServerMode::Plain {
        return 0;
    }
    match (mode, workload) {
        // One span per RPC, ended with the response's headers; nothing per message.
        (ServerMode::Peer, _) => 1,
        (_, Workload::Unary) => 1,
        // One span per RPC, its messages as events on it, or counted on it.
        (
            ServerMode::TracedEvents | ServerMode::TracedTotals | ServerMode::HandTotals,
            Workload::Stream,
        ) => 1,
        // The RPC span, `message RECEIVED` for the request, `message SENT` per response.
        (ServerMode::Hand, Workload::Stream) => 2 + u64::from(messages),
        // The same, up to tonic-traced's default cap of message spans per RPC.
        (_, Workload::Stream) => 1 + (1 + u64::from(messages)).min(MESSAGE_SPANS_PER_RPC),
    }
}

/// tonic-traced's default cap of message spans per RPC (`Config::max_messages_per_rpc`).
const MESSAGE_SPANS_PER_RPC: u64 = 128;

/// A measurement's key: what was called, by whom, against what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Server(Workload, bool, ServerMode),
    Client(bool, ClientMode),
}

fn caller(sampled: bool) -> &'static str {
    if sampled {
        "sampled"
    } else {
        "unsampled"
    }
}

/// Runs one `e2e load` process; its result line and any `shape` lines.
#[allow(clippy::too_many_arguments)]
fn load(
    exe: &str,
    options: &Options,
    port: u16,
    server_pid: Option<u32>,
    workload: Workload,
    sampled: bool,
    client: ClientMode,
    rate: Option<f64>,
) -> Result<Measured, Error> {
    let mut command = pinned(exe, CLIENT_CORE, options.pin);
    command.args([
        "load",
        "--port",
        &port.to_string(),
        "--workload",
        &workload.to_string(),
        "--caller",
        caller(sampled),
        "--client",
        &client.to_string(),
        "--secs",
        &options.secs.to_string(),
        "--warmup",
        &options.warmup.to_string(),
        "--concurrency",
        &options.concurrency.to_string(),
        "--messages",
        &options.messages.to_string(),
    ]);
    if let Some(pid) = server_pid {
        command.args(["--server-pid", &pid.to_string(), "--send-traceparent"]);
    }
    if let Some(rate) = rate {
        command.args(["--rate", &rate.to_string()]);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("load failed ({}): {stdout}", output.status).into());
    }
    let line = stdout
        .lines()
        .find(|line| line.starts_with("result "))
        .ok_or_else(|| format!("no result line: {stdout}"))?;
    Measured::parse(line)
}

pub fn run(args: &Args) -> Result<(), Error> {
    let smoke = args.flag("smoke");
    let options = Options {
        rounds: args.or("rounds", if smoke { 1 } else { 3 })?,
        secs: args.or("secs", if smoke { 0.3 } else { 4.0 })?,
        warmup: args.or("warmup", if smoke { 0.2 } else { 0.75 })?,
        concurrency: args.or("concurrency", 16)?,
        messages: args.or("messages", if smoke { 10 } else { 100 })?,
        pin: !args.flag("no-pin"),
        sweep: match args.get::<String>("sweep")? {
            Some(rates) => rates
                .split(',')
                .map(|rate| rate.parse::<f64>())
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        streams_only: args.flag("streams-only"),
        modes: match args.get::<String>("modes")? {
            Some(modes) => {
                let mut chosen = vec![ServerMode::Plain];
                for mode in modes.split(',') {
                    let mode: ServerMode = mode.parse()?;
                    if !chosen.contains(&mode) {
                        chosen.push(mode);
                    }
                }
                chosen
            }
            None => ServerMode::ALL.to_vec(),
        },
    };
    let exe = std::env::current_exe()?;
    let exe = exe.to_str().ok_or("executable path is not UTF-8")?;
    let started = Instant::now();

    let mut servers: HashMap<ServerMode, ServerProcess> = HashMap::new();
    for &mode in &options.modes {
        servers.insert(mode, ServerProcess::start(exe, mode, options.pin)?);
    }

    let server_keys: Vec<(Workload, bool)> = [
        (Workload::Unary, true),
        (Workload::Unary, false),
        (Workload::Stream, true),
        (Workload::Stream, false),
    ]
    .into_iter()
    .filter(|(workload, _)| !options.streams_only || *workload == Workload::Stream)
    .collect();
    let mut results: HashMap<Key, Vec<Measured>> = HashMap::new();
    for round in 0..options.rounds {
        for &(workload, sampled) in &server_keys {
            for mode in options.measured_on(workload) {
                let server = servers.get_mut(&mode).expect("started");
                let mut measured = load(
                    exe,
                    &options,
                    server.port,
                    Some(server.pid()),
                    workload,
                    sampled,
                    ClientMode::Plain,
                    None,
                )?;
                measured.exported = server.exported_since()?;
                measured.expected =
                    measured.total * server_spans(mode, workload, sampled, options.messages);
                progress(
                    round,
                    &format!("{workload} {} server={mode}", caller(sampled)),
                    &measured,
                );
                results
                    .entry(Key::Server(workload, sampled, mode))
                    .or_default()
                    .push(measured);
            }
        }
        let plain_port = servers[&ServerMode::Plain].port;
        for sampled in [true, false].into_iter().filter(|_| !options.streams_only) {
            for client in ClientMode::ALL {
                let mut measured = load(
                    exe,
                    &options,
                    plain_port,
                    None,
                    Workload::Unary,
                    sampled,
                    client,
                    None,
                )?;
                measured.expected = if client != ClientMode::Plain && sampled {
                    measured.total
                } else {
                    0
                };
                progress(
                    round,
                    &format!("unary {} client={client}", caller(sampled)),
                    &measured,
                );
                results
                    .entry(Key::Client(sampled, client))
                    .or_default()
                    .push(measured);
            }
        }
        // The plain server's exported count stays 0; keep the pipes drained.
        servers
            .get_mut(&ServerMode::Plain)
            .expect("started")
            .exported_since()?;
    }

    let mut report = String::new();
    server_table(&mut report, &results, &server_keys, &options);
    if !options.streams_only {
        client_table(&mut report, &results);
    }

    if !options.sweep.is_empty() {
        sweep(&mut report, exe, &options, &mut servers)?;
    }

    let _ = writeln!(
        report,
        "\nWhat each server mode exported (first span of each name):\n"
    );
    for &mode in &options.modes {
        let shapes = servers.get_mut(&mode).expect("started").shapes()?;
        for shape in shapes {
            let _ = writeln!(report, "- `{mode}`: `{shape}`");
        }
    }
    println!(
        "{} rounds, {} s measured after {} s warm-up per mode and round, {} concurrent calls \
         on one connection, {} messages per stream; servers on core {SERVER_CORE}, load \
         generator on core {CLIENT_CORE}{}; {:.0} s in all.\n",
        options.rounds,
        options.secs,
        options.warmup,
        options.concurrency,
        options.messages,
        if options.pin { "" } else { " (NOT pinned)" },
        started.elapsed().as_secs_f64(),
    );
    print!("{report}");

    let failed: u64 = results.values().flatten().map(|m| m.errors).sum();
    if failed > 0 {
        return Err(format!("{failed} calls failed").into());
    }
    Ok(())
}

fn progress(round: usize, label: &str, measured: &Measured) {
    eprintln!(
        "round {round}: {label:<40} {:>8.0} calls/s  server {:>7.2} µs/call  client {:>7.2} \
         µs/call  p50 {:>6} µs  p99 {:>6} µs  spans {}/{} expected",
        measured.calls_per_s(),
        measured.server_us_per_call(),
        measured.client_us_per_call(),
        measured.p50_us,
        measured.p99_us,
        measured.exported,
        measured.expected,
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// The median over rounds of `figure`, and the median of its per-round ratio to `baseline`.
fn median_and_ratio(
    runs: &[Measured],
    baseline: &[Measured],
    figure: impl Fn(&Measured) -> f64,
) -> (f64, f64) {
    let value = median(runs.iter().map(&figure).collect());
    let ratio = median(
        runs.iter()
            .zip(baseline)
            .map(|(run, base)| figure(run) / figure(base))
            .collect(),
    );
    (value, ratio)
}

/// The median of the per-round difference of `figure` from `baseline`.
fn median_added(
    runs: &[Measured],
    baseline: &[Measured],
    figure: impl Fn(&Measured) -> f64,
) -> f64 {
    median(
        runs.iter()
            .zip(baseline)
            .map(|(run, base)| figure(run) - figure(base))
            .collect(),
    )
}

/// `exported/expected per call` and the dropped spans, summed over rounds.
fn spans(runs: &[Measured]) -> (String, String) {
    let exported: u64 = runs.iter().map(|m| m.exported).sum();
    let expected: u64 = runs.iter().map(|m| m.expected).sum();
    let calls: u64 = runs.iter().map(|m| m.total).sum();
    let per_call = format!(
        "{:.2} / {:.2}",
        exported as f64 / calls as f64,
        expected as f64 / calls as f64
    );
    let dropped = if exported == expected {
        "0".to_owned()
    } else if exported < expected {
        let dropped = expected - exported;
        format!(
            "**{dropped}** ({:.2} %)",
            dropped as f64 * 100.0 / expected as f64
        )
    } else {
        format!("**{} unexpected**", exported - expected)
    };
    (per_call, dropped)
}

fn server_table(
    report: &mut String,
    results: &HashMap<Key, Vec<Measured>>,
    keys: &[(Workload, bool)],
    options: &Options,
) {
    let _ = writeln!(
        report,
        "**Server** (load generator: plain client sending `traceparent`). CPU = the server \
         process's user+system time over the window / calls (unary) or / stream messages \
         ({} per stream); ×plain = median of the per-round ratios to plain tonic.\n",
        options.messages
    );
    let _ = writeln!(
        report,
        "| calls | server | server CPU | ×plain | added | calls/s | ×plain | p50 µs | p99 µs | \
         spans/call exported / expected | dropped |"
    );
    let _ = writeln!(
        report,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for &(workload, sampled) in keys {
        let baseline = &results[&Key::Server(workload, sampled, ServerMode::Plain)];
        for mode in options.measured_on(workload) {
            let runs = &results[&Key::Server(workload, sampled, mode)];
            let figure = match workload {
                Workload::Unary => Measured::server_us_per_call,
                Workload::Stream => Measured::server_us_per_message,
            };
            let (cpu, cpu_ratio) = median_and_ratio(runs, baseline, figure);
            let added = median_added(runs, baseline, figure);
            // A stream message's fraction of a microsecond needs a third decimal.
            let (unit, decimals) = match workload {
                Workload::Unary => ("µs/call", 2),
                Workload::Stream => ("µs/msg", 3),
            };
            let (rate, rate_ratio) = median_and_ratio(runs, baseline, Measured::calls_per_s);
            let (p50, p99) = (
                median(runs.iter().map(|m| m.p50_us).collect()),
                median(runs.iter().map(|m| m.p99_us).collect()),
            );
            let (per_call, dropped) = spans(runs);
            let _ = writeln!(
                report,
                "| {workload} {} | {mode} | {cpu:.decimals$} {unit} | ×{cpu_ratio:.2} | \
                 {added:+.decimals$} | {rate:.0} | ×{rate_ratio:.2} | {p50:.0} | {p99:.0} | \
                 {per_call} | {dropped} |",
                caller(sampled)
            );
        }
    }
}

fn client_table(report: &mut String, results: &HashMap<Key, Vec<Measured>>) {
    let _ = writeln!(
        report,
        "\n**Client** (plain server; unary calls made in a sampled or unsampled caller's \
         context). CPU = the load generator process's user+system time over the window / \
         calls.\n"
    );
    let _ = writeln!(
        report,
        "| caller | client | client CPU µs/call | ×plain | added | calls/s | ×plain | p50 µs | \
         p99 µs | spans/call exported / expected | dropped |"
    );
    let _ = writeln!(
        report,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for sampled in [true, false] {
        let baseline = &results[&Key::Client(sampled, ClientMode::Plain)];
        for client in ClientMode::ALL {
            let runs = &results[&Key::Client(sampled, client)];
            let (cpu, cpu_ratio) = median_and_ratio(runs, baseline, Measured::client_us_per_call);
            let added = median_added(runs, baseline, Measured::client_us_per_call);
            let (rate, rate_ratio) = median_and_ratio(runs, baseline, Measured::calls_per_s);
            let (p50, p99) = (
                median(runs.iter().map(|m| m.p50_us).collect()),
                median(runs.iter().map(|m| m.p99_us).collect()),
            );
            let (per_call, dropped) = spans(runs);
            let _ = writeln!(
                report,
                "| {} | {client} | {cpu:.2} | ×{cpu_ratio:.2} | {added:+.2} | {rate:.0} | \
                 ×{rate_ratio:.2} | {p50:.0} | {p99:.0} | {per_call} | {dropped} |",
                caller(sampled)
            );
        }
    }
}

/// Paced sampled streams against tonic-traced (metrics off) and the hand-written server, at
/// rising rates: where the default queue starts to drop.
fn sweep(
    report: &mut String,
    exe: &str,
    options: &Options,
    servers: &mut HashMap<ServerMode, ServerProcess>,
) -> Result<(), Error> {
    let _ = writeln!(
        report,
        "\n**Queue sweep**: sampled streams of {} messages ({} spans each) paced at a target \
         rate, default batch span processor (queue {}).\n",
        options.messages,
        options.messages + 2,
        std::env::var("OTEL_BSP_MAX_QUEUE_SIZE").unwrap_or_else(|_| "2048".to_owned()),
    );
    let _ = writeln!(
        report,
        "| server | target calls/s | calls/s | spans/s | server CPU % of a core | dropped |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|---:|");
    for &rate in &options.sweep {
        for mode in [ServerMode::Traced, ServerMode::Hand] {
            let Some(server) = servers.get_mut(&mode) else {
                continue;
            };
            let mut measured = load(
                exe,
                options,
                server.port,
                Some(server.pid()),
                Workload::Stream,
                true,
                ClientMode::Plain,
                Some(rate),
            )?;
            measured.exported = server.exported_since()?;
            measured.expected =
                measured.total * server_spans(mode, Workload::Stream, true, options.messages);
            progress(0, &format!("sweep {rate}/s server={mode}"), &measured);
            let (_, dropped) = spans(std::slice::from_ref(&measured));
            let calls_per_s = measured.calls_per_s();
            let _ = writeln!(
                report,
                "| {mode} | {rate:.0} | {calls_per_s:.0} | {:.0} | {:.0} % | {dropped} |",
                calls_per_s * (options.messages + 2) as f64,
                measured.server_cpu_s * 100.0 / measured.window_s,
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}
