//! A traced call that needs no server: the client layer around a transport that refuses.

use std::error::Error;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tonic::body::Body;
use tower_layer::Layer as _;
use tower_service::Service;

/// A transport whose every call fails before reaching a server.
struct Refusing;

impl Service<http::Request<Body>> for Refusing {
    type Response = http::Response<Body>;
    type Error = Box<dyn Error + Send + Sync>;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        ready(Err("connection refused".into()))
    }
}

/// Makes one traced call of `/test.Echo/Say`, which fails as UNAVAILABLE; its CLIENT span
/// ends before this returns. The request is made by hand, without tonic's `GrpcMethod`, so
/// the layer is told the method is known (else the stable conventions record `_OTHER`).
pub fn refused_call() {
    let mut client = tonic_traced::client::layer()
        .known_methods(["test.Echo/Say"])
        .layer(Refusing);
    let request = http::Request::builder()
        .uri("/test.Echo/Say")
        .body(Body::empty())
        .expect("a valid request");
    let call = pin!(client.call(request));
    let mut task = Context::from_waker(Waker::noop());
    match call.poll(&mut task) {
        Poll::Ready(result) => assert!(result.is_err(), "the transport refuses"),
        Poll::Pending => panic!("a refused call completes at once"),
    }
}
