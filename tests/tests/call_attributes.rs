//! Attributes from code: the configuration's `CallAttributes` hook adds attributes from the
//! request's metadata and extensions when a call starts and from its status when it ends, on
//! SERVER and CLIENT spans of every RPC kind, cut to the configured length, and is not run at
//! all for calls that are not sampled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use opentelemetry::trace::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::SpanData;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::{Channel, Server};
use tonic::Request;
use tonic_traced::{AttributeValue, CallAttributes, CallEnd, CallSink, CallStart, RpcKind};
use tonic_traced_tests::harness::{
    attribute, header, in_root_span, serve, telemetry_with, Telemetry,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThingsServer;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::Things;
use tower::Layer as _;

/// The tenant an authenticating layer or interceptor puts in a request's extensions.
#[derive(Clone)]
struct Tenant(&'static str);

/// The feature flags the hook saw at starts, and how many ends it saw.
static STARTED_WITH: Mutex<Vec<String>> = Mutex::new(Vec::new());
static ENDS: AtomicUsize = AtomicUsize::new(0);

struct Hook;

impl CallAttributes for Hook {
    fn on_start(&self, call: &CallStart<'_>, sink: &mut CallSink<'_>) {
        if let Some(Tenant(tenant)) = call.extensions().get::<Tenant>() {
            sink.record("tenant.id", AttributeValue::Str(tenant));
        }
        if let Some(flag) = call.metadata().get("x-feature") {
            let flag = flag.to_str().unwrap();
            STARTED_WITH.lock().unwrap().push(flag.to_owned());
            sink.record("feature.flag", AttributeValue::Str(flag));
        }
        let kind = match call.rpc_kind() {
            Some(RpcKind::Unary) => "unary",
            Some(RpcKind::ServerStreaming) => "server streaming",
            Some(RpcKind::ClientStreaming) => "client streaming",
            Some(RpcKind::BidiStreaming) => "bidi",
            _ => "unknown",
        };
        sink.record("test.rpc_kind", AttributeValue::Str(kind));
    }

    fn on_end(&self, call: &CallEnd<'_>, sink: &mut CallSink<'_>) {
        ENDS.fetch_add(1, Ordering::Relaxed);
        let code = format!("{:?}", call.code());
        sink.record("test.end_code", AttributeValue::Str(&code));
        sink.record("test.end_message", AttributeValue::Str(call.message()));
    }
}

fn telemetry() -> &'static Telemetry {
    telemetry_with(|config| {
        config
            .call_attributes(Hook)
            .attribute_value_length_limit(16)
    })
}

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";
const WATCH: &str = "kitchen.sink.v1.HTTPThings/WatchHTTPThings";
const UPLOAD: &str = "kitchen.sink.v1.HTTPThings/UploadHTTPThings";
const CHAT: &str = "kitchen.sink.v1.HTTPThings/ChatHTTP";

/// A traced client of a traced server whose interceptor marks each request's tenant.
async fn client() -> HttpThingsClient<tonic_traced::client::TracedClient<Channel>> {
    telemetry();
    let server = HttpThingsServer::with_interceptor(Things, |mut request: Request<()>| {
        request.extensions_mut().insert(Tenant("server-tenant"));
        Ok(request)
    });
    let address = serve(Server::builder().add_service(server)).await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HttpThingsClient::new(tonic_traced::client::layer().layer(channel))
}

/// `message` with the client's tenant in its extensions and `flag` in its metadata.
fn request<T>(message: T, flag: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(Tenant("client-tenant"));
    request
        .metadata_mut()
        .insert("x-feature", flag.parse().unwrap());
    request
}

fn uploads(paths: &[&str]) -> impl tokio_stream::Stream<Item = HttpHeader> + Send + 'static {
    tokio_stream::iter(paths.iter().map(|path| header(path)).collect::<Vec<_>>())
}

