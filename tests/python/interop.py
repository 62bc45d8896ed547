"""A Python gRPC peer instrumented with the official OpenTelemetry instrumentation.

    interop.py client HOST:PORT   calls our HTTPThings server, prints the client spans as JSON
    interop.py server             serves HTTPThings, prints {"port": N}, and when stdin
                                  closes prints the server spans as JSON

Stubs are generated from tests/proto at start with grpcio-tools.
"""

import json
import os
import sys
import tempfile
from concurrent import futures

import grpc
from grpc_tools import protoc
from importlib import resources
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOTS = [
    os.path.join(HERE, "..", "proto"),
    os.path.join(HERE, "..", "..", "build-support", "proto"),
    str(resources.files("grpc_tools") / "_proto"),
]


def load_stubs():
    out = tempfile.mkdtemp(prefix="interop-stubs-")
    args = ["protoc", *[f"-I{root}" for root in PROTO_ROOTS]]
    args += [f"--python_out={out}", f"--grpc_python_out={out}"]
    args += ["kitchen/sink/v1/kitchen.proto", "common/address.proto", "tonic_traced/trace.proto"]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    from kitchen.sink.v1 import kitchen_pb2, kitchen_pb2_grpc

    return kitchen_pb2, kitchen_pb2_grpc


def install_sdk():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def span_json(span):
    parent = span.parent.span_id if span.parent else None
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "parent_span_id": format(parent, "016x") if parent else None,
        "attributes": {key: value for key, value in span.attributes.items()},
        "status": span.status.status_code.name,
    }


def dump(exporter):
    spans = [span_json(span) for span in exporter.get_finished_spans()]
    print(json.dumps({"spans": spans}), flush=True)


def run_client(target):
    exporter = install_sdk()
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

    GrpcInstrumentorClient().instrument()
    pb, pb_grpc = load_stubs()
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.HTTPThingsStub(channel)
        stub.GetHTTPThing(pb.HTTPHeader(URLPath="ok"))
        updates = list(stub.WatchHTTPThings(pb.HTTPHeader(URLPath="count=3")))
        assert len(updates) == 3, updates
        try:
            stub.GetHTTPThing(pb.HTTPHeader(URLPath="code=14"))
            sys.exit("the failing call succeeded")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error
    dump(exporter)


def run_server():
    exporter = install_sdk()
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorServer

    GrpcInstrumentorServer().instrument()
    pb, pb_grpc = load_stubs()

    class Things(pb_grpc.HTTPThingsServicer):
        def GetHTTPThing(self, request, context):
            if request.URLPath.startswith("code="):
                code = int(request.URLPath.split("=")[1])
                status = next(s for s in grpc.StatusCode if s.value[0] == code)
                context.abort(status, f"failed with code {code}")
            return request

        def WatchHTTPThings(self, request, context):
            count = int(request.URLPath.split("=")[1])
            for n in range(count):
                yield pb.HTTPHeader(URLPath=f"update {n + 1}")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_HTTPThingsServicer_to_server(Things(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()
    server.stop(grace=1).wait()
    dump(exporter)


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        run_client(sys.argv[2])
    elif sys.argv[1:2] == ["server"]:
        run_server()
    else:
        sys.exit(__doc__)
