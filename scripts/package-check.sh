#!/usr/bin/env bash
# The crates as they would be published: `cargo package` of the three (each verified by building
# it from its .crate), then a consumer crate outside the workspace, built against the unpacked
# .crate files (not the workspace paths): the README's Quickstart service (examples/ proto,
# which docs-check keeps equal to the README's) serving one call through the client layer on
# 127.0.0.1, traced to the console. Run by .ci/run; takes a few minutes on a warm target/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
export CARGO_TARGET_DIR=$target

# A dirty tree is packaged only when asked (a developer's run); CI's clone is clean.
allow_dirty=()
if [ "${ALLOW_DIRTY:-false}" = true ]; then
    allow_dirty=(--allow-dirty)
fi
cargo package "${allow_dirty[@]}" -p tonic-traced-macros -p tonic-traced -p tonic-traced-build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/crates" "$work/consumer/src" "$work/consumer/proto"
for crate in tonic-traced-macros tonic-traced tonic-traced-build; do
    tar -xzf "$target/package/$crate-0.1.0.crate" -C "$work/crates"
done

cd "$work/consumer"
cat > Cargo.toml <<EOF
[package]
name = "consumer"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
tonic-traced = "0.1"
tonic = "0.14"
tonic-prost = "0.14"
prost = "0.14"
tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }
tokio-stream = { version = "0.1", features = ["net"] }
tower-layer = "0.3"

[build-dependencies]
tonic-traced-build = "0.1"

# Not on crates.io yet: the unpacked .crate files stand in for it.
[patch.crates-io]
tonic-traced = { path = "../crates/tonic-traced-0.1.0" }
tonic-traced-macros = { path = "../crates/tonic-traced-macros-0.1.0" }
tonic-traced-build = { path = "../crates/tonic-traced-build-0.1.0" }
EOF
cp "$repo/examples/proto/payment.proto" proto/
# The workspace's versions, so that the shared target/ is reused.
cp "$repo/Cargo.lock" .
cat > build.rs <<'EOF'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_traced_build::configure().compile_protos(&["proto/payment.proto"], &["proto"])?;
    Ok(())
}
EOF
cat > src/main.rs <<'EOF'
use payment::payment_service_client::PaymentServiceClient;
use payment::payment_service_server::{PaymentService, PaymentServiceServer};
use payment::{PaymentRequest, PaymentResponse};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};
use tower_layer::Layer;

mod payment {
    tonic::include_proto!("payment");
}

#[derive(Default)]
struct Payments;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl PaymentService for Payments {
    async fn process_payment(
        &self,
        request: Request<PaymentRequest>,
    ) -> Result<Response<PaymentResponse>, Status> {
        let payment = request.into_inner();
        Ok(Response::new(PaymentResponse {
            transaction_id: "txn-123".into(),
            status: format!("approved: {} {}", payment.amount, payment.currency),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = tonic_traced::Init::default().service_name("consumer").install()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .add_service(PaymentServiceServer::new(Payments))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = Channel::from_shared(format!("http://{address}"))?.connect().await?;
    let mut client = PaymentServiceClient::new(tonic_traced::client::layer().layer(channel));
    let reply = client
        .process_payment(PaymentRequest {
            amount: 99.99,
            currency: "USD".into(),
            customer_id: "cust-123".into(),
        })
        .await?
        .into_inner();
    println!("{}", reply.status);
    telemetry.shutdown()?;
    Ok(())
}
EOF
cargo run --quiet > stdout.txt 2> stderr.txt || {
    cat stdout.txt stderr.txt
    echo "package-check: the consumer crate failed" >&2
    exit 1
}
grep -qx "approved: 99.99 USD" stdout.txt || {
    cat stdout.txt
    echo "package-check: the consumer's call did not answer as expected" >&2
    exit 1
}
# One trace: the CLIENT span and its SERVER child, the annotated amount on them.
for expected in "payment.PaymentService/ProcessPayment" "CLIENT" "SERVER" "payment.amount=99.99"; do
    grep -q -- "$expected" stderr.txt || {
        cat stderr.txt
        echo "package-check: the console trace lacks $expected" >&2
        exit 1
    }
done
echo "package-check: 3 crates packaged; a consumer built from the .crate files served and traced a call"
