// The first tutorial's payment service and order-update stream, written in Go with the
// official OpenTelemetry instrumentation (otelgrpc's stats handlers), the peer of
// tests/tests/go_interop.rs.
//
//	interop -spans FILE serve ADDR
//	    serves payment.PaymentService and payment.OrderService on ADDR, prints {"port": N},
//	    and when stdin closes stops gracefully and flushes its spans
//	interop -spans FILE call ADDR TRACEPARENT [TRACESTATE]
//	    calls ADDR as a child of the given W3C parent: an approved payment, an order-update
//	    stream and a declined payment; prints {"calls": [...]} with each call's status code
//
// Each finished span is written to FILE as one JSON line. Messages are dynamic, from
// examples/proto/payment.proto compiled at start with protocompile (no protoc, no generated
// code).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bufbuild/protocompile"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// limit is the customer's limit: larger payments are declined, as in our Rust service.
const limit = 5000.0

// updates is how many updates an order stream sends, as in the tutorial.
const updates = 10

func main() {
	spansPath := flag.String("spans", "", "file the finished spans are written to, one JSON line each")
	flag.Parse()
	args := flag.Args()
	if *spansPath == "" || len(args) < 2 {
		fail(errors.New("usage: interop -spans FILE serve ADDR | call ADDR TRACEPARENT [TRACESTATE]"))
	}
	exporter, err := newFileExporter(*spansPath)
	if err != nil {
		fail(err)
	}
	// The tutorial's setup, with the W3C propagators (otel's default propagator is a no-op)
	// and a synchronous exporter to the file instead of a batching OTLP one. The default
	// sampler is parent-based, always on.
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}))
	services, err := loadServices()
	if err != nil {
		fail(err)
	}
	switch args[0] {
	case "serve":
		err = serve(services, args[1])
	case "call":
		if len(args) < 3 {
			fail(errors.New("call needs ADDR TRACEPARENT [TRACESTATE]"))
		}
		tracestate := ""
		if len(args) > 3 {
			tracestate = args[3]
		}
		err = call(services, args[1], args[2], tracestate)
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if shutdownErr := provider.Shutdown(context.Background()); err == nil {
		err = shutdownErr
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "interop:", err)
	os.Exit(1)
}

// services holds the descriptors of payment.proto's two services.
type services struct {
	payment protoreflect.ServiceDescriptor
	order   protoreflect.ServiceDescriptor
}

func (s services) processPayment() protoreflect.MethodDescriptor {
	return s.payment.Methods().ByName("ProcessPayment")
}

func (s services) streamOrderUpdates() protoreflect.MethodDescriptor {
	return s.order.Methods().ByName("StreamOrderUpdates")
}

// loadServices compiles examples/proto/payment.proto, found from this file's folder.
func loadServices() (services, error) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			ImportPaths: []string{
				filepath.Join(root, "examples", "proto"),
				filepath.Join(root, "build-support", "proto"),
			},
		}),
	}
	files, err := compiler.Compile(context.Background(), "payment.proto")
	if err != nil {
		return services{}, err
	}
	file := files[0]
	return services{
		payment: file.Services().ByName("PaymentService"),
		order:   file.Services().ByName("OrderService"),
	}, nil
}

func fullMethod(method protoreflect.MethodDescriptor) string {
	return fmt.Sprintf("/%s/%s", method.Parent().FullName(), method.Name())
}

// --- server ---

func serve(svc services, address string) error {
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return err
	}
	// The tutorial's interceptors are gone from otelgrpc: its stats handler replaces them.
	server := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))
	server.RegisterService(paymentDesc(svc), nil)
	server.RegisterService(orderDesc(svc), nil)
	port := listener.Addr().(*net.TCPAddr).Port
	fmt.Printf("{\"port\": %d}\n", port)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	_, _ = io.Copy(io.Discard, os.Stdin)
	server.GracefulStop()
	return <-served
}

