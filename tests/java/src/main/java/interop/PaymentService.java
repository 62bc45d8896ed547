package interop;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.util.concurrent.atomic.AtomicLong;
import payment.Payment.PaymentRequest;
import payment.Payment.PaymentResponse;
import payment.PaymentServiceGrpc;

/** The tutorial's payment service: approves payments up to the customer's limit. */
final class PaymentService extends PaymentServiceGrpc.PaymentServiceImplBase {
  /** The customer's limit: larger payments are declined, as in our Rust service. */
  private static final double LIMIT = 5000.0;

  private final Tracer tracer;
  private final AtomicLong transactions = new AtomicLong(122);

  PaymentService(Tracer tracer) {
    this.tracer = tracer;
  }

  @Override
  public void processPayment(
      PaymentRequest request, StreamObserver<PaymentResponse> responses) {
    // The tutorial's child span for the business logic, under the instrumentation's SERVER span.
    Span span = tracer.spanBuilder("validate_payment").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      span.setAttribute("payment.amount", request.getAmount());
      span.setAttribute("payment.currency", request.getCurrency());
      if (request.getAmount() <= 0) {
        responses.onError(
            Status.INVALID_ARGUMENT
                .withDescription("amount must be positive, got " + request.getAmount())
                .asRuntimeException());
        return;
      }
      if (request.getAmount() > LIMIT) {
        responses.onError(
            Status.FAILED_PRECONDITION
                .withDescription(
                    "payment declined: "
                        + request.getAmount()
                        + " is over the customer's limit of "
                        + LIMIT)
                .asRuntimeException());
        return;
      }
      responses.onNext(
          PaymentResponse.newBuilder()
              .setTransactionId("txn-" + transactions.incrementAndGet())
              .setStatus("approved")
              .build());
      responses.onCompleted();
    } finally {
      span.end();
    }
  }
}
