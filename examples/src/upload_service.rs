//! A client-streaming call: a file uploaded in chunks, answered with one summary.
//!
//! `#[traced_service]` gives the call one SERVER span and each chunk the handler reads a
//! `message RECEIVED` span with its annotated fields (`file.name`, `chunk.index`,
//! `chunk.size`); the summary is a `message SENT` span.

use tonic::{Request, Response, Status, Streaming};

use crate::files::file_service_server::FileService;
use crate::files::{Chunk, UploadSummary};

/// Receives uploads and counts what arrived; the bytes themselves are dropped.
#[derive(Debug, Default)]
pub struct Uploads;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl FileService for Uploads {
    async fn upload(
        &self,
        request: Request<Streaming<Chunk>>,
    ) -> Result<Response<UploadSummary>, Status> {
        let mut chunks = request.into_inner();
        let mut summary = UploadSummary::default();
        // Reading the stream here, in the handler, keeps each message span under the call's.
        while let Some(chunk) = chunks.message().await? {
            if summary.chunks == 0 {
                summary.file_name = chunk.file_name;
            } else if chunk.file_name != summary.file_name {
                return Err(Status::invalid_argument(format!(
                    "chunk {} is for {:?}, the upload is {:?}",
                    chunk.index, chunk.file_name, summary.file_name
                )));
            }
            if chunk.index != summary.chunks + 1 {
                return Err(Status::invalid_argument(format!(
                    "chunk {} arrived after chunk {}",
                    chunk.index, summary.chunks
                )));
            }
            summary.chunks += 1;
            summary.size += chunk.data.len() as u64;
        }
        if summary.chunks == 0 {
            return Err(Status::invalid_argument(
                "an upload needs at least one chunk",
            ));
        }
        Ok(Response::new(summary))
    }
}
