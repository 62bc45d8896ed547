//! The gRPC status a transport error means, for the span of a call that failed below tonic.

use std::error::Error;

use tonic::{Code, Status, TimeoutExpired};

/// An error a gRPC transport service returns instead of a response.
pub trait CallError: std::fmt::Display {
    /// The status the caller will see: the `Status` inside the error if there is one,
    /// `DEADLINE_EXCEEDED` for tonic's own timeout (`TimeoutExpired`), else `UNAVAILABLE`.
    fn code(&self) -> Code;
}

fn code_of(error: &(dyn Error + 'static)) -> Code {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(status) = error.downcast_ref::<Status>() {
            return status.code();
        }
        if error.is::<TimeoutExpired>() {
            return Code::DeadlineExceeded;
        }
        source = error.source();
    }
    Code::Unavailable
}

/// The error of `Channel`.
#[cfg(feature = "transport")]
impl CallError for tonic::transport::Error {
    fn code(&self) -> Code {
        code_of(self)
    }
}

/// The error of services stacked with tower layers (timeouts, buffers, load shedding).
impl CallError for Box<dyn Error + Send + Sync> {
    fn code(&self) -> Code {
        code_of(self.as_ref())
    }
}
