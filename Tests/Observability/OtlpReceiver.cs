using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace Tests.Observability;

public sealed record CollectedSpan(string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes);

/// <summary>An exported log record; <paramref name="Severity"/> is OTLP's number (9 Information, 13 Warning, 17 Error, 21 Fatal).</summary>
public sealed record CollectedLog(string Service, string TraceId, string Body, IReadOnlyDictionary<string, string> Attributes, int Severity);

/// <summary>
/// An OTLP/HTTP receiver the services of the test graph export their traces and logs to (protobuf, <c>/v1/traces</c>
/// and <c>/v1/logs</c>), so a test can assert on what was really exported. Metrics are accepted and dropped. The
/// messages are read field by field with Google.Protobuf's wire reader: only the few fields the tests look at.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<CollectedSpan> _spans = new();
    private readonly ConcurrentQueue<CollectedLog> _logs = new();
    private readonly Task _receiving;

    public OtlpReceiver()
    {
        var port = LoopbackPorts.Free();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _receiving = ReceiveAsync();
    }

    public Uri Endpoint { get; }

    /// <summary>The settings that point a service's OpenTelemetry exporter here, exporting spans and logs every half second.</summary>
    public IEnumerable<KeyValuePair<string, string>> ExporterSettings()
    {
        yield return new("OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint.ToString().TrimEnd('/'));
        yield return new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        yield return new("OTEL_BSP_SCHEDULE_DELAY", "500");
        yield return new("OTEL_BLRP_SCHEDULE_DELAY", "500");
    }

    public IReadOnlyList<CollectedLog> Logs => [.. _logs];

    /// <summary>The spans of the trace once <paramref name="complete"/> says they are all there, or what has arrived by the timeout.</summary>
    public Task<IReadOnlyList<CollectedSpan>> WaitForTraceAsync(string traceId, Func<IReadOnlyList<CollectedSpan>, bool> complete, TimeSpan timeout)
        => Eventually.UntilAsync<IReadOnlyList<CollectedSpan>>(() => [.. _spans.Where(s => s.TraceId == traceId)], complete, timeout);

    /// <summary>The first log record that matches, once the services have exported it; null if none arrived by the timeout.</summary>
    public Task<CollectedLog?> WaitForLogAsync(Func<CollectedLog, bool> match, TimeSpan timeout)
        => Eventually.UntilAsync(() => _logs.FirstOrDefault(match), log => log is not null, timeout);

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using (context.Response)
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                switch (context.Request.Url?.AbsolutePath)
                {
                    case "/v1/traces":
                        foreach (var span in ReadTraces(body.ToArray()))
                        {
                            _spans.Enqueue(span);
                        }

                        break;
                    case "/v1/logs":
                        foreach (var log in ReadLogs(body.ToArray()))
                        {
                            _logs.Enqueue(log);
                        }

                        break;
                }

                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
        }
    }

    // opentelemetry/proto/collector/trace/v1: ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.resource = 1,
    // .scope_spans = 2; Resource.attributes = 1; ScopeSpans.spans = 2; Span.trace_id = 1, span_id = 2,
    // parent_span_id = 4, name = 5, attributes = 9; KeyValue.key = 1, value = 2; AnyValue.string_value = 1.
    private static IEnumerable<CollectedSpan> ReadTraces(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            var service = ServiceOf(resourceSpans);
            foreach (var span in Fields(resourceSpans, 2).SelectMany(scopeSpans => Fields(scopeSpans, 2)))
            {
                var parent = Hex(Fields(span, 4).FirstOrDefault());
                yield return new CollectedSpan(
                    service,
                    Hex(Fields(span, 1).First()),
                    Hex(Fields(span, 2).First()),
                    parent.Length == 0 ? null : parent,
                    Fields(span, 5).Select(name => ByteString.CopyFrom(name).ToStringUtf8()).FirstOrDefault() ?? "",
                    Attributes(span, 9).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.First().Value));
            }
        }
    }

    // opentelemetry/proto/collector/logs/v1: ExportLogsServiceRequest.resource_logs = 1; ResourceLogs.resource = 1,
    // .scope_logs = 2; ScopeLogs.log_records = 2; LogRecord.severity_number = 2 (varint), body = 5 (AnyValue),
    // attributes = 6, trace_id = 9.
    private static IEnumerable<CollectedLog> ReadLogs(byte[] request)
    {
        foreach (var resourceLogs in Fields(request, 1))
        {
            var service = ServiceOf(resourceLogs);
            foreach (var record in Fields(resourceLogs, 2).SelectMany(scopeLogs => Fields(scopeLogs, 2)))
            {
                yield return new CollectedLog(
                    service,
                    Hex(Fields(record, 9).FirstOrDefault()),
                    Fields(record, 5).SelectMany(body => Fields(body, 1)).Select(b => ByteString.CopyFrom(b).ToStringUtf8()).FirstOrDefault() ?? "",
                    Attributes(record, 6).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.First().Value),
                    (int)VarintField(record, 2));
            }
        }
    }

    private static ulong VarintField(byte[] message, int field)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                return input.ReadUInt64();
            }

            input.SkipLastField();
        }

        return 0;
    }

    private static string ServiceOf(byte[] resourceItems)
        => Fields(resourceItems, 1).SelectMany(resource => Attributes(resource, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "";

    private static IEnumerable<KeyValuePair<string, string>> Attributes(byte[] message, int field)
        => Fields(message, field).Select(keyValue => new KeyValuePair<string, string>(
            Fields(keyValue, 1).Select(k => ByteString.CopyFrom(k).ToStringUtf8()).FirstOrDefault() ?? "",
            Fields(keyValue, 2).SelectMany(value => Fields(value, 1)).Select(v => ByteString.CopyFrom(v).ToStringUtf8()).FirstOrDefault() ?? ""));

    /// <summary>The length-delimited occurrences of one field of a message; every other field is skipped.</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _receiving;
    }
}
