//! Example services traced with tonic-traced, from the tutorials the project grew from.

pub mod capitalize_service;
pub mod chat_service;
pub mod client_binary;
pub mod loopback;
pub mod order_service;
pub mod payment_service;
pub mod server_binary;
pub mod upload_service;

/// What the binaries print, stopping quietly when the reader has gone (`demo | head`):
/// `println!` and `eprintln!` panic when their stream is a closed pipe.
pub mod output {
    use std::error::Error;
    use std::fmt;
    use std::io::{self, Write};
    use std::process::ExitCode;

    /// Writes `text` and a newline to stdout, flushed; `Err` of kind
    /// [`BrokenPipe`](io::ErrorKind::BrokenPipe) when stdout is a pipe no one reads any more.
    pub fn line(text: fmt::Arguments<'_>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_fmt(text)?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// Writes `text` and a newline to stderr, ignoring failure: there is nowhere else to say it.
    pub fn warn(text: fmt::Arguments<'_>) {
        let _ = writeln!(io::stderr().lock(), "{text}");
    }

    /// Whether `error`, or an error it came from, is a write to a closed pipe.
    pub fn is_broken_pipe(error: &(dyn Error + 'static)) -> bool {
        let mut error = Some(error);
        while let Some(current) = error {
            if let Some(io) = current.downcast_ref::<io::Error>() {
                if io.kind() == io::ErrorKind::BrokenPipe {
                    return true;
                }
            }
            error = current.source();
        }
        false
    }

    /// The exit of a `main` that ran to `result`: success, also when it stopped because its
    /// output was closed; else `Error: …` on stderr, as a `main` returning the error prints it,
    /// and failure.
    pub fn exit(result: Result<(), Box<dyn Error>>) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) if is_broken_pipe(&*error) => ExitCode::SUCCESS,
            Err(error) => {
                warn(format_args!("Error: {error:?}"));
                ExitCode::FAILURE
            }
        }
    }
}

/// `println!` that returns the write's error instead of panicking: [`output::line`].
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::line(::std::format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(::std::format_args!($($arg)*))
    };
}

/// `eprintln!` that ignores a closed stderr instead of panicking: [`output::warn`].
#[macro_export]
macro_rules! warn_line {
    ($($arg:tt)*) => {
        $crate::output::warn(::std::format_args!($($arg)*))
    };
}

/// `payment.PaymentService` and `payment.OrderService` from `proto/payment.proto`.
pub mod payment {
    #![allow(missing_docs)]
    tonic::include_proto!("payment");
}

/// `rpc.Fetch`, the OpenCensus tutorial's service, from `proto/capitalize.proto`.
pub mod rpc {
    #![allow(missing_docs)]
    tonic::include_proto!("rpc");
}

/// `files.FileService`, a client-streaming upload, from `proto/files.proto`.
pub mod files {
    #![allow(missing_docs)]
    tonic::include_proto!("files");
}

/// `chat.ChatService`, a bidirectional-streaming chat, from `proto/chat.proto`.
pub mod chat {
    #![allow(missing_docs)]
    tonic::include_proto!("chat");
}
