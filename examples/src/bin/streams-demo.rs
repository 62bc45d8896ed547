//! The streaming RPC kinds the demo does not show: a client-streaming upload and a
//! bidirectional chat, both served on loopback and called through traced clients.
//!
//! `streams-demo [CHUNKS]` uploads a file in `CHUNKS` chunks (default 5), then chats three
//! lines. With nothing configured each call's trace prints on stderr as a waterfall: the CLIENT
//! span, its SERVER span, and one `message SENT`/`message RECEIVED` span per streamed message
//! on each side. With `OTEL_EXPORTER_OTLP_ENDPOINT` set the traces go to that collector.

use std::process::ExitCode;

use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Server;
use tonic_traced_examples::chat::chat_service_client::ChatServiceClient;
use tonic_traced_examples::chat::chat_service_server::ChatServiceServer;
use tonic_traced_examples::chat::ChatMessage;
use tonic_traced_examples::chat_service::EchoBot;
use tonic_traced_examples::files::file_service_client::FileServiceClient;
use tonic_traced_examples::files::file_service_server::FileServiceServer;
use tonic_traced_examples::files::Chunk;
use tonic_traced_examples::loopback::{serve, traced_channel};
use tonic_traced_examples::output;
use tonic_traced_examples::say;
use tonic_traced_examples::upload_service::Uploads;

/// Bytes per uploaded chunk.
const CHUNK_SIZE: usize = 1024;

#[tokio::main]
async fn main() -> ExitCode {
    output::exit(run().await)
}

/// The streaming demo; `Err` of a broken pipe when its output was closed.
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let chunks: u32 = match std::env::args().nth(1) {
        Some(chunks) => chunks
            .parse()
            .map_err(|error| format!("streams-demo: bad chunk count {chunks:?}: {error}"))?,
        None => 5,
    };
    let telemetry = tonic_traced::Init::default()
        .service_name("tonic-traced-streams-demo")
        .install()?;

    let files = serve(Server::builder().add_service(FileServiceServer::new(Uploads))).await?;
    let chat = serve(Server::builder().add_service(ChatServiceServer::new(EchoBot))).await?;
    say!("file service on {files}, chat service on {chat}\n")?;

    // Client streaming: the chunks go out as one stream, one summary comes back.
    let mut file_client = FileServiceClient::new(traced_channel(files).await?);
    let upload = tokio_stream::iter(1..=chunks).map(|index| Chunk {
        file_name: "report.pdf".into(),
        index,
        data: vec![b'x'; CHUNK_SIZE],
    });
    let summary = file_client.upload(upload).await?.into_inner();
    say!(
        "upload: {} chunks, {} bytes of {}",
        summary.chunks,
        summary.size,
        summary.file_name
    )?;

    // Bidirectional streaming: each line is sent once the previous answer is in.
    let mut chat_client = ChatServiceClient::new(traced_channel(chat).await?);
    let (outgoing, outgoing_stream) = tokio::sync::mpsc::channel(1);
    let mut answers = chat_client
        .chat(ReceiverStream::new(outgoing_stream))
        .await?
        .into_inner();
    for text in ["hi", "how are you", "bye"] {
        outgoing
            .send(ChatMessage {
                user: "alice".into(),
                text: text.into(),
            })
            .await?;
        say!("alice: {text}")?;
        match answers.message().await? {
            Some(answer) => say!("{}: {}", answer.user, answer.text)?,
            None => return Err("the chat ended early".into()),
        }
    }
    // Closing our side ends the server's stream, and with it the call.
    drop(outgoing);
    while answers.message().await?.is_some() {}
    say!()?;

    // Flushes the telemetry: with nothing configured, the metrics table prints.
    telemetry.shutdown()?;
    Ok(())
}
