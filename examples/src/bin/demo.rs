//! README command #1: a payment server and client on loopback, showing what tonic-traced
//! generates for them: each method's proto identity and the span attributes of each request.

use opentelemetry::KeyValue;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_traced::SpanAttributes;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::payment_service_server::{
    PaymentService, PaymentServiceServer,
};
use tonic_traced_examples::payment::PaymentRequest;
use tonic_traced_examples::payment_service::Payments;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(
        Server::builder()
            .add_service(PaymentServiceServer::new(Payments::default()))
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    println!("payment service listening on {address}");

    let method = <Payments as PaymentService>::__tonic_traced_method_process_payment();
    let mut client = PaymentServiceClient::connect(format!("http://{address}")).await?;
    for request in [
        PaymentRequest {
            amount: 99.99,
            currency: "USD".into(),
            customer_id: "cust-123".into(),
        },
        PaymentRequest {
            amount: -5.0,
            currency: "EUR".into(),
            customer_id: "cust-456".into(),
        },
    ] {
        let mut attributes: Vec<KeyValue> = Vec::new();
        request.record_attributes(&mut attributes);
        println!("\n{} ({:?})", method.full_name, method.kind);
        for attribute in &attributes {
            println!("  {} = {}", attribute.key, attribute.value);
        }
        match client.process_payment(request).await {
            Ok(response) => {
                let response = response.into_inner();
                println!("  -> OK {} {}", response.transaction_id, response.status);
            }
            Err(status) => println!("  -> {:?}: {}", status.code(), status.message()),
        }
    }
    server.abort();
    Ok(())
}