/// Makes one call of each kind with `flag`; `fail` makes each end with `NOT_FOUND`.
async fn call_each_kind(
    client: &mut HttpThingsClient<tonic_traced::client::TracedClient<Channel>>,
    flag: &str,
    fail: bool,
) {
    let command = if fail { "code=5" } else { "ok" };
    let unary = client.get_http_thing(request(header(command), flag)).await;
    assert_eq!(unary.is_err(), fail);
    let watch = if fail { "count=1;code=5" } else { "count=1" };
    let mut updates = client
        .watch_http_things(request(header(watch), flag))
        .await
        .unwrap()
        .into_inner();
    let mut failed = false;
    loop {
        match updates.message().await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert_eq!(failed, fail);
    let upload = client
        .upload_http_things(request(uploads(&["a", command]), flag))
        .await;
    assert_eq!(upload.is_err(), fail);
    let replies: Vec<_> = client
        .chat_http(request(uploads(&[command]), flag))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies[0].is_err(), fail);
}

fn span<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name && span.span_kind == kind)
        .unwrap_or_else(|| panic!("a {kind:?} span {name}: {spans:#?}"))
}

async fn spans_of(trace_id: TraceId, count: usize) -> Vec<SpanData> {
    telemetry()
        .wait_for(|t| {
            let spans: Vec<_> = t
                .trace(trace_id)
                .into_iter()
                .filter(|span| matches!(span.span_kind, SpanKind::Client | SpanKind::Server))
                .collect();
            (spans.len() == count).then_some(spans)
        })
        .await
}

#[tokio::test]
async fn hooks_add_attributes_on_both_sides_of_every_kind_for_sampled_calls_only() {
    let mut client = client().await;
    let str = |text: &str| Some(Value::from(text.to_owned()));

    // Sampled, ending OK, then NOT_FOUND: four calls, eight RPC spans each time.
    for (fail, code) in [(false, "Ok"), (true, "NotFound")] {
        let ends_before = ENDS.load(Ordering::Relaxed);
        let flag = format!("sampled-{code}-and-far-longer-than-sixteen");
        let (trace_id, ()) = in_root_span(call_each_kind(&mut client, &flag, fail)).await;
        let spans = spans_of(trace_id, 8).await;
        for (name, kind) in [
            (GET, "unary"),
            (WATCH, "server streaming"),
            (UPLOAD, "client streaming"),
            (CHAT, "bidi"),
        ] {
            for (side, tenant) in [
                (SpanKind::Client, "client-tenant"),
                (SpanKind::Server, "server-tenant"),
            ] {
                let span = span(&spans, name, side.clone());
                let context = format!("{side:?} {name}");
                assert_eq!(attribute(span, "tenant.id"), str(tenant), "{context}");
                assert_eq!(
                    attribute(span, "feature.flag"),
                    str(&flag[..16]),
                    "{context}: cut to the configured 16 characters"
                );
                assert_eq!(attribute(span, "test.rpc_kind"), str(kind), "{context}");
                assert_eq!(attribute(span, "test.end_code"), str(code), "{context}");
            }
        }
        assert_eq!(ENDS.load(Ordering::Relaxed) - ends_before, 8);
    }

    // Not sampled: the caller's span is remote and unsampled, and the sampler follows it.
    let ends_before = ENDS.load(Ordering::Relaxed);
    let unsampled = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x5eed_u128),
        0x5eed_u64.into(),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ));
    call_each_kind(&mut client, "unsampled", false)
        .with_context(unsampled)
        .await;
    // A sampled call after them: once its spans are exported, the others' would have ended.
    let (trace_id, ()) = in_root_span(async {
        client
            .get_http_thing(request(header("ok"), "flush"))
            .await
            .unwrap();
    })
    .await;
    spans_of(trace_id, 2).await;
    assert!(
        !STARTED_WITH
            .lock()
            .unwrap()
            .contains(&"unsampled".to_owned()),
        "the hook never saw an unsampled call start"
    );
    assert_eq!(
        ENDS.load(Ordering::Relaxed) - ends_before,
        2,
        "the hook saw only the sampled call end, on both sides"
    );
}
