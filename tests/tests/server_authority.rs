//! SERVER spans record `server.address` and `server.port` from the `:authority` the client
//! called, not from the listening socket (semantic-conventions 1.45, #3919), and before the
//! span starts, where samplers see them: real calls over loopback (IPv4 and IPv6) with the
//! authority a client's origin sets.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Link, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic_traced_tests::harness::{header, serve, telemetry_with};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;

/// The attributes of each SERVER span, as its sampler saw them.
#[derive(Debug, Clone, Default)]
struct SeenBySampler(Arc<Mutex<Vec<Vec<KeyValue>>>>);

impl ShouldSample for SeenBySampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: opentelemetry::trace::TraceId,
        _name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        if *span_kind == SpanKind::Server {
            self.0.lock().unwrap().push(attributes.to_vec());
        }
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: parent_context
                .map(|cx| cx.span().span_context().trace_state().clone())
                .unwrap_or_default(),
        }
    }
}

fn sampler() -> &'static SeenBySampler {
    static SAMPLER: std::sync::OnceLock<SeenBySampler> = std::sync::OnceLock::new();
    SAMPLER.get_or_init(|| {
        let sampler = SeenBySampler::default();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler.clone())
            .build();
        telemetry_with(|config| config.tracer_provider(&provider));
        sampler
    })
}

/// The `server.*` attributes the sampler saw for one call to `endpoint` (the tests of this
/// binary run one at a time: one test).
async fn server_attributes(endpoint: Endpoint) -> (Option<Value>, Option<Value>) {
    let mut client = HttpThingsClient::new(endpoint.connect().await.unwrap());
    client.get_http_thing(header("ok")).await.unwrap();
    let attributes = sampler()
        .0
        .lock()
        .unwrap()
        .pop()
        .expect("a SERVER span was sampled");
    let value = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    (value("server.address"), value("server.port"))
}

#[tokio::test(flavor = "current_thread")]
async fn the_authority_called_not_the_socket_and_before_the_span_starts() {
    sampler();
    let address = serve(Server::builder().add_service(things::server())).await;
    let socket = Endpoint::from_shared(format!("http://{address}")).unwrap();
    assert_eq!(
        server_attributes(socket.clone()).await,
        (
            Some("127.0.0.1".into()),
            Some(Value::I64(i64::from(address.port())))
        ),
        "the authority names the socket's address"
    );
    // A name and port of a proxy or load balancer in front, as the client called it.
    let named = socket
        .clone()
        .origin("http://payments.example:50051".parse().unwrap());
    assert_eq!(
        server_attributes(named).await,
        (Some("payments.example".into()), Some(Value::I64(50051)))
    );
    // No port in the authority: no `server.port` (the conventions require one only when the
    // authority has it).
    let portless = socket.origin("https://payments.example".parse().unwrap());
    assert_eq!(
        server_attributes(portless).await,
        (Some("payments.example".into()), None)
    );
    // IPv6: the address without the authority's brackets.
    let listener = TcpListener::bind("[::1]:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .add_service(things::server())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let endpoint = Endpoint::from_shared(format!("http://{address}")).unwrap();
    assert_eq!(
        server_attributes(endpoint).await,
        (
            Some("::1".into()),
            Some(Value::I64(i64::from(address.port())))
        )
    );
}
