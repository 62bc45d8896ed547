//! A service that runs its own OpenTelemetry pipeline — the OTLP exporters, a
//! `tracing-subscriber` with the OpenTelemetry layer — and uses tonic-traced's core alone
//! (`default-features = false`): no `init()`, no exporters of ours.
//!
//! It serves `inventory.v1.Inventory` on loopback, calls it once through a traced client, and
//! exports to the collector that `OTEL_EXPORTER_OTLP_ENDPOINT` names (the exporters read it;
//! `http://localhost:4317` when unset). It prints the call's trace id.

use std::error::Error;

use opentelemetry::global;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{MetricExporter, SpanExporter};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};
use tower::ServiceBuilder;
use tracing::{Instrument as _, Level};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use inventory::inventory_client::InventoryClient;
use inventory::inventory_server::{Inventory, InventoryServer};
use inventory::{GetItemRequest, Item};

/// The generated code of `proto/inventory.proto`.
pub mod inventory {
    tonic::include_proto!("inventory.v1");
}

/// The shop's stock: 7 of every item.
struct Stock;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Inventory for Stock {
    async fn get_item(&self, request: Request<GetItemRequest>) -> Result<Response<Item>, Status> {
        let sku = request.into_inner().sku;
        tracing::info!("looking up the item");
        let in_stock = count(&sku).await;
        Ok(Response::new(Item { sku, in_stock }))
    }
}

/// A `tracing` span: through the application's OpenTelemetry layer it becomes a child of the
/// SERVER span, whose context tonic-traced makes current around the handler.
#[tracing::instrument]
async fn count(sku: &str) -> u32 {
    tracing::info!("counting the shelves");
    7
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The application's own pipeline, as it would be without tonic-traced.
    let resource = Resource::builder().with_service_name("inventory").build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(SpanExporter::builder().with_tonic().build()?)
        .with_resource(resource.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_periodic_exporter(MetricExporter::builder().with_tonic().build()?)
        .with_resource(resource)
        .build();
    global::set_tracer_provider(tracer_provider.clone());
    global::set_meter_provider(meter_provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());
    // The HTTP/2 stack's own spans and debug lines would crowd the traces and the log.
    let filter = Targets::new().with_default(Level::INFO).with_targets([
        ("h2", Level::WARN),
        ("hyper", Level::WARN),
        ("tower", Level::WARN),
    ]);
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer_provider.tracer("inventory"))
                // A handler's own log events go on its SERVER span.
                .and_then(tonic_traced::HandlerEvents),
        )
        .init();

    // tonic-traced uses that pipeline: one configuration, installed before the first call.
    tonic_traced::Config::new()
        .tracer_provider(&tracer_provider)
        .meter_provider(meter_provider.clone())
        .install()?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(InventoryServer::new(Stock))
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let channel = Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;
    let mut client = InventoryClient::new(
        ServiceBuilder::new()
            .layer(tonic_traced::client::layer())
            .service(channel),
    );

    // One call inside a `tracing` span of the client: its CLIENT span is that span's child.
    let root = tracing::info_span!("restock");
    let trace_id = {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        root.context().span().span_context().trace_id()
    };
    let item = client
        .get_item(GetItemRequest {
            sku: "sku-42".into(),
        })
        .instrument(root)
        .await?
        .into_inner();
    println!(
        "{} in stock: {} (trace {trace_id})",
        item.sku, item.in_stock
    );

    // Flushes what is buffered; with no collector listening, that is lost and said so.
    if let Err(error) = tracer_provider.shutdown() {
        eprintln!("spans not exported: {error}");
    }
    if let Err(error) = meter_provider.shutdown() {
        eprintln!("metrics not exported: {error}");
    }
    Ok(())
}
