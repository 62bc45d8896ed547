//! The RPC metric instruments, made from the configuration's meter provider in its
//! semantic-convention mode, and bound once per series (side, method, status) so a call
//! records without the SDK hashing its attributes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use opentelemetry::metrics::{BoundHistogram, Histogram, Meter};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::KeyValue;
use tonic::Code;

use super::exemplar_sink::{ExemplarSeries, ExemplarSink, HistogramSeries};
use super::Side;
use crate::client::server_target::ServerTarget;
use crate::keys;
use crate::semconv::SemconvMode;
use crate::status::code_name;

/// Series kept bound; past this (clients calling unbounded paths), each call binds anew.
/// The SDK's own cardinality limit per instrument is 2000.
const MAX_BOUND_SERIES: usize = 2000;

/// The old `rpc.*.duration` boundaries, in milliseconds: the SDK's default ones, named so the
/// exemplars know its buckets.
const DURATION_MILLISECONDS: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// The stable `rpc.*.call.duration` boundaries, in seconds, as the semantic conventions advise.
const CALL_DURATION_SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// OpenCensus' gRPC size boundaries, in bytes.
const SIZE_BYTES: [f64; 14] = [
    0.0,
    1024.0,
    2048.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
    4294967296.0,
];

/// OpenCensus' gRPC messages-per-RPC boundaries.
const MESSAGE_COUNTS: [f64; 18] = [
    0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0,
    16384.0, 32768.0, 65536.0,
];

/// Both sides' instruments, the series bound so far and, when they are wanted, their
/// durations' exemplars.
pub(crate) struct Instruments {
    server: SideInstruments,
    client: SideInstruments,
    series: RwLock<HashMap<SeriesKey, Arc<Series>, BuildHasherDefault<SeriesHasher>>>,
    exemplars: Option<Arc<dyn ExemplarSink>>,
}

impl fmt::Debug for Instruments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instruments")
            .field("exemplars", &self.exemplars.is_some())
            .finish_non_exhaustive()
    }
}

/// One side's instruments; `None` for conventions the mode leaves out.
struct SideInstruments {
    /// `server` or `client`.
    side: &'static str,
    old: Option<OldInstruments<Histogram<f64>, Histogram<u64>>>,
    call_duration: Option<Histogram<f64>>,
}

/// The old conventions' five histograms of one side, unbound or bound.
struct OldInstruments<F, U> {
    duration: F,
    request_size: U,
    response_size: U,
    requests_per_rpc: U,
    responses_per_rpc: U,
}

/// What tells series apart: the method's full name determines its service and method.
#[derive(PartialEq, Eq, Hash)]
struct SeriesKey {
    side: Side,
    method: MethodKey,
    server: Option<ServerTarget>,
    code: Code,
    is_error: bool,
}

/// Hashes series keys with one multiplication per word (FxHash's), where SipHash took more
/// than the rest of the lookup. Its keys are not chosen by remote callers (a server's methods
/// are generated; a client's come from the application), and there are at most
/// [`MAX_BOUND_SERIES`] of them.
#[derive(Default)]
struct SeriesHasher(u64);

impl SeriesHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for SeriesHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A method, by the address of its generated name (cheap to hash) or by its text when it was
/// only known at run time. The same method under both keys is the same series to the SDK,
/// which merges equal attributes.
#[derive(PartialEq, Eq, Hash)]
enum MethodKey {
    Generated(usize, usize),
    Named(String),
}

impl FinishedCall<'_> {
    fn method_key(&self) -> MethodKey {
        match self.full_name {
            Cow::Borrowed(name) => MethodKey::Generated(name.as_ptr() as usize, name.len()),
            Cow::Owned(name) => MethodKey::Named(name.clone()),
        }
    }
}

/// One finished call, as the series and its measurements need it.
pub(super) struct FinishedCall<'a> {
    pub(super) side: Side,
    pub(super) service: &'a Cow<'static, str>,
    pub(super) method: &'a Cow<'static, str>,
    pub(super) full_name: &'a Cow<'static, str>,
    /// The server a client called, named by the stable client duration.
    pub(super) server: Option<&'a ServerTarget>,
    pub(super) code: Code,
    pub(super) is_error: bool,
    pub(super) seconds: f64,
    /// Messages and bytes of the requests, then of the responses.
    pub(super) requests: (u64, u64),
    pub(super) responses: (u64, u64),
    /// The trace and span of the call's span, when it was sampled.
    pub(super) sampled: Option<(TraceId, SpanId)>,
}

/// The histograms of one series, bound to its attributes, and the exemplars of its
/// `rpc.*.duration` and `rpc.*.call.duration` buckets when they are kept.
struct Series {
    old: Option<OldInstruments<BoundHistogram<f64>, BoundHistogram<u64>>>,
    call_duration: Option<BoundHistogram<f64>>,
    duration_exemplars: Option<Arc<dyn ExemplarSeries>>,
    call_duration_exemplars: Option<Arc<dyn ExemplarSeries>>,
}

impl Instruments {
    /// The instruments of `meter` that `semconv` names; with `exemplars`, sampled calls leave
    /// theirs there.
    pub(crate) fn new(
        meter: &Meter,
        semconv: SemconvMode,
        exemplars: Option<Arc<dyn ExemplarSink>>,
    ) -> Self {
        Instruments {
            server: SideInstruments::new(meter, semconv, "server", "inbound"),
            client: SideInstruments::new(meter, semconv, "client", "outbound"),
            series: RwLock::default(),
            exemplars,
        }
    }

    /// Records `call` into its series.
    pub(super) fn record(&self, call: &FinishedCall<'_>) {
        self.series(call).record(call);
    }

