//! A traced `HTTPThings` service whose behaviour the request chooses, so one server covers
//! every RPC kind and failure path: `url_path` holds `;`-separated commands such as
//! `code=5`, `sleep=200`, `count=3`, `interval=10`, `panic`, `child`, `reject`, `trace`, `details`.

use std::pin::Pin;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use tonic::codegen::tokio_stream::{self, Stream, StreamExt};
use tonic::{Code, Request, Response, Status, Streaming};

use crate::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use crate::kitchen::sink::v1::HttpHeader;

/// The commands of one message.
#[derive(Debug, Default, Clone)]
pub struct Commands {
    /// Fail with this gRPC code.
    pub code: Option<i32>,
    /// Sleep this long first.
    pub sleep: Option<Duration>,
    /// Messages to stream back.
    pub count: usize,
    /// Pause between streamed messages.
    pub interval: Option<Duration>,
    /// Panic in the handler.
    pub panic: bool,
    /// Make a raw OpenTelemetry child span and a `tracing` child span.
    pub child: bool,
    /// Refuse a streaming call before any message (`FAILED_PRECONDITION`).
    pub reject: bool,
    /// Answer with the trace the handler runs in (`trace=<id>;sampled=<bool>`).
    pub trace: bool,
    /// Fail with error details: `ErrorInfo` (reason `TEST_REASON`, domain `kitchen.sink`),
    /// `BadRequest` (field `url_path`) and `RetryInfo` (2 s).
    pub details: bool,
}

impl Commands {
    /// Reads the commands of a message.
    pub fn of(message: &HttpHeader) -> Self {
        let mut commands = Commands::default();
        for command in message.url_path.split(';') {
            let (name, value) = command.split_once('=').unwrap_or((command, ""));
            let number = || value.parse::<u64>().unwrap_or(0);
            match name {
                "code" => commands.code = Some(number() as i32),
                "sleep" => commands.sleep = Some(Duration::from_millis(number())),
                "count" => commands.count = number() as usize,
                "interval" => commands.interval = Some(Duration::from_millis(number())),
                "panic" => commands.panic = true,
                "child" => commands.child = true,
                "reject" => commands.reject = true,
                "trace" => commands.trace = true,
                "details" => commands.details = true,
                _ => {}
            }
        }
        commands
    }

    /// Does what the commands say, as a handler would.
    async fn run(&self) -> Result<(), Status> {
        if let Some(sleep) = self.sleep {
            tokio::time::sleep(sleep).await;
        }
        if self.child {
            make_children().await;
        }
        if self.panic {
            panic!("the test asked for a panic");
        }
        match self.code {
            Some(code) if self.details => {
                use tonic_types::{ErrorDetails, StatusExt as _};
                let mut details = ErrorDetails::with_error_info("TEST_REASON", "kitchen.sink", []);
                details
                    .add_bad_request_violation("url_path", "asked for details")
                    .set_retry_info(Some(Duration::from_secs(2)));
                Err(Status::with_error_details(
                    Code::from(code),
                    format!("failed with code {code}"),
                    details,
                ))
            }
            Some(code) => Err(Status::new(
                Code::from(code),
                format!("failed with code {code}"),
            )),
            None => Ok(()),
        }
    }
}

/// The trace id and sampled flag of the context the handler runs in.
fn current_trace() -> String {
    use opentelemetry::trace::TraceContextExt as _;
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let context = span.span_context();
        format!(
            "trace={};sampled={}",
            context.trace_id(),
            context.is_sampled()
        )
    })
}

/// The Go tutorial's `validate_payment` child made with the raw OpenTelemetry API, and a
/// `#[tracing::instrument]` span, both inside the handler.
async fn make_children() {
    let mut span = opentelemetry::global::tracer("handler").start("validate_payment");
    tokio::task::yield_now().await;
    span.end();
    instrumented_step().await;
}

#[tracing::instrument]
async fn instrumented_step() {
    tokio::task::yield_now().await;
    tracing::info!("inside the handler");
}

/// The service under test. Its unary answers carry the response header `x-served-by: things`.
#[derive(Debug, Default)]
pub struct Things;

/// A stream of `HttpHeader` results, boxed.
pub type HeaderStream = Pin<Box<dyn Stream<Item = Result<HttpHeader, Status>> + Send>>;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Things {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        let commands = Commands::of(request.get_ref());
        commands.run().await?;
        if commands.trace {
            return Ok(Response::new(HttpHeader {
                url_path: current_trace(),
            }));
        }
        let mut response = Response::new(request.into_inner());
        response
            .metadata_mut()
            .insert("x-served-by", "things".parse().expect("ASCII"));
        Ok(response)
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        let commands = Commands::of(request.get_ref());
        if commands.reject {
            return Err(Status::failed_precondition("rejected before streaming"));
        }
        let interval = commands.interval.unwrap_or_default();
        let fail = commands.code;
        let messages = (1..=commands.count).map(|n| {
            Ok(HttpHeader {
                url_path: format!("update {n}"),
            })
        });
        let failure = fail.map(|code| Err(Status::new(Code::from(code), "stream failed")));
        let stream = tokio_stream::iter(messages.chain(failure)).then(move |item| async move {
            tokio::time::sleep(interval).await;
            item
        });
        Ok(Response::new(
            Box::pin(stream) as Self::WatchHTTPThingsStream
        ))
    }

    async fn upload_http_things(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        let mut uploads = request.into_inner();
        while let Some(upload) = uploads.message().await? {
            Commands::of(&upload).run().await?;
        }
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        let replies = request.into_inner().map(|received| {
            let message = received?;
            match Commands::of(&message).code {
                Some(code) => Err(Status::new(Code::from(code), "chat failed")),
                None => Ok(HttpHeader {
                    url_path: format!("echo {}", message.url_path),
                }),
            }
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

/// The service, ready to add to a tonic router.
pub fn server() -> HttpThingsServer<Things> {
    HttpThingsServer::new(Things)
}
