package interop;

import com.google.gson.Gson;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import payment.OrderServiceGrpc;
import payment.Payment.OrderRequest;
import payment.Payment.OrderUpdate;
import payment.Payment.PaymentRequest;
import payment.PaymentServiceGrpc;

/**
 * The first tutorial's payment service and order-update stream, written in Java with
 * OpenTelemetry's gRPC library instrumentation: the peer of tests/tests/java_interop.rs.
 *
 * <pre>
 * Interop -spans FILE serve ADDR
 *     serves payment.PaymentService and payment.OrderService on ADDR (HOST:PORT), prints
 *     {"port": N}, and when stdin closes stops gracefully and flushes its spans
 * Interop -spans FILE call ADDR TRACEPARENT [TRACESTATE]
 *     calls ADDR as a child of the given W3C parent: an approved payment, an order-update
 *     stream and a declined payment; prints {"calls": [...]} with each call's status code
 * </pre>
 *
 * <p>Each finished span is written to FILE as one JSON line.
 */
public final class Interop {
  private static final String USAGE =
      "usage: Interop -spans FILE serve ADDR | call ADDR TRACEPARENT [TRACESTATE]";

  private Interop() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4 || !args[0].equals("-spans")) {
      fail(USAGE);
    }
    // The library instrumentation's setup: an SDK with the W3C propagators and a synchronous
    // exporter to the file instead of a batching OTLP one. The default sampler is
    // parent-based, always on.
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(new JsonLinesExporter(Path.of(args[1]))))
            .build();
    OpenTelemetrySdk openTelemetry =
        OpenTelemetrySdk.builder()
            .setTracerProvider(provider)
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    GrpcTelemetry grpc = GrpcTelemetry.create(openTelemetry);
    try {
      switch (args[2]) {
        case "serve":
          serve(openTelemetry, grpc, args[3]);
          break;
        case "call":
          if (args.length < 5) {
            fail("call needs ADDR TRACEPARENT [TRACESTATE]");
          }
          call(openTelemetry, grpc, args[3], args[4], args.length > 5 ? args[5] : "");
          break;
        default:
          fail("unknown command " + args[2] + "\n" + USAGE);
      }
    } finally {
      openTelemetry.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  private static void fail(String message) {
    System.err.println("interop: " + message);
    System.exit(1);
  }

  // --- server ---

  private static void serve(OpenTelemetrySdk openTelemetry, GrpcTelemetry grpc, String address)
      throws IOException, InterruptedException {
    int colon = address.lastIndexOf(':');
    InetSocketAddress listen =
        new InetSocketAddress(
            address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    Server server =
        NettyServerBuilder.forAddress(listen)
            .addService(new PaymentService(openTelemetry.getTracer("payment-service")))
            .addService(new OrderService(openTelemetry.getTracer("order-service")))
            .intercept(grpc.createServerInterceptor())
            .build()
            .start();
    System.out.println("{\"port\": " + server.getPort() + "}");
    System.out.flush();
    InputStream stdin = System.in;
    while (stdin.read(new byte[4096]) != -1) {
      // Until the test closes stdin.
    }
    server.shutdown();
    server.awaitTermination();
  }

  // --- client ---

  /** Reads a W3C parent from a map of headers. */
  private static final TextMapGetter<Map<String, String>> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private static void call(
      OpenTelemetrySdk openTelemetry,
      GrpcTelemetry grpc,
      String address,
      String traceparent,
      String tracestate)
      throws InterruptedException {
    Map<String, String> carrier = new HashMap<>();
    carrier.put("traceparent", traceparent);
    if (!tracestate.isEmpty()) {
      carrier.put("tracestate", tracestate);
    }
    Context parent =
        openTelemetry
            .getPropagators()
            .getTextMapPropagator()
            .extract(Context.root(), carrier, HEADERS);
    if (!Span.fromContext(parent).getSpanContext().isValid()) {
      fail("not a valid traceparent: " + traceparent);
    }
    ManagedChannel channel =
        Grpc.newChannelBuilder(address, InsecureChannelCredentials.create())
            .intercept(grpc.createClientInterceptor())
            .build();
    List<Map<String, Object>> results = new ArrayList<>();
    try (Scope ignored = parent.makeCurrent()) {
      PaymentServiceGrpc.PaymentServiceBlockingStub payments =
          PaymentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      OrderServiceGrpc.OrderServiceBlockingStub orders =
          OrderServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      results.add(pay(payments, 99.99));
      results.add(watch(orders, "order-1"));
      results.add(pay(payments, 6000));
    } finally {
      channel.shutdown().awaitTermination(10, TimeUnit.SECONDS);
    }
    System.out.println(new Gson().toJson(Map.of("calls", results)));
  }

  private static Map<String, Object> pay(
      PaymentServiceGrpc.PaymentServiceBlockingStub payments, double amount) {
    PaymentRequest request =
        PaymentRequest.newBuilder()
            .setAmount(amount)
            .setCurrency("USD")
            .setCustomerId("cust-123")
            .build();
    Status status = Status.OK;
    try {
      payments.processPayment(request);
    } catch (StatusRuntimeException e) {
      status = e.getStatus();
    }
    return result("ProcessPayment", status, 0);
  }

  private static Map<String, Object> watch(
      OrderServiceGrpc.OrderServiceBlockingStub orders, String orderId) {
    int messages = 0;
    Status status = Status.OK;
    try {
      Iterator<OrderUpdate> updates =
          orders.streamOrderUpdates(OrderRequest.newBuilder().setOrderId(orderId).build());
      while (updates.hasNext()) {
        updates.next();
        messages++;
      }
    } catch (StatusRuntimeException e) {
      status = e.getStatus();
    }
    return result("StreamOrderUpdates", status, messages);
  }

  private static Map<String, Object> result(String method, Status status, int messages) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("method", method);
    result.put("code", status.getCode().value());
    result.put("messages", messages);
    return result;
  }
}
