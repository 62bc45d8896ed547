//! The examples' `payment-server` and `payment-client` as deploy/ runs them (strict
//! configuration, every span exported over OTLP gRPC to a collector, the tail deciding), each
//! process pointed at its own collector. The binaries are this package's copies of the
//! examples' (`tests-payment-server`, `tests-payment-client`: see Cargo.toml), whose paths only
//! an integration test knows, so the callers pass them in.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::jaeger::{Jaeger, Span, Trace};
use crate::process::{free_port, Program};

/// The key of `redact: HASH` fields (`customer.id`), which strict configuration requires.
const HASH_KEY: &str = "pipeline-test-key";

/// A command for `binary` with deploy/'s telemetry settings (docker-compose.yaml's
/// `x-otel-env`), as `service`, exporting to the collector whose OTLP gRPC port is
/// `collector`, with `resource` as extra resource attributes. Spans leave every 100 ms rather
/// than every 5 s (OTEL_BSP_SCHEDULE_DELAY), to keep the tests short; no metrics are exported.
/// No public endpoint (deploy/'s `payment-service` is one): the client's and the server's
/// spans make one trace, as inside a trust boundary. None of the test's own OTEL_* or
/// TONIC_TRACED_* variables reach it.
fn traced_command(binary: &Path, service: &str, collector: u16, resource: &str) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("OTEL_") || name.starts_with("TONIC_TRACED_") {
            command.env_remove(&*name);
        }
    }
    command
        .env("TONIC_TRACED_CONFIG_STRICT", "true")
        .env("TONIC_TRACED_HASH_KEY", HASH_KEY)
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{collector}"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_TRACES_SAMPLER", "parentbased_always_on")
        .env("OTEL_PROPAGATORS", "tracecontext,baggage")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_SERVICE_NAME", service)
        .env("OTEL_RESOURCE_ATTRIBUTES", resource)
        .env("RUST_LOG", "info");
    command
}

/// A running `payment-server` (service `payment-service`) on a free loopback port, exporting
/// to the collector at `collector`, named `name` in its logs and its `service.instance.id`.
pub struct PaymentServer {
    _program: Program,
    /// Where it listens: `127.0.0.1:PORT`.
    pub address: String,
}

impl PaymentServer {
    /// Starts `binary` and waits until it listens.
    pub fn start(binary: &Path, name: &str, collector: u16, logs: &Path) -> PaymentServer {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let resource = format!("service.instance.id={name}");
        let mut command = traced_command(binary, "payment-service", collector, &resource);
        command.arg(&address);
        let mut program = Program::start(name, &mut command, logs);
        program.wait_for_port(port, Duration::from_secs(30));
        PaymentServer {
            _program: program,
            address,
        }
    }
}

/// One payment by `payment-client` (`binary`) through the server at `address`, exporting to
/// the collector at `collector` with `resource`: `payment-client ADDRESS AMOUNT CURRENCY`.
/// Returns its output once it has exited (its spans flushed).
pub fn pay(
    binary: &Path,
    collector: u16,
    resource: &str,
    address: &str,
    amount: &str,
    currency: &str,
) -> Output {
    traced_command(binary, "payment-client", collector, resource)
        .args([address, amount, currency])
        .output()
        .expect("payment-client runs")
}

/// The RPC's span name, on both sides.
pub const PROCESS_PAYMENT: &str = "payment.PaymentService/ProcessPayment";

/// The payments' traces in `jaeger` (those the tail kept), by the `payment.amount` their
/// CLIENT span records (the string form Jaeger gives it: `250` for 250.0).
pub fn payment_traces(jaeger: &Jaeger) -> BTreeMap<String, Trace> {
    jaeger
        .find_traces(&[
            ("service", "payment-client"),
            ("lookback", "1h"),
            ("limit", "10000"),
        ])
        .into_iter()
        .map(|trace| {
            let client = trace.span("payment-client", PROCESS_PAYMENT);
            let amount = client.tag("payment.amount").unwrap().to_owned();
            (amount, trace)
        })
        .collect()
}

/// Whether `trace` is one whole payment of a valid request: the client's CLIENT span (the
/// root), payment-service's SERVER span its child, and under that `validate_payment` and the
/// `fraud_check` span of `tracing`. A missing or extra span, a wrong kind or a broken link is
/// an `Err` that says which.
pub fn whole_payment(trace: &Trace) -> Result<(), String> {
    let find = |service: &str, name: &str| {
        let found: Vec<&Span> = trace
            .spans
            .iter()
            .filter(|span| span.service == service && span.name == name)
            .collect();
        match found[..] {
            [span] => Ok(span),
            _ => Err(format!("{} {service} {name} spans", found.len())),
        }
    };
    let client = find("payment-client", PROCESS_PAYMENT)?;
    let server = find("payment-service", PROCESS_PAYMENT)?;
    let validate = find("payment-service", "validate_payment")?;
    let fraud_check = find("payment-service", "fraud_check")?;
    let links = [
        (client, None, "client", "server"),
        (server, Some(&client.id), "server", "client"),
        (validate, Some(&server.id), "internal", "server"),
        (fraud_check, Some(&server.id), "internal", "server"),
    ];
    for (span, parent, kind, parent_kind) in links {
        if span.parent.as_ref() != parent {
            return Err(format!(
                "{} is not a child of the {parent_kind} span",
                span.name
            ));
        }
        if span.tag("span.kind") != Some(kind) {
            return Err(format!("{} is not of kind {kind}", span.name));
        }
    }
    if trace.spans.len() != links.len() {
        return Err(format!("{} spans", trace.spans.len()));
    }
    Ok(())
}
