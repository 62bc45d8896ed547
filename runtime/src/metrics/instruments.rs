//! The RPC metric instruments, made from the meter provider `init()` installed (or the global
//! one on first use) in the process's semantic-convention mode.

use std::sync::{PoisonError, RwLock};

use opentelemetry::metrics::{Histogram, Meter, MeterProvider};
use opentelemetry::{global, InstrumentationScope};

use crate::semconv::SemconvMode;
use crate::tracer::SCOPE_NAME;

static CURRENT: RwLock<Option<Instruments>> = RwLock::new(None);

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

/// Both sides' instruments.
pub(super) struct Instruments {
    pub(super) server: SideInstruments,
    pub(super) client: SideInstruments,
}

/// One side's instruments; `None` for conventions the mode leaves out.
pub(super) struct SideInstruments {
    pub(super) old: Option<OldInstruments>,
    pub(super) call_duration: Option<Histogram<f64>>,
}

/// The old conventions' instruments of one side.
pub(super) struct OldInstruments {
    pub(super) duration: Histogram<f64>,
    pub(super) request_size: Histogram<u64>,
    pub(super) response_size: Histogram<u64>,
    pub(super) requests_per_rpc: Histogram<u64>,
    pub(super) responses_per_rpc: Histogram<u64>,
}

/// Makes the instruments of `provider` the ones calls record into from now on.
pub(crate) fn use_meter_provider(provider: &dyn MeterProvider) {
    let instruments = Instruments::new(&provider.meter_with_scope(scope()));
    *CURRENT.write().unwrap_or_else(PoisonError::into_inner) = Some(instruments);
}

/// Runs `record` with the current instruments, made from the global provider if none are.
pub(super) fn with_current(record: impl FnOnce(&Instruments)) {
    if let Some(instruments) = &*CURRENT.read().unwrap_or_else(PoisonError::into_inner) {
        return record(instruments);
    }
    let mut current = CURRENT.write().unwrap_or_else(PoisonError::into_inner);
    record(current.get_or_insert_with(|| Instruments::new(&global::meter_with_scope(scope()))));
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

impl Instruments {
    fn new(meter: &Meter) -> Self {
        let semconv = SemconvMode::current();
        Instruments {
            server: SideInstruments::new(meter, semconv, "server", "inbound"),
            client: SideInstruments::new(meter, semconv, "client", "outbound"),
        }
    }
}

impl SideInstruments {
    fn new(meter: &Meter, semconv: SemconvMode, side: &str, bound: &str) -> Self {
        let sizes = |name: &str, what: &str| {
            meter
                .u64_histogram(format!("rpc.{side}.{name}.size"))
                .with_unit("By")
                .with_description(format!("Bytes of RPC {what} messages per {bound} RPC."))
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
        let (received, sent) = ("received", "sent");
        let (request_verb, response_verb) = if side == "server" {
            (received, sent)
        } else {
            (sent, received)
        };
        SideInstruments {
            old: semconv.old.then(|| OldInstruments {
                duration: meter
                    .f64_histogram(format!("rpc.{side}.duration"))
                    .with_unit("ms")
                    .with_description(format!("Measures the duration of {bound} RPC."))
                    .build(),
                request_size: sizes("request", "request"),
                response_size: sizes("response", "response"),
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
}
