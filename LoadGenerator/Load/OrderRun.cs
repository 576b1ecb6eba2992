using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using AspireShop.Contracts;

namespace LoadGenerator.Load;

/// <summary>
/// What the load generator knows about the orders it sent: the stock of every product it may order, read before its
/// first order, and every order request, recorded before it is sent and again with its answer. The record is a file
/// (<c>Load:RecordDirectory</c>, the AppHost's data folder when it runs the servers) read back at start, so it
/// survives the generator's own restarts; the AppHost empties the folder when it starts. The check hands it all to
/// Ordering.Api's audit, which says what became of each request (<see cref="OrderAuditReport"/>), and repeats the
/// audit until nothing is left in flight or the drain bound has passed.
/// </summary>
public sealed class OrderRun : IDisposable
{
    private const string StartLine = "start";
    private const string SentLine = "sent";
    private const string AnswerLine = "answer";

    private readonly IHttpClientFactory _clients;
    private readonly IConfiguration _configuration;
    private readonly ILogger<OrderRun> _logger;
    private readonly ConcurrentDictionary<(string BuyerId, string Key), Guid?> _sent = new();
    private readonly SemaphoreSlim _starting = new(1, 1);
    private readonly Lock _writing = new();
    private readonly StreamWriter _record;
    private StockSnapshot? _start;

    public OrderRun(IHttpClientFactory clients, IConfiguration configuration, IHostEnvironment environment, ILogger<OrderRun> logger)
    {
        _clients = clients;
        _configuration = configuration;
        _logger = logger;
        var directory = Path.GetFullPath(configuration["Load:RecordDirectory"] is { Length: > 0 } configured ? configured : "load-record",
            environment.ContentRootPath);
        Directory.CreateDirectory(directory);
        // One record per AppHost run (its run id): a restarted generator reads back its own run's record, and a new run
        // of the shop, with fresh databases, never audits the orders of an old one.
        var run = configuration["Load:RunId"] is { Length: > 0 } id && id.All(char.IsAsciiLetterOrDigit) ? id : "default";
        RecordFile = Path.Combine(directory, $"orders-{run}.tsv");
        Restore();
        var file = new FileStream(RecordFile, FileMode.Append, FileAccess.Write, FileShare.Read);
        _record = new StreamWriter(file);
        if (file.Length > 0 && LastByte(RecordFile) != '\n')
        {
            // A line cut short by a kill: end it, so the next line is whole (the cut one is skipped when read back).
            _record.Write('\n');
            _record.Flush();
        }
    }

    public string RecordFile { get; }

    public int Accepted => _sent.Values.Count(id => id is not null);

    public async Task BeginAsync(IReadOnlyList<int> products, CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken);
        try
        {
            if (_start is null)
            {
                using var answer = await Ops().PostAsJsonAsync("/ops/stock", products, cancellationToken);
                await EnsureAnsweredAsync(answer, "read the stock", cancellationToken);
                var start = (await answer.Content.ReadFromJsonAsync<StockSnapshot>(cancellationToken))!;
                Write($"{StartLine}\t{JsonSerializer.Serialize(start)}");
                _start = start;
            }
        }
        finally
        {
            _starting.Release();
        }
    }

    public void Sending(SentOrder order)
    {
        _sent.TryAdd((order.BuyerId, order.Key), null);
        Write($"{SentLine}\t{order.BuyerId}\t{order.Key}");
    }

    public void Answered(SentOrder order, string status, Guid? acceptedId)
    {
        if (acceptedId is not null)
        {
            _sent[(order.BuyerId, order.Key)] = acceptedId;
        }

        Write($"{AnswerLine}\t{order.BuyerId}\t{order.Key}\t{status}\t{acceptedId}");
    }

    /// <summary>
    /// The audit of every order request recorded so far, repeated until every stored order is decided and mailed or
    /// <paramref name="drainBound"/> has passed; null before the first order was sent.
    /// </summary>
    public async Task<OrderAuditReport?> CheckAsync(TimeSpan drainBound, CancellationToken cancellationToken)
    {
        if (_start is not { } start)
        {
            return null;
        }

        var waited = Stopwatch.StartNew();
        while (true)
        {
            // Taken before the record is read: every order submitted before this moment was recorded before it was sent.
            var until = DateTimeOffset.UtcNow;
            var sent = _sent.Select(s => new SentOrder(s.Key.BuyerId, s.Key.Key, s.Value)).ToList();
            using var answer = await Ops().PostAsJsonAsync("/ops/audit", new OrderAuditRequest(sent, start.At, start.Stock, until), cancellationToken);
            await EnsureAnsweredAsync(answer, "audit the orders", cancellationToken);
            var report = (await answer.Content.ReadFromJsonAsync<OrderAuditReport>(cancellationToken))!;
            if (report.Drained || waited.Elapsed >= drainBound)
            {
                return report with { DrainWaitedSeconds = waited.Elapsed.TotalSeconds, DrainBoundSeconds = drainBound.TotalSeconds };
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    public void Dispose()
    {
        _record.Dispose();
        _starting.Dispose();
    }

    private void Write(string line)
    {
        lock (_writing)
        {
            _record.Write(line);
            _record.Write('\n');
            _record.Flush();
        }
    }

    /// <summary>Reads back what an earlier run of this process recorded; a line cut short by a kill is skipped.</summary>
    private void Restore()
    {
        if (!File.Exists(RecordFile))
        {
            return;
        }

        var skipped = 0;
        foreach (var line in File.ReadLines(RecordFile))
        {
            var fields = line.Split('\t');
            switch (fields)
            {
                case [StartLine, var json] when TryReadStart(json) is { } start:
                    _start = start;
                    break;
                case [SentLine, var buyer, var key]:
                    _sent.TryAdd((buyer, key), null);
                    break;
                case [AnswerLine, var buyer, var key, _, var id] when Guid.TryParse(id, out var accepted):
                    _sent[(buyer, key)] = accepted;
                    break;
                case [AnswerLine, var buyer, var key, _, ""]:
                    _sent.TryAdd((buyer, key), null);
                    break;
                default:
                    skipped++;
                    break;
            }
        }

        _logger.LogInformation("Read back {Requests} order requests ({Accepted} accepted) from {File}{Skipped}.",
            _sent.Count, Accepted, RecordFile, skipped > 0 ? $"; {skipped} unreadable lines skipped" : "");
    }

    private static StockSnapshot? TryReadStart(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<StockSnapshot>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int LastByte(string path)
    {
        using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte();
    }

    private HttpClient Ops()
    {
        var client = _clients.CreateClient(ShopRequests.OrderingClient);
        client.DefaultRequestHeaders.Add(OperationsAccess.KeyHeader, _configuration[OperationsAccess.KeySetting]
            ?? throw new InvalidOperationException($"{OperationsAccess.KeySetting} is not set; the AppHost passes its {OperationsAccess.KeyParameter} parameter."));
        return client;
    }

    private static async Task EnsureAnsweredAsync(HttpResponseMessage answer, string what, CancellationToken cancellationToken)
    {
        if (!answer.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"Ordering.Api could not {what}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
