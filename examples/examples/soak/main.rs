//! The soak: hostile and huge traffic against the example servers on loopback, for a few
//! minutes, with the figures that show whether tracing stays bounded. `scripts/soak.sh` builds
//! it and the servers (release) and runs it; by hand:
//!
//! ```sh
//! cargo build --release -p tonic-traced-examples --bin payment-server --bin order-server --example soak
//! SOAK_SECONDS=20 target/release/examples/soak [WORK_DIR]
//! ```
//!
//! Each phase starts `payment-server` or `order-server` (found next to this binary's
//! `examples/` folder) on a free port with `OTEL_EXPORTER_OTLP_ENDPOINT` at a refused port, a
//! silent listener or a real OTLP receiver (or with `OTEL_SDK_DISABLED=true`, the baseline
//! without tracing), drives it with untraced clients for
//! `SOAK_SECONDS` (default 40) while sampling its `VmRSS` every second, then kills it. The
//! servers' logs and process ids go to `WORK_DIR` (default: a folder in the system's
//! temporary directory). At the end it prints one row per phase: calls made, failed calls,
//! the example's expected business errors, the server's RSS (first, max, last sample) and,
//! for the cancelled streams, the SERVER spans the receiver got.

mod collectors;
mod load;
mod phases;
mod receiver;
mod report;
mod rss;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tonic::Code;

use load::Load;
use phases::{Collector, Phase, Traffic};

/// Seconds each phase drives its server when `SOAK_SECONDS` is unset: nine phases come to
/// about six and a half minutes.
const DEFAULT_SECONDS: u64 = 40;
/// Size of the oversized fields: as in the report that asked for the attribute value limit.
const HUGE: usize = 3_500_000;
/// Connections to the server in every phase.
const CONNECTIONS: usize = 4;
/// Calls in flight per connection with small requests.
const IN_FLIGHT: usize = 64;
/// Calls in flight per connection with 3.5 MB requests (each holds its copy).
const HUGE_IN_FLIGHT: usize = 4;
/// Updates read before a cancelled stream is dropped.
const CANCEL_AFTER: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds = match std::env::var("SOAK_SECONDS") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("SOAK_SECONDS={value:?} is not a number of seconds"))?,
        Err(_) => DEFAULT_SECONDS,
    };
    let duration = Duration::from_secs(seconds);
    let work = match std::env::args_os().nth(1) {
        Some(work) => PathBuf::from(work),
        None => std::env::temp_dir().join(format!("tonic-traced-soak-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work)?;
    // This binary is target/<profile>/examples/soak; the servers are target/<profile>/*.
    let binaries = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or("this binary is not in a target/<profile>/examples folder")?
        .to_owned();
    let silent = collectors::silent_endpoint()?;

    let phases = phases(duration);
    println!(
        "soak: {} phases of {seconds} s (SOAK_SECONDS), servers from {}, logs in {}",
        phases.len(),
        binaries.display(),
        work.display()
    );
    let mut rows = Vec::new();
    for (index, phase) in phases.iter().enumerate() {
        println!(
            "phase {}: {}, collector {}, limit {}",
            index + 1,
            phase.label,
            phase.collector.label(),
            report::limit_label(phase.limit)
        );
        rows.push(phase.run(index + 1, &binaries, &work, &silent).await?);
    }
    report::print(&rows);
    Ok(())
}

/// The phases, in order, each driving its server for `duration`. The oversized fields are
/// also sent with tracing off, for the memory the example needs without it.
fn phases(duration: Duration) -> Vec<Phase> {
    use Collector::{Receiver, Refused, SdkDisabled, Silent};
    let small = Load {
        connections: CONNECTIONS,
        in_flight: IN_FLIGHT,
        duration,
    };
    let huge = Load {
        in_flight: HUGE_IN_FLIGHT,
        ..small
    };
    let usd = Traffic::Payments {
        currency: Arc::from("USD"),
        expected: None,
    };
    let huge_currency = Traffic::Payments {
        currency: Arc::from("X".repeat(HUGE)),
        expected: Some(Code::InvalidArgument),
    };
    let huge_order = Traffic::OrderStreams {
        order_id: Arc::from("o".repeat(HUGE)),
        cancel_after: None,
    };
    let cancelled = Traffic::OrderStreams {
        order_id: Arc::from("order-soak"),
        cancel_after: Some(CANCEL_AFTER),
    };
    let phase = |label, traffic: &Traffic, load, collector, limit| Phase {
        label,
        traffic: traffic.clone(),
        load,
        collector,
        limit,
    };
    vec![
        phase("USD payments", &usd, small, Refused, None),
        phase("USD payments", &usd, small, Silent, None),
        phase("3.5 MB currency", &huge_currency, huge, Silent, None),
        phase("3.5 MB currency", &huge_currency, huge, Silent, Some(64)),
        phase("3.5 MB currency", &huge_currency, huge, SdkDisabled, None),
        phase("3.5 MB order.id streams", &huge_order, huge, Silent, None),
        phase(
            "3.5 MB order.id streams",
            &huge_order,
            huge,
            Silent,
            Some(64),
        ),
        phase(
            "3.5 MB order.id streams",
            &huge_order,
            huge,
            SdkDisabled,
            None,
        ),
        phase(
            "streams cancelled after 3",
            &cancelled,
            small,
            Receiver,
            None,
        ),
    ]
}
