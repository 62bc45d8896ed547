//! Each generated server trait knows the exact proto name and kind of its methods, reachable
//! from an impl in another module or crate that imported the trait by its bare name.

use tonic_traced::{RpcKind, RpcMethod};

mod elsewhere {
    //! Imports the trait by its bare name, far from the generated module.
    use tonic::codegen::BoxStream;
    use tonic::{Request, Response, Status, Streaming};
    use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
    use tonic_traced_tests::kitchen::sink::v1::HttpHeader;

    pub struct Things;

    #[tonic::async_trait]
    impl HttpThings for Things {
        async fn get_http_thing(
            &self,
            _: Request<HttpHeader>,
        ) -> Result<Response<HttpHeader>, Status> {
            Err(Status::unimplemented("test"))
        }
        type WatchHTTPThingsStream = BoxStream<HttpHeader>;
        async fn watch_http_things(
            &self,
            _: Request<HttpHeader>,
        ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
            Err(Status::unimplemented("test"))
        }
        async fn upload_http_things(
            &self,
            _: Request<Streaming<HttpHeader>>,
        ) -> Result<Response<()>, Status> {
            Err(Status::unimplemented("test"))
        }
        type ChatHTTPStream = BoxStream<HttpHeader>;
        async fn chat_http(
            &self,
            _: Request<Streaming<HttpHeader>>,
        ) -> Result<Response<Self::ChatHTTPStream>, Status> {
            Err(Status::unimplemented("test"))
        }
    }

    pub fn identities() -> [&'static super::RpcMethod; 4] {
        [
            <Things as HttpThings>::__tonic_traced_method_get_http_thing(),
            <Things as HttpThings>::__tonic_traced_method_watch_http_things(),
            <Things as HttpThings>::__tonic_traced_method_upload_http_things(),
            <Things as HttpThings>::__tonic_traced_method_chat_http(),
        ]
    }
}

mod other_crate {
    //! Implements a trait generated in the examples crate.
    use tonic::{Request, Response, Status};
    use tonic_traced_examples::payment::payment_service_server::PaymentService;
    use tonic_traced_examples::payment::{PaymentRequest, PaymentResponse};

    pub struct Payments;

    #[tonic::async_trait]
    impl PaymentService for Payments {
        async fn process_payment(
            &self,
            _: Request<PaymentRequest>,
        ) -> Result<Response<PaymentResponse>, Status> {
            Err(Status::unimplemented("test"))
        }
    }

    pub fn identity() -> &'static super::RpcMethod {
        <Payments as PaymentService>::__tonic_traced_method_process_payment()
    }
}

#[test]
fn proto_names_are_kept_exactly_with_each_rpc_kind() {
    let expected = [
        ("GetHTTPThing", RpcKind::Unary),
        ("WatchHTTPThings", RpcKind::ServerStreaming),
        ("UploadHTTPThings", RpcKind::ClientStreaming),
        ("ChatHTTP", RpcKind::BidiStreaming),
    ];
    for (identity, (method, kind)) in elsewhere::identities().into_iter().zip(expected) {
        assert_eq!(identity.service, "kitchen.sink.v1.HTTPThings");
        assert_eq!(identity.method, method);
        assert_eq!(
            identity.full_name,
            format!("kitchen.sink.v1.HTTPThings/{method}")
        );
        assert_eq!(identity.kind, kind);
    }
}

#[test]
fn identity_is_reachable_across_crates() {
    assert_eq!(
        *other_crate::identity(),
        RpcMethod {
            service: "payment.PaymentService",
            method: "ProcessPayment",
            full_name: "payment.PaymentService/ProcessPayment",
            kind: RpcKind::Unary,
        }
    );
}

#[test]
fn a_service_without_package_is_named_by_itself() {
    use tonic::{Request, Response, Status};
    use tonic_traced_tests::rootless_server::Rootless;
    use tonic_traced_tests::Ping;

    struct Server;
    #[tonic::async_trait]
    impl Rootless for Server {
        async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
            Ok(Response::new(request.into_inner()))
        }
    }
    let identity = <Server as Rootless>::__tonic_traced_method_ping();
    assert_eq!(identity.service, "Rootless");
    assert_eq!(identity.full_name, "Rootless/Ping");
}
