package interop;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import payment.OrderServiceGrpc;
import payment.Payment.OrderRequest;
import payment.Payment.OrderUpdate;

/** The tutorial's order-update stream: ten updates of one order. */
final class OrderService extends OrderServiceGrpc.OrderServiceImplBase {
  /** Updates per stream, as in the tutorial. */
  static final int UPDATES = 10;

  private final Tracer tracer;

  OrderService(Tracer tracer) {
    this.tracer = tracer;
  }

  @Override
  public void streamOrderUpdates(OrderRequest request, StreamObserver<OrderUpdate> updates) {
    if (request.getOrderId().isEmpty()) {
      updates.onError(
          Status.INVALID_ARGUMENT.withDescription("order_id is required").asRuntimeException());
      return;
    }
    Span stream = tracer.spanBuilder("stream_order_updates").startSpan();
    try (Scope ignored = stream.makeCurrent()) {
      stream.setAttribute("order.id", request.getOrderId());
      for (int i = 0; i < UPDATES; i++) {
        Span send = tracer.spanBuilder("send_update").startSpan();
        try {
          updates.onNext(
              OrderUpdate.newBuilder()
                  .setOrderId(request.getOrderId())
                  .setStatus("Processing step " + i)
                  .build());
        } finally {
          send.end();
        }
        // The tutorial pauses 100 ms; a shorter pause keeps the test quick.
        Thread.sleep(10);
      }
      updates.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      updates.onError(Status.CANCELLED.withCause(e).asRuntimeException());
    } finally {
      stream.end();
    }
  }
}
