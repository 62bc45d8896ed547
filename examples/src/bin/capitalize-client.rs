//! The OpenCensus tutorial's interactive client, traced: `capitalize-client ADDR` reads lines
//! from stdin (prompt `> `), sends each to the `rpc.Fetch` server at `ADDR` and prints the
//! capitalized reply; it exits at the end of input (Ctrl-D), or at Ctrl-C or SIGTERM once the
//! call in flight, if any, is answered, flushing its telemetry either way.
//!
//! Each call is a trace of its own, its CLIENT span carrying the payload's `id` and `len`
//! (from the annotations in `proto/capitalize.proto`); the server's SERVER span joins the
//! same trace through the `traceparent` metadata. With nothing configured each trace prints on
//! stderr as a waterfall when its call ends, apart from the replies on stdout; with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set they go there.
//!
//! The tutorial's client metrics: with nothing configured a table of the calls (count, latency,
//! bytes) prints on stderr at exit; with `OTEL_METRICS_EXPORTER=prometheus` they are served
//! while the client runs on `http://localhost:9464/metrics` (`rpc_client_duration_milliseconds`, …) — set
//! `OTEL_EXPORTER_PROMETHEUS_PORT` to another port when the server already serves that one.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use tonic_traced_examples::client_binary;
use tonic_traced_examples::output;
use tonic_traced_examples::rpc::fetch_client::FetchClient;
use tonic_traced_examples::rpc::Payload;
use tonic_traced_examples::{say, warn_line};

#[tokio::main]
async fn main() -> ExitCode {
    output::exit(run().await)
}

/// The client; `Err` of a broken pipe when its output was closed.
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let Some(address) = std::env::args().nth(1) else {
        return Err("usage: capitalize-client ADDR (e.g. 127.0.0.1:9988)".into());
    };
    let telemetry = tonic_traced::Init::default()
        .service_name("capitalize-client")
        .install()?;

    let mut client =
        FetchClient::new(client_binary::traced_channel_to("capitalize-client", &address).await?);

    // Stdin is read on a thread of its own so the runtime's threads never block on it.
    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<std::io::Result<String>>(1);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if lines_tx.blocking_send(line).is_err() {
                return;
            }
        }
    });

    let mut stop = tonic_traced::init::shutdown_signal()?;
    let mut id = 0;
    loop {
        {
            let mut out = std::io::stdout().lock();
            out.write_all(b"> ")?;
            out.flush()?;
        }
        // A signal that came during the last call wins over the lines already typed.
        let line = tokio::select! {
            biased;
            () = &mut stop => None,
            line = lines.recv() => line,
        };
        let Some(line) = line else {
            say!()?;
            break;
        };
        id += 1;
        let payload = Payload {
            id,
            data: line?.into_bytes(),
        };
        match client.capitalize(payload).await {
            Ok(reply) => {
                say!("< {}\n", String::from_utf8_lossy(&reply.into_inner().data))?;
            }
            Err(status) => warn_line!("capitalize-client: the server answered {status}"),
        }
    }

    // Flushes the telemetry: with nothing configured, the metrics table prints.
    telemetry.shutdown()?;
    Ok(())
}
