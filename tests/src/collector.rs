//! The OpenTelemetry Collector of `tests/collector/` (built from the Collector's Go modules)
//! running deploy/otel-collector's own files, with only the addresses and `decision_wait` given
//! through the `OTELCOL_*` variables those files read, as in production; and the two tiers of
//! deploy/ on loopback in front of a Jaeger.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::go;
use crate::jaeger::Jaeger;
use crate::process::{free_port, Program};

/// deploy/'s first tier: OTLP in, loadbalancing by trace id to the second tier.
pub const FIRST_TIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/otel-collector/config.yaml"
);
/// deploy/'s second tier: tail sampling, kept traces to Jaeger.
pub const SECOND_TIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../deploy/otel-collector/sampler.yaml"
);
/// The second tier's `decision_wait` in the tests (`OTELCOL_DECISION_WAIT`; 10 s deployed).
/// A trace must be whole when it is decided, and its spans reach the second tier up to a
/// first-tier batch apart (`timeout: 5s`: a trace's first span, `validate_payment`, can leave
/// in one batch and the rest, 1.2 s later, in the next, or from the other first-tier
/// collector), plus the slow call's 1.2 s and the services' 100 ms export delay: about 6.5 s.
/// With 2 s, a fifth of the slow traces were decided on `validate_payment` alone and lost.
pub const DECISION_WAIT: &str = "8s";
/// How long a collector may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The collector binary, built once per test binary into `out`; `None` when the test skips
/// (no Go, not under CI).
pub fn binary(out: &Path) -> Option<&'static Path> {
    static BINARY: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector");
            go::build(&module, ".", out, "otelcol")
        })
        .as_deref()
}

/// One running collector.
pub struct Collector {
    program: Program,
    /// Its OTLP gRPC receiver's port.
    pub otlp_grpc: u16,
    /// The port of its own metrics (Prometheus text at `/metrics`).
    pub metrics: u16,
}

impl Collector {
    /// Runs `config` (a deploy/ file) as `name`, listening on free loopback ports, with the
    /// other variables in `env`; returns once it accepts OTLP.
    pub fn start(
        binary: &Path,
        config: &str,
        name: &str,
        env: &[(&str, String)],
        logs: &Path,
    ) -> Collector {
        let (otlp_grpc, metrics, health) = (free_port(), free_port(), free_port());
        let mut command = Command::new(binary);
        command
            .arg(format!("--config={config}"))
            .env("OTELCOL_HOST", "127.0.0.1")
            .env("OTELCOL_OTLP_GRPC_PORT", otlp_grpc.to_string())
            .env("OTELCOL_OTLP_HTTP_PORT", free_port().to_string())
            .env("OTELCOL_PROMETHEUS_PORT", free_port().to_string())
            .env("OTELCOL_METRICS_PORT", metrics.to_string())
            .env("OTELCOL_HEALTH_PORT", health.to_string())
            .envs(env.iter().map(|(key, value)| (key, value)));
        let mut program = Program::start(name, &mut command, logs);
        program.wait_for_port(health, START_TIMEOUT);
        program.wait_for_port(otlp_grpc, START_TIMEOUT);
        Collector {
            program,
            otlp_grpc,
            metrics,
        }
    }

    /// The sum of the collector's own metric `name` over its series (0 when it has none yet),
    /// read from its metrics endpoint.
    pub fn metric(&self, name: &str) -> f64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics);
        let output = Command::new("curl").args(["-sf", &url]).output().unwrap();
        assert!(
            output.status.success(),
            "{url}: {}",
            self.program.log_tail()
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(['{', ' ']))
            })
            .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    }
}

/// deploy/'s pipeline at small scale on loopback: two first-tier collectors routing by trace
/// id (their static resolver lists the two second-tier ones) → two tail-sampling collectors →
/// Jaeger. Everything stops when it is dropped.
pub struct Tiers {
    /// The collectors the services send to.
    pub first: [Collector; 2],
    /// The tail samplers.
    pub second: [Collector; 2],
    /// Where the kept traces go.
    pub jaeger: Jaeger,
}

impl Tiers {
    /// Starts Jaeger, then tier two (with [`DECISION_WAIT`]), then tier one; `None` when the
    /// test skips (no Go, not under CI). Binaries are built into `out`, logs go to `logs`.
    pub fn start(out: &Path, logs: &Path) -> Option<Tiers> {
        let collector = binary(out)?;
        let jaeger = Jaeger::start(crate::jaeger::binary(out)?, logs);
        let sampler = |name: &str| {
            let env = [
                ("OTELCOL_JAEGER", format!("127.0.0.1:{}", jaeger.otlp_grpc)),
                ("OTELCOL_DECISION_WAIT", DECISION_WAIT.to_owned()),
            ];
            Collector::start(collector, SECOND_TIER, name, &env, logs)
        };
        let second = [sampler("sampler-1"), sampler("sampler-2")];
        let balancer = |name: &str| {
            let env = [
                (
                    "OTELCOL_SAMPLER_1",
                    format!("127.0.0.1:{}", second[0].otlp_grpc),
                ),
                (
                    "OTELCOL_SAMPLER_2",
                    format!("127.0.0.1:{}", second[1].otlp_grpc),
                ),
            ];
            Collector::start(collector, FIRST_TIER, name, &env, logs)
        };
        let first = [balancer("collector-a"), balancer("collector-b")];
        Some(Tiers {
            first,
            second,
            jaeger,
        })
    }
}