func paymentDesc(svc services) *grpc.ServiceDesc {
	method := svc.processPayment()
	var transactions atomic.Int64
	handler := func(_ any, ctx context.Context, decode func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		request := dynamicpb.NewMessage(method.Input())
		if err := decode(request); err != nil {
			return nil, err
		}
		fields := request.Descriptor().Fields()
		amount := request.Get(fields.ByName("amount")).Float()
		currency := request.Get(fields.ByName("currency")).String()

		// The tutorial's child span for the business logic.
		_, span := otel.Tracer("payment-service").Start(ctx, "validate_payment")
		defer span.End()
		span.SetAttributes(
			attribute.Float64("payment.amount", amount),
			attribute.String("payment.currency", currency),
		)
		if amount <= 0 {
			return nil, status.Errorf(codes.InvalidArgument, "amount must be positive, got %v", amount)
		}
		if amount > limit {
			return nil, status.Errorf(codes.FailedPrecondition,
				"payment declined: %v is over the customer's limit of %v", amount, limit)
		}
		response := dynamicpb.NewMessage(method.Output())
		out := response.Descriptor().Fields()
		number := transactions.Add(1) + 122
		response.Set(out.ByName("transaction_id"), protoreflect.ValueOfString(fmt.Sprintf("txn-%d", number)))
		response.Set(out.ByName("status"), protoreflect.ValueOfString("approved"))
		return response, nil
	}
	return &grpc.ServiceDesc{
		ServiceName: string(svc.payment.FullName()),
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: string(method.Name()), Handler: handler}},
		Metadata:    "payment.proto",
	}
}

func orderDesc(svc services) *grpc.ServiceDesc {
	method := svc.streamOrderUpdates()
	handler := func(_ any, stream grpc.ServerStream) error {
		request := dynamicpb.NewMessage(method.Input())
		if err := stream.RecvMsg(request); err != nil {
			return err
		}
		orderID := request.Get(request.Descriptor().Fields().ByName("order_id")).String()
		if orderID == "" {
			return status.Error(codes.InvalidArgument, "order_id is required")
		}
		tracer := otel.Tracer("order-service")
		ctx, span := tracer.Start(stream.Context(), "stream_order_updates")
		defer span.End()
		span.SetAttributes(attribute.String("order.id", orderID))
		for i := 0; i < updates; i++ {
			_, messageSpan := tracer.Start(ctx, "send_update")
			update := dynamicpb.NewMessage(method.Output())
			fields := update.Descriptor().Fields()
			update.Set(fields.ByName("order_id"), protoreflect.ValueOfString(orderID))
			update.Set(fields.ByName("status"), protoreflect.ValueOfString(fmt.Sprintf("Processing step %d", i)))
			if err := stream.SendMsg(update); err != nil {
				messageSpan.RecordError(err)
				messageSpan.End()
				return err
			}
			messageSpan.End()
			// The tutorial pauses 100 ms; a shorter pause keeps the test quick.
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	}
	return &grpc.ServiceDesc{
		ServiceName: string(svc.order.FullName()),
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName:    string(method.Name()),
			Handler:       handler,
			ServerStreams: true,
		}},
		Metadata: "payment.proto",
	}
}

// --- client ---

type callResult struct {
	Method   string `json:"method"`
	Code     uint32 `json:"code"`
	Messages int    `json:"messages"`
}

func call(svc services, address, traceparent, tracestate string) error {
	carrier := propagation.MapCarrier{"traceparent": traceparent}
	if tracestate != "" {
		carrier["tracestate"] = tracestate
	}
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), carrier)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return fmt.Errorf("not a valid traceparent: %q", traceparent)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	)
	if err != nil {
		return err
	}
	defer conn.Close()

	var results []callResult
	for _, amount := range []float64{99.99, 6000} {
		results = append(results, pay(ctx, conn, svc.processPayment(), amount))
		if amount == 99.99 {
			results = append(results, watch(ctx, conn, svc.streamOrderUpdates(), "order-1"))
		}
	}
	out, err := json.Marshal(map[string]any{"calls": results})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

