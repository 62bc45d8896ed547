//! The load generator: plain (untraced) tonic clients on a few connections, each with many
//! calls in flight, calling until a deadline; every call's outcome is tallied.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_traced::status::code_name;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::{OrderRequest, PaymentRequest};

/// How long one call (or stream) may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How hard and how long to drive a server.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// HTTP/2 connections to the server.
    pub connections: usize,
    /// Calls in flight on each connection.
    pub in_flight: usize,
    /// How long new calls are started.
    pub duration: Duration,
}

/// What became of the calls of one run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Calls that succeeded (streams: read as far as asked).
    pub ok: AtomicU64,
    /// Calls that failed with the status the run expects (a business error of the example).
    pub expected: AtomicU64,
    /// Calls that failed otherwise, timeouts included.
    pub failed: AtomicU64,
    /// The first of those failures, for the report.
    pub first_failure: Mutex<Option<String>>,
}

impl Tally {
    /// All calls made.
    pub fn calls(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
            + self.expected.load(Ordering::Relaxed)
            + self.failed.load(Ordering::Relaxed)
    }

    fn record(&self, outcome: Result<(), Status>, expected: Option<Code>) {
        match outcome {
            Ok(()) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(status) if Some(status.code()) == expected => {
                self.expected.fetch_add(1, Ordering::Relaxed)
            }
            Err(status) => {
                let mut first = self.first_failure.lock().expect("not poisoned");
                first.get_or_insert_with(|| {
                    format!("{}: {}", code_name(status.code()), status.message())
                });
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// Payments of 25 `currency` (approved when it is `USD`) until the load's deadline; calls
/// failing with `expected` count apart.
pub async fn payments(
    address: SocketAddr,
    load: Load,
    currency: Arc<str>,
    expected: Option<Code>,
) -> Result<Tally, tonic::transport::Error> {
    drive(address, load, expected, move |channel| {
        let request = PaymentRequest {
            amount: 25.0,
            currency: currency.to_string(),
            customer_id: "soak-customer".into(),
        };
        async move {
            PaymentServiceClient::new(channel)
                .process_payment(request)
                .await
                .map(drop)
        }
    })
    .await
}

/// Order-update streams for `order_id` until the load's deadline, each read to its end, or
/// dropped (cancelled) after `cancel_after` updates.
pub async fn order_streams(
    address: SocketAddr,
    load: Load,
    order_id: Arc<str>,
    cancel_after: Option<usize>,
) -> Result<Tally, tonic::transport::Error> {
    drive(address, load, None, move |channel| {
        let request = OrderRequest {
            order_id: order_id.to_string(),
        };
        async move {
            let mut updates = OrderServiceClient::new(channel)
                .stream_order_updates(request)
                .await?
                .into_inner();
            let mut received = 0;
            while cancel_after != Some(received) {
                match updates.message().await? {
                    Some(_) => received += 1,
                    None if cancel_after.is_none() => break,
                    None => return Err(Status::unknown("the stream ended early")),
                }
            }
            Ok(())
        }
    })
    .await
}

/// Runs `call` on `load.connections` connections to `address`, `load.in_flight` at a time on
/// each, until `load.duration` has passed; calls under way then are waited for.
async fn drive<F, C>(
    address: SocketAddr,
    load: Load,
    expected: Option<Code>,
    call: F,
) -> Result<Tally, tonic::transport::Error>
where
    F: Fn(Channel) -> C + Clone + Send + 'static,
    C: Future<Output = Result<(), Status>> + Send,
{
    let endpoint = Endpoint::from_shared(format!("http://{address}")).expect("a loopback URI");
    let mut channels = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        channels.push(endpoint.connect().await?);
    }
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + load.duration;
    let mut callers = Vec::new();
    for channel in channels {
        for _ in 0..load.in_flight {
            let (channel, call, tally) = (channel.clone(), call.clone(), Arc::clone(&tally));
            callers.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let outcome = tokio::time::timeout(CALL_TIMEOUT, call(channel.clone()))
                        .await
                        .unwrap_or_else(|_| Err(Status::deadline_exceeded("client timeout")));
                    tally.record(outcome, expected);
                }
            }));
        }
    }
    for caller in callers {
        caller.await.expect("a caller does not panic");
    }
    Ok(Arc::into_inner(tally).expect("every caller has finished"))
}