    /// The bound series of `call`, bound now if it is the first of its series.
    fn series(&self, call: &FinishedCall<'_>) -> Arc<Series> {
        let key = SeriesKey {
            side: call.side,
            method: call.method_key(),
            server: call.server.cloned(),
            code: call.code,
            is_error: call.is_error,
        };
        let read = self.series.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = read.get(&key) {
            return series.clone();
        }
        drop(read);
        let side = match call.side {
            Side::Server => &self.server,
            Side::Client => &self.client,
        };
        let series = Arc::new(side.bind(call, self.exemplars.as_deref()));
        let mut all = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if all.len() < MAX_BOUND_SERIES {
            all.entry(key).or_insert_with(|| series.clone());
        }
        series
    }
}

impl SideInstruments {
    fn new(meter: &Meter, semconv: SemconvMode, side: &'static str, bound: &str) -> Self {
        let sizes = |name: &str| {
            meter
                .u64_histogram(format!("rpc.{side}.{name}.size"))
                .with_unit("By")
                .with_description(format!("Bytes of RPC {name} messages per {bound} RPC."))
                .with_boundaries(SIZE_BYTES.to_vec())
                .build()
        };
        let counts = |name: &str, verb: &str| {
            meter
                .u64_histogram(format!("rpc.{side}.{name}_per_rpc"))
                .with_unit("{count}")
                .with_description(format!("Messages {verb} per {bound} RPC."))
                .with_boundaries(MESSAGE_COUNTS.to_vec())
                .build()
        };
        let (request_verb, response_verb) = if side == "server" {
            ("received", "sent")
        } else {
            ("sent", "received")
        };
        SideInstruments {
            side,
            old: semconv.old.then(|| OldInstruments {
                duration: meter
                    .f64_histogram(format!("rpc.{side}.duration"))
                    .with_unit("ms")
                    .with_description(format!("Measures the duration of {bound} RPC."))
                    .with_boundaries(DURATION_MILLISECONDS.to_vec())
                    .build(),
                request_size: sizes("request"),
                response_size: sizes("response"),
                requests_per_rpc: counts("requests", request_verb),
                responses_per_rpc: counts("responses", response_verb),
            }),
            call_duration: semconv.stable.then(|| {
                meter
                    .f64_histogram(format!("rpc.{side}.call.duration"))
                    .with_unit("s")
                    .with_description(format!("Measures the duration of {bound} RPC."))
                    .with_boundaries(CALL_DURATION_SECONDS.to_vec())
                    .build()
            }),
        }
    }

    /// Binds this side's histograms to the attributes of `call`'s series, and keeps its
    /// duration exemplars in `exemplars`, if given.
    fn bind(&self, call: &FinishedCall<'_>, exemplars: Option<&dyn ExemplarSink>) -> Series {
        let side = self.side;
        let mut duration_exemplars = None;
        let mut call_duration_exemplars = None;
        let old = self.old.as_ref().map(|old| {
            let attributes = [
                KeyValue::new(keys::RPC_SYSTEM, "grpc"),
                KeyValue::new(keys::RPC_SERVICE, call.service.clone()),
                KeyValue::new(keys::RPC_METHOD, call.method.clone()),
                KeyValue::new(keys::RPC_GRPC_STATUS_CODE, call.code as i64),
            ];
            duration_exemplars = exemplars.and_then(|exemplars| {
                exemplars.series(&HistogramSeries {
                    name: &format!("rpc.{side}.duration"),
                    unit: "ms",
                    boundaries: &DURATION_MILLISECONDS,
                    attributes: &attributes,
                })
            });
            OldInstruments {
                duration: old.duration.bind(&attributes),
                request_size: old.request_size.bind(&attributes),
                response_size: old.response_size.bind(&attributes),
                requests_per_rpc: old.requests_per_rpc.bind(&attributes),
                responses_per_rpc: old.responses_per_rpc.bind(&attributes),
            }
        });
        let call_duration = self.call_duration.as_ref().map(|call_duration| {
            let status = code_name(call.code);
            let mut attributes = vec![
                KeyValue::new(keys::RPC_SYSTEM_NAME, "grpc"),
                KeyValue::new(keys::RPC_METHOD, call.full_name.clone()),
                KeyValue::new(keys::RPC_STATUS_CODE, status),
            ];
            if call.is_error {
                attributes.push(KeyValue::new(keys::ERROR_TYPE, status));
            }
            if let Some(server) = call.server {
                server.push_attributes(&mut attributes);
            }
            call_duration_exemplars = exemplars.and_then(|exemplars| {
                exemplars.series(&HistogramSeries {
                    name: &format!("rpc.{side}.call.duration"),
                    unit: "s",
                    boundaries: &CALL_DURATION_SECONDS,
                    attributes: &attributes,
                })
            });
            call_duration.bind(&attributes)
        });
        Series {
            old,
            call_duration,
            duration_exemplars,
            call_duration_exemplars,
        }
    }
}

impl Series {
    fn record(&self, call: &FinishedCall<'_>) {
        if let Some((trace_id, span_id)) = call.sampled {
            if let Some(series) = &self.duration_exemplars {
                series.record(call.seconds * 1000.0, trace_id, span_id);
            }
            if let Some(series) = &self.call_duration_exemplars {
                series.record(call.seconds, trace_id, span_id);
            }
        }
        if let Some(old) = &self.old {
            old.duration.record(call.seconds * 1000.0);
            old.request_size.record(call.requests.1);
            old.response_size.record(call.responses.1);
            old.requests_per_rpc.record(call.requests.0);
            old.responses_per_rpc.record(call.responses.0);
        }
        if let Some(call_duration) = &self.call_duration {
            call_duration.record(call.seconds);
        }
    }
}
