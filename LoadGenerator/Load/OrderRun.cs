using System.Collections.Concurrent;
using System.Net.Http.Json;
using AspireShop.Contracts;

namespace LoadGenerator.Load;

/// <summary>
/// What the load generator knows about the orders it sent since it started: the stock of every product it may order,
/// read before its first order, and each order it was answered 202 for. The check hands both to Ordering.Api's audit,
/// which says what became of them (<see cref="OrderAuditReport"/>). Restart the resource to start counting afresh.
/// </summary>
public sealed class OrderRun(IHttpClientFactory clients, IConfiguration configuration)
{
    private readonly ConcurrentQueue<Guid> _accepted = new();
    private readonly SemaphoreSlim _starting = new(1, 1);
    private StockSnapshot? _start;

    public int Accepted => _accepted.Count;

    public async Task BeginAsync(IReadOnlyList<int> products, CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken);
        try
        {
            if (_start is null)
            {
                using var answer = await Ops().PostAsJsonAsync("/ops/stock", products, cancellationToken);
                await EnsureAnsweredAsync(answer, "read the stock", cancellationToken);
                _start = await answer.Content.ReadFromJsonAsync<StockSnapshot>(cancellationToken);
            }
        }
        finally
        {
            _starting.Release();
        }
    }

    public void Accept(Guid orderId) => _accepted.Enqueue(orderId);

    /// <summary>The audit of every order accepted so far; null before the first order was sent.</summary>
    public async Task<OrderAuditReport?> CheckAsync(CancellationToken cancellationToken)
    {
        if (_start is not { } start)
        {
            return null;
        }

        using var answer = await Ops().PostAsJsonAsync("/ops/audit", new OrderAuditRequest([.. _accepted], start.At, start.Stock), cancellationToken);
        await EnsureAnsweredAsync(answer, "audit the orders", cancellationToken);
        return await answer.Content.ReadFromJsonAsync<OrderAuditReport>(cancellationToken);
    }

    private HttpClient Ops()
    {
        var client = clients.CreateClient(ShopRequests.OrderingClient);
        client.DefaultRequestHeaders.Add(OperationsAccess.KeyHeader, configuration[OperationsAccess.KeySetting]
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
