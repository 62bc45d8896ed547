//! One phase of the soak: a server binary started with a collector and an attribute value
//! limit, driven with one kind of traffic while its memory is sampled.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tonic::Code;

use crate::collectors;
use crate::load::{self, Load, Tally};
use crate::receiver;
use crate::report::Row;
use crate::rss::RssSampler;
use crate::server::Server;

/// The span `order-server` makes for each order-update stream.
const ORDER_SPAN: &str = "payment.OrderService/StreamOrderUpdates";
/// The servers' `TONIC_TRACED_HASH_KEY`, as a deployment sets one (and so no warning about
/// unkeyed hashes in their logs).
const HASH_KEY: &str = "soak-hash-key";
/// How long the receiver may go without a new span before the count is taken as final; the
/// batch processor exports every 5 s by default.
const SPAN_QUIET: Duration = Duration::from_secs(12);

/// Where a phase's server sends its traces and metrics.
#[derive(Clone, Copy, Debug)]
pub enum Collector {
    /// A port that refuses connections.
    Refused,
    /// A listener that accepts connections and never answers.
    Silent,
    /// [`receiver`], counting the server spans that arrive.
    Receiver,
    /// None: `OTEL_SDK_DISABLED=true`, the baseline without tracing.
    SdkDisabled,
}

impl Collector {
    /// What the report calls it.
    pub fn label(self) -> &'static str {
        match self {
            Collector::Refused => "refused",
            Collector::Silent => "silent",
            Collector::Receiver => "receiver",
            Collector::SdkDisabled => "sdk off",
        }
    }
}

/// What the load generator sends.
#[derive(Clone, Debug)]
pub enum Traffic {
    /// `payment-server` payments in `currency`; failures with `expected` are the example's
    /// own business errors.
    Payments {
        currency: Arc<str>,
        expected: Option<Code>,
    },
    /// `order-server` streams for `order_id`, dropped after `cancel_after` updates if given.
    OrderStreams {
        order_id: Arc<str>,
        cancel_after: Option<usize>,
    },
}

/// One phase of the soak.
#[derive(Clone, Debug)]
pub struct Phase {
    /// What the report calls the traffic.
    pub label: &'static str,
    pub traffic: Traffic,
    pub load: Load,
    pub collector: Collector,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, or `None` for the default.
    pub limit: Option<u32>,
}

impl Phase {
    /// Runs the phase with the server binaries of `binaries`, logs in `work`, and `silent`
    /// as the silent collector's endpoint.
    pub async fn run(
        &self,
        number: usize,
        binaries: &Path,
        work: &Path,
        silent: &str,
    ) -> Result<Row, Box<dyn std::error::Error>> {
        let mut receiver_counts = None;
        let mut env = vec![("TONIC_TRACED_HASH_KEY", HASH_KEY.to_owned())];
        match self.collector {
            Collector::Refused => {
                env.push((
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    collectors::refused_endpoint()?,
                ));
            }
            Collector::Silent => env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", silent.to_owned())),
            Collector::Receiver => {
                let (endpoint, counts) = receiver::start(ORDER_SPAN).await?;
                receiver_counts = Some(counts);
                env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
            }
            Collector::SdkDisabled => env.push(("OTEL_SDK_DISABLED", "true".to_owned())),
        }
        if let Some(limit) = self.limit {
            env.push(("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", limit.to_string()));
        }
        let binary = match self.traffic {
            Traffic::Payments { .. } => "payment-server",
            Traffic::OrderStreams { .. } => "order-server",
        };
        let name = format!("phase-{number}-{binary}");
        let server = Server::start(&binaries.join(binary), &env, work, &name)?;

        let sampler = RssSampler::start(server.pid());
        let tally = self.drive(&server).await?;
        let rss = sampler.finish();

        let spans = match receiver_counts {
            Some(counts) => {
                wait_until_quiet(&counts.server_spans, tally.ok.load(Ordering::Relaxed)).await;
                Some((
                    counts.server_spans.load(Ordering::Relaxed),
                    counts.cancelled.load(Ordering::Relaxed),
                ))
            }
            None => None,
        };
        let (warnings, warning_lines) = server.warnings();
        Ok(Row {
            number,
            server: binary,
            traffic: self.label,
            load: self.load,
            collector: self.collector.label(),
            limit: self.limit,
            calls: tally.calls(),
            failed: tally.failed.load(Ordering::Relaxed),
            expected: self
                .expected_code()
                .map(|code| (code, tally.expected.into_inner())),
            rss,
            spans,
            first_failure: tally.first_failure.into_inner().expect("not poisoned"),
            warnings,
            warning_lines,
        })
    }

    /// Drives `server` with the phase's traffic.
    async fn drive(&self, server: &Server) -> Result<Tally, tonic::transport::Error> {
        match &self.traffic {
            Traffic::Payments { currency, expected } => {
                load::payments(server.address, self.load, Arc::clone(currency), *expected).await
            }
            Traffic::OrderStreams {
                order_id,
                cancel_after,
            } => {
                load::order_streams(
                    server.address,
                    self.load,
                    Arc::clone(order_id),
                    *cancel_after,
                )
                .await
            }
        }
    }

    fn expected_code(&self) -> Option<Code> {
        match self.traffic {
            Traffic::Payments { expected, .. } => expected,
            Traffic::OrderStreams { .. } => None,
        }
    }
}

/// Waits until `count` reaches `target`, or has not grown for [`SPAN_QUIET`].
async fn wait_until_quiet(count: &AtomicU64, target: u64) {
    let mut last = count.load(Ordering::Relaxed);
    let mut changed = Instant::now();
    while last < target && changed.elapsed() < SPAN_QUIET {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = count.load(Ordering::Relaxed);
        if now != last {
            (last, changed) = (now, Instant::now());
        }
    }
}
