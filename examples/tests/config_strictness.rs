//! A typo in an `OTEL_*` variable, in the deployed `payment-server`: by default (lenient) the
//! server starts and serves, and its log carries one warning naming the variable, its value
//! and the default used; with `TONIC_TRACED_CONFIG_STRICT=true` it stops at start-up with
//! that error instead.

#![cfg(unix)]

mod common;

use std::time::Duration;

use common::{example, start_server};
use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::PaymentRequest;
use tonic_traced_examples::server_binary::DRAIN_TIMEOUT;

/// The typo: `always_of` for `always_off`.
const TYPO: (&str, &str) = ("OTEL_TRACES_SAMPLER", "always_of");
const ERROR: &str = r#"OTEL_TRACES_SAMPLER="always_of" is not a sampler; use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio"#;

#[test]
fn by_default_a_bad_value_is_one_warning_and_the_server_serves() {
    let mut server = start_server(
        example(env!("CARGO_BIN_EXE_payment-server"))
            .arg("127.0.0.1:0")
            .env(TYPO.0, TYPO.1)
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none"),
    );
    // The client's runtime ends with the call: its connection does not hold up the shutdown.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the client");
    let reply = runtime.block_on(async {
        let channel = traced_channel(server.address).await.expect("connects");
        PaymentServiceClient::new(channel)
            .process_payment(PaymentRequest {
                amount: 99.99,
                currency: "USD".into(),
                customer_id: "customer-7".into(),
            })
            .await
            .expect("the payment is processed")
    });
    drop(runtime);
    assert_eq!(reply.into_inner().status, "approved");

    server.signal(libc::SIGTERM);
    let (status, stderr) = server.wait_for_exit(DRAIN_TIMEOUT + Duration::from_secs(5));
    assert!(status.success(), "{status}: {stderr}");
    // Configuration warnings (the server also warns once that it hashes without a key).
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains(" WARN tonic_traced::init"))
        .collect();
    let [warning] = warnings.as_slice() else {
        panic!("one warning:\n{stderr}");
    };
    assert!(
        warning.ends_with(&format!(
            " WARN tonic_traced::init: {ERROR}; ignored, using the default: \
             parentbased_always_on"
        )),
        "{warning}"
    );
}

#[test]
fn in_strict_mode_a_bad_value_stops_the_server_at_start_up() {
    let output = example(env!("CARGO_BIN_EXE_payment-server"))
        .arg("127.0.0.1:0")
        .env(TYPO.0, TYPO.1)
        .env("TONIC_TRACED_CONFIG_STRICT", "true")
        .output()
        .expect("the server runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("Error: {ERROR}\n")
    );
}
