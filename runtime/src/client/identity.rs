//! Which method a client request calls, as exactly as the request can tell.

use std::borrow::Cow;

use tonic::GrpcMethod;

use crate::{RpcKind, RpcMethod};

/// Put in each request by clients that `tonic-traced-build` generates: the method's exact proto
/// identity and kind.
#[derive(Debug, Clone, Copy)]
pub struct ClientMethod(pub &'static RpcMethod);

/// The method of one call.
pub(crate) struct CallIdentity {
    pub(crate) service: Cow<'static, str>,
    pub(crate) method: Cow<'static, str>,
    pub(crate) full_name: Cow<'static, str>,
    /// Known for generated clients only.
    pub(crate) kind: Option<RpcKind>,
}

impl CallIdentity {
    /// From the generated identity, else tonic's `GrpcMethod`, else the path `/pkg.Svc/Method`.
    pub(crate) fn of<B>(request: &http::Request<B>) -> Self {
        if let Some(ClientMethod(method)) = request.extensions().get::<ClientMethod>() {
            return CallIdentity {
                service: Cow::Borrowed(method.service),
                method: Cow::Borrowed(method.method),
                full_name: Cow::Borrowed(method.full_name),
                kind: Some(method.kind),
            };
        }
        let (service, method) = match request.extensions().get::<GrpcMethod<'static>>() {
            Some(grpc) => (grpc.service().to_owned(), grpc.method().to_owned()),
            None => {
                let path = request.uri().path().trim_start_matches('/');
                match path.split_once('/') {
                    Some((service, method)) => (service.to_owned(), method.to_owned()),
                    None => (path.to_owned(), String::new()),
                }
            }
        };
        CallIdentity {
            full_name: Cow::Owned(format!("{service}/{method}")),
            service: Cow::Owned(service),
            method: Cow::Owned(method),
            kind: None,
        }
    }
}
