//! The Go tutorial's order-update stream: ten status updates for one order.

use std::time::Duration;

use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::payment::order_service_server::OrderService;
use crate::payment::{OrderRequest, OrderUpdate};

/// Streams `updates` updates per order, `interval` apart.
#[derive(Debug, Clone)]
pub struct OrderUpdates {
    /// Updates sent per order.
    pub updates: usize,
    /// Pause between two updates.
    pub interval: Duration,
}

impl Default for OrderUpdates {
    fn default() -> Self {
        OrderUpdates {
            updates: 10,
            interval: Duration::from_millis(100),
        }
    }
}

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl OrderService for OrderUpdates {
    type StreamOrderUpdatesStream = ReceiverStream<Result<OrderUpdate, Status>>;

    async fn stream_order_updates(
        &self,
        request: Request<OrderRequest>,
    ) -> Result<Response<Self::StreamOrderUpdatesStream>, Status> {
        let order_id = request.into_inner().order_id;
        if order_id.is_empty() {
            return Err(Status::invalid_argument("order_id is required"));
        }
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let settings = self.clone();
        tokio::spawn(async move {
            for step in 0..settings.updates {
                let update = OrderUpdate {
                    order_id: order_id.clone(),
                    status: format!("Processing step {step}"),
                };
                if sender.send(Ok(update)).await.is_err() {
                    return;
                }
                tokio::time::sleep(settings.interval).await;
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
