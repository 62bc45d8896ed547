//! The end-to-end load comparison: real tonic servers over loopback TCP, each instrumented one
//! way, and a closed-loop load generator; see `run.rs` for the method and BENCHMARKS.md for
//! the results. `scripts/bench-e2e.sh` builds and runs it.
//!
//! ```text
//! e2e run    [--rounds 3] [--secs 4] [--warmup 0.75] [--concurrency 16] [--messages 100]
//!            [--sweep RATE,RATE,…] [--no-pin] [--smoke] [--streams-only] [--modes MODE,MODE,…]
//! e2e server --mode plain|hand|hand+totals|peer|traced|traced+metrics|traced+events|traced+totals
//! e2e load   --port P [--server-pid PID] --workload unary|stream --caller sampled|unsampled
//!            [--client plain|hand|traced|traced+metrics] [--send-traceparent]
//!            [--secs S] [--warmup S] [--concurrency N] [--rate CALLS_PER_S] [--messages N]
//! ```

mod cpu;
mod hand;
mod load;
mod run;
mod server;
mod telemetry;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How a server is instrumented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerMode {
    /// Plain tonic, no OpenTelemetry at all.
    Plain,
    /// The minimal hand-written OpenTelemetry instrumentation (`hand.rs`).
    Hand,
    /// The same, with message counts and bytes on the RPC span instead of a span per message:
    /// the floor of `traced+totals`. Streams only.
    HandTotals,
    /// `tonic-tracing-opentelemetry` 0.42's server layer with its recommended setup.
    Peer,
    /// `#[traced_service]`, RPC metrics off.
    Traced,
    /// `#[traced_service]` with the RPC metrics recorded by an SDK meter provider.
    TracedMetrics,
    /// `#[traced_service(messages = events)]`, RPC metrics off: an event on the RPC span per
    /// streamed message instead of a span. Measured on streams only: its unary service is
    /// `traced`'s.
    TracedEvents,
    /// `#[traced_service(messages = totals)]`, RPC metrics off: nothing per streamed message
    /// but its count and bytes on the RPC span. Streams only, as `traced+events`.
    TracedTotals,
}

impl ServerMode {
    const ALL: [ServerMode; 8] = [
        ServerMode::Plain,
        ServerMode::Hand,
        ServerMode::HandTotals,
        ServerMode::Peer,
        ServerMode::Traced,
        ServerMode::TracedMetrics,
        ServerMode::TracedEvents,
        ServerMode::TracedTotals,
    ];

    /// Whether the mode differs from another on streams only.
    fn streams_only(self) -> bool {
        matches!(
            self,
            ServerMode::HandTotals | ServerMode::TracedEvents | ServerMode::TracedTotals
        )
    }
}

/// How the load generator's client is instrumented (the client comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientMode {
    Plain,
    Hand,
    Traced,
    TracedMetrics,
}

impl ClientMode {
    const ALL: [ClientMode; 4] = [
        ClientMode::Plain,
        ClientMode::Hand,
        ClientMode::Traced,
        ClientMode::TracedMetrics,
    ];
}

/// What each call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `Rootless/Ping`.
    Unary,
    /// `HTTPThings/WatchHTTPThings`, `--messages` responses.
    Stream,
}

macro_rules! names {
    ($type:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $name),* })
            }
        }
        impl FromStr for $type {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($name => Ok(Self::$variant),)*
                    other => Err(format!("unknown {}: {other}", stringify!($type)).into()),
                }
            }
        }
    };
}

names!(ServerMode {
    Plain => "plain",
    Hand => "hand",
    HandTotals => "hand+totals",
    Peer => "peer",
    Traced => "traced",
    TracedMetrics => "traced+metrics",
    TracedEvents => "traced+events",
    TracedTotals => "traced+totals",
});
names!(ClientMode {
    Plain => "plain",
    Hand => "hand",
    Traced => "traced",
    TracedMetrics => "traced+metrics",
});
names!(Workload {
    Unary => "unary",
    Stream => "stream",
});

/// `--key value` pairs and `--flag`s.
struct Args(HashMap<String, Option<String>>);

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, Error> {
        let mut map = HashMap::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let key = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {arg}"))?
                .to_owned();
            let value = match args.peek() {
                Some(next) if !next.starts_with("--") => args.next(),
                _ => None,
            };
            map.insert(key, value);
        }
        Ok(Args(map))
    }

    fn flag(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn get<T: FromStr>(&self, key: &str) -> Result<Option<T>, Error>
    where
        T::Err: fmt::Display,
    {
        match self.0.get(key) {
            None => Ok(None),
            Some(None) => Err(format!("--{key} needs a value").into()),
            Some(Some(value)) => value
                .parse()
                .map(Some)
                .map_err(|error| format!("--{key} {value}: {error}").into()),
        }
    }

    fn or<T: FromStr>(&self, key: &str, default: T) -> Result<T, Error>
    where
        T::Err: fmt::Display,
    {
        Ok(self.get(key)?.unwrap_or(default))
    }

    fn seconds(&self, key: &str, default: f64) -> Result<Duration, Error> {
        Ok(Duration::from_secs_f64(self.or(key, default)?))
    }
}

fn main() -> Result<(), Error> {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().unwrap_or_default();
    let args = Args::parse(argv)?;
    match command.as_str() {
        "server" => server::serve(args.get("mode")?.ok_or("server needs --mode")?),
        "load" => load::run(load::LoadArgs {
            port: args.get("port")?.ok_or("load needs --port")?,
            server_pid: args.get("server-pid")?,
            workload: args.or("workload", Workload::Unary)?,
            sampled: args.or("caller", "sampled".to_owned())? == "sampled",
            client: args.or("client", ClientMode::Plain)?,
            send_traceparent: args.flag("send-traceparent"),
            warmup: args.seconds("warmup", 0.75)?,
            secs: args.seconds("secs", 4.0)?,
            concurrency: args.or("concurrency", 16)?,
            rate: args.get("rate")?,
            messages: args.or("messages", 100)?,
        }),
        "run" => run::run(&args),
        _ => {
            Err("usage: e2e run|server|load [--options]; see the top of src/bin/e2e/main.rs".into())
        }
    }
}
