//! A bidirectional-streaming call: each chat message is answered as it arrives.
//!
//! `#[traced_service]` gives the call one SERVER span, ending with the response stream, and
//! each message a `message RECEIVED` or `message SENT` span with `chat.user` and
//! `chat.text_length` (the text itself stays out of the trace).

use tonic::codegen::tokio_stream::StreamExt;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use crate::chat::chat_service_server::ChatService;
use crate::chat::ChatMessage;

/// The name the service answers as.
pub const BOT: &str = "echo-bot";

/// Answers every message with its text, shouted back.
#[derive(Debug, Default)]
pub struct EchoBot;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl ChatService for EchoBot {
    type ChatStream = BoxStream<ChatMessage>;

    async fn chat(
        &self,
        request: Request<Streaming<ChatMessage>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        // The request stream is read while the response stream is polled, in the call's
        // context, so the received messages' spans nest under the call's span.
        let replies = request.into_inner().map(|message| {
            let message = message?;
            Ok(ChatMessage {
                user: BOT.into(),
                text: format!("{}: {}!", message.user, message.text.to_uppercase()),
            })
        });
        Ok(Response::new(Box::pin(replies)))
    }
}