func pay(ctx context.Context, conn *grpc.ClientConn, method protoreflect.MethodDescriptor, amount float64) callResult {
	request := dynamicpb.NewMessage(method.Input())
	fields := request.Descriptor().Fields()
	request.Set(fields.ByName("amount"), protoreflect.ValueOfFloat64(amount))
	request.Set(fields.ByName("currency"), protoreflect.ValueOfString("USD"))
	request.Set(fields.ByName("customer_id"), protoreflect.ValueOfString("cust-123"))
	response := dynamicpb.NewMessage(method.Output())
	err := conn.Invoke(ctx, fullMethod(method), request, response)
	return callResult{Method: string(method.Name()), Code: uint32(status.Code(err))}
}

func watch(ctx context.Context, conn *grpc.ClientConn, method protoreflect.MethodDescriptor, orderID string) callResult {
	result := callResult{Method: string(method.Name())}
	desc := &grpc.StreamDesc{StreamName: string(method.Name()), ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, fullMethod(method))
	if err == nil {
		request := dynamicpb.NewMessage(method.Input())
		request.Set(request.Descriptor().Fields().ByName("order_id"), protoreflect.ValueOfString(orderID))
		err = stream.SendMsg(request)
		if err == nil {
			err = stream.CloseSend()
		}
		for err == nil {
			update := dynamicpb.NewMessage(method.Output())
			if err = stream.RecvMsg(update); err == nil {
				result.Messages++
			}
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	result.Code = uint32(status.Code(err))
	return result
}

// --- spans to a file ---

// fileExporter writes each span as one JSON line.
type fileExporter struct {
	mu  sync.Mutex
	out *bufio.Writer
	f   *os.File
}

func newFileExporter(path string) (*fileExporter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &fileExporter{out: bufio.NewWriter(f), f: f}, nil
}

type spanJSON struct {
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	TraceID       string         `json:"trace_id"`
	SpanID        string         `json:"span_id"`
	ParentSpanID  string         `json:"parent_span_id"`
	ParentRemote  bool           `json:"parent_remote"`
	TraceState    string         `json:"trace_state"`
	Sampled       bool           `json:"sampled"`
	Status        string         `json:"status"`
	StatusMessage string         `json:"status_message"`
	Scope         string         `json:"scope"`
	Attributes    map[string]any `json:"attributes"`
	Events        []string       `json:"events"`
}

func (e *fileExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, span := range spans {
		record := spanJSON{
			Name:          span.Name(),
			Kind:          kindName(span.SpanKind()),
			TraceID:       span.SpanContext().TraceID().String(),
			SpanID:        span.SpanContext().SpanID().String(),
			TraceState:    span.SpanContext().TraceState().String(),
			Sampled:       span.SpanContext().IsSampled(),
			Status:        statusName(span.Status().Code),
			StatusMessage: span.Status().Description,
			Scope:         span.InstrumentationScope().Name,
			Attributes:    map[string]any{},
			Events:        []string{},
		}
		if parent := span.Parent(); parent.IsValid() {
			record.ParentSpanID = parent.SpanID().String()
			record.ParentRemote = parent.IsRemote()
		}
		for _, kv := range span.Attributes() {
			record.Attributes[string(kv.Key)] = kv.Value.AsInterface()
		}
		for _, event := range span.Events() {
			record.Events = append(record.Events, event.Name)
		}
		line, err := json.Marshal(record)
		if err != nil {
			return err
		}
		if _, err := e.out.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return e.out.Flush()
}

func (e *fileExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.out.Flush(); err != nil {
		return err
	}
	return e.f.Close()
}

func kindName(kind trace.SpanKind) string {
	switch kind {
	case trace.SpanKindServer:
		return "SERVER"
	case trace.SpanKindClient:
		return "CLIENT"
	case trace.SpanKindProducer:
		return "PRODUCER"
	case trace.SpanKindConsumer:
		return "CONSUMER"
	default:
		return "INTERNAL"
	}
}

func statusName(code otelcodes.Code) string {
	switch code {
	case otelcodes.Ok:
		return "OK"
	case otelcodes.Error:
		return "ERROR"
	default:
		return "UNSET"
	}
}
