package interop;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Writes each finished span to a file as one JSON object a line, in the shape the Go peer
 * writes (tests/go/main.go), with each event's attributes beside its name.
 */
final class JsonLinesExporter implements SpanExporter {
  private final Gson gson = new GsonBuilder().disableHtmlEscaping().create();
  private final BufferedWriter out;

  JsonLinesExporter(Path path) throws IOException {
    out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
  }

  @Override
  public synchronized CompletableResultCode export(Collection<SpanData> spans) {
    try {
      for (SpanData span : spans) {
        out.write(gson.toJson(record(span)));
        out.newLine();
      }
      out.flush();
      return CompletableResultCode.ofSuccess();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public synchronized CompletableResultCode shutdown() {
    try {
      out.close();
      return CompletableResultCode.ofSuccess();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Object> record(SpanData span) {
    SpanContext context = span.getSpanContext();
    SpanContext parent = span.getParentSpanContext();
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("name", span.getName());
    record.put("kind", span.getKind().name());
    record.put("trace_id", context.getTraceId());
    record.put("span_id", context.getSpanId());
    record.put("parent_span_id", parent.isValid() ? parent.getSpanId() : "");
    record.put("parent_remote", parent.isRemote());
    record.put("trace_state", traceState(context));
    record.put("sampled", context.isSampled());
    record.put("status", span.getStatus().getStatusCode().name());
    record.put("status_message", span.getStatus().getDescription());
    record.put("scope", span.getInstrumentationScopeInfo().getName());
    record.put("attributes", attributes(span.getAttributes().asMap()));
    List<Map<String, Object>> events = new ArrayList<>();
    for (EventData event : span.getEvents()) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("name", event.getName());
      json.put("attributes", attributes(event.getAttributes().asMap()));
      events.add(json);
    }
    record.put("events", events);
    return record;
  }

  /** Attribute values as JSON has them: strings, numbers, booleans and arrays of them. */
  private static Map<String, Object> attributes(Map<AttributeKey<?>, Object> attributes) {
    Map<String, Object> json = new LinkedHashMap<>();
    attributes.forEach((key, value) -> json.put(key.getKey(), value));
    return json;
  }

  /** The `tracestate` header value of a span context: its members in order. */
  private static String traceState(SpanContext context) {
    StringJoiner header = new StringJoiner(",");
    context.getTraceState().forEach((key, value) -> header.add(key + "=" + value));
    return header.toString();
  }
}
