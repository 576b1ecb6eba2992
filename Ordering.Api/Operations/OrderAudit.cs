using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;
using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace Ordering.Api.Operations;

/// <summary>
/// Checks what the shop did with a client's order requests against the orders and the catalog's stock ledger,
/// matching each request by its buyer and idempotency key (what makes an order one order), not by the ids the client
/// happened to read: each accepted request stored once and decided once, the ledger agreeing with each decision, stock
/// fallen by exactly what these orders confirmed, a mail sent or owed for each decision, and no order of the same
/// buyers that no request explains. Read-only, and safe while orders flow (work in flight is reported as such) and while
/// shards move (Citus switches a shard's readers to its new placement only once the copy is complete). Its reads fan
/// out to every shard of the buyers named.
/// </summary>
public sealed class OrderAudit(OrdersDatabase orders, CatalogStock catalog)
{
    public async Task<OrderAuditReport> RunAsync(OrderAuditRequest request, CancellationToken cancellationToken)
    {
        // A request resent with the same key is the same request.
        var sent = request.Sent.GroupBy(s => (s.BuyerId, s.Key))
            .ToDictionary(g => g.Key, g => g.Select(s => s.AcceptedId).FirstOrDefault(id => id is not null));
        var buyers = sent.Keys.Select(k => k.BuyerId).ToArray();
        var keys = sent.Keys.Select(k => k.Key).ToArray();

        var stored = new Dictionary<(string BuyerId, string Key), Dictionary<Guid, StoredOrder>>();
        foreach (var order in await StoredAsync(orders.DataSource, buyers, keys, cancellationToken))
        {
            var copies = stored.TryGetValue((order.BuyerId, order.Key), out var found) ? found : stored[(order.BuyerId, order.Key)] = [];
            copies[order.Id] = order;
        }

        var notSent = await UnexplainedAsync(orders.DataSource, buyers.Distinct().ToArray(), buyers, keys, request.Since, request.Until, cancellationToken);

        var accepted = sent.Where(s => s.Value is not null).ToList();
        // Two orders for one key, or an order other than the one the client was answered with: the request made two.
        var doubled = stored.Count(s => s.Value.Count > 1)
            + accepted.Count(s => stored.TryGetValue(s.Key, out var copies) && copies.Count == 1 && !copies.ContainsKey(s.Value!.Value));
        var storedOrders = stored.Values.SelectMany(copies => copies.Values).ToList();
        var decided = storedOrders.Where(o => o.Status != OrderStatus.Submitted).ToList();

        var products = request.StockAtStart.Keys.ToArray();
        var ledger = await catalog.LedgerAsync(products, [.. storedOrders.Select(o => o.Id)], cancellationToken);
        var confirmed = decided.Where(o => o.Status == OrderStatus.Confirmed).Select(o => o.Id).ToArray();
        var unitsConfirmed = (await LinesAsync(orders.DataSource, [.. decided.Where(o => o.Status == OrderStatus.Confirmed).Select(o => o.BuyerId).Distinct()],
            confirmed, products, cancellationToken)).Sum(line => line.Quantity);

        return new OrderAuditReport(
            Sent: sent.Count,
            Accepted: accepted.Count,
            Stored: accepted.Count(s => stored.ContainsKey(s.Key)),
            StoredWithoutAnswer: sent.Count(s => s.Value is null && stored.ContainsKey(s.Key)),
            NeverStored: sent.Count(s => s.Value is null && !stored.ContainsKey(s.Key)),
            NotSent: notSent,
            Confirmed: confirmed.Length,
            Rejected: decided.Count(o => o.Status == OrderStatus.Rejected),
            Undecided: storedOrders.Count(o => o.Status == OrderStatus.Submitted),
            Lost: accepted.Count(s => !stored.ContainsKey(s.Key)),
            Doubled: doubled,
            LedgerDisagreements: decided.Count(o => ledger.Reserved.TryGetValue(o.Id, out var reserved)
                ? reserved != (o.Status == OrderStatus.Confirmed)
                : o.Status == OrderStatus.Confirmed),
            StockTaken: request.StockAtStart.Sum(p => p.Value - ledger.Stock.GetValueOrDefault(p.Key, p.Value)),
            StockConfirmed: unitsConfirmed,
            MailsSent: decided.Count(o => o.MailSent),
            MailsOwed: decided.Count(o => !o.MailSent && o.MailOwed),
            MailsMissing: decided.Count(o => !o.MailSent && !o.MailOwed));
    }

    private sealed record StoredOrder(Guid Id, string BuyerId, string Key, OrderStatus Status, bool MailSent, bool MailOwed);

    private static async Task<List<StoredOrder>> StoredAsync(NpgsqlDataSource orders, string[] buyers, string[] keys, CancellationToken cancellationToken)
    {
        await using var select = orders.CreateCommand($"""
            SELECT o."Id", o."BuyerId", o."IdempotencyKey", o."Status", o."MailSentAt" IS NOT NULL, m."OrderId" IS NOT NULL
            FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            LEFT JOIN {Tables.MailOwed} m ON m."BuyerId" = o."BuyerId" AND m."OrderId" = o."Id"
            """);
        select.Parameters.Add(new NpgsqlParameter { Value = buyers });
        select.Parameters.Add(new NpgsqlParameter { Value = keys });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var found = new List<StoredOrder>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(new StoredOrder(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                Enum.Parse<OrderStatus>(reader.GetString(3)), reader.GetBoolean(4), reader.GetBoolean(5)));
        }

        return found;
    }

    /// <summary>Orders of the client's buyers submitted since it started whose buyer and key it never sent.</summary>
    private static async Task<int> UnexplainedAsync(
        NpgsqlDataSource orders, string[] clientBuyers, string[] buyers, string[] keys, DateTimeOffset since, DateTimeOffset? until,
        CancellationToken cancellationToken)
    {
        await using var count = orders.CreateCommand($"""
            SELECT count(DISTINCT o."Id")::int FROM {Tables.Orders} o
            WHERE o."BuyerId" = ANY($1) AND o."SubmittedAt" >= $4 AND ($5::timestamptz IS NULL OR o."SubmittedAt" < $5)
              AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS k(buyer_id, key)
                              WHERE k.buyer_id = o."BuyerId" AND k.key = o."IdempotencyKey")
            """);
        count.Parameters.Add(new NpgsqlParameter { Value = clientBuyers });
        count.Parameters.Add(new NpgsqlParameter { Value = buyers });
        count.Parameters.Add(new NpgsqlParameter { Value = keys });
        count.Parameters.Add(new NpgsqlParameter { Value = since });
        count.Parameters.Add(new NpgsqlParameter { Value = until.HasValue ? until.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return (int)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<List<(Guid Order, int Product, int Quantity)>> LinesAsync(
        NpgsqlDataSource orders, string[] buyers, Guid[] orderIds, int[] products, CancellationToken cancellationToken)
    {
        await using var select = orders.CreateCommand(
            $"""SELECT "OrderId", "ProductId", "Quantity" FROM {Tables.OrderLines} WHERE "BuyerId" = ANY($1) AND "OrderId" = ANY($2) AND "ProductId" = ANY($3)""");
        select.Parameters.Add(new NpgsqlParameter { Value = buyers });
        select.Parameters.Add(new NpgsqlParameter { Value = orderIds });
        select.Parameters.Add(new NpgsqlParameter { Value = products });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var lines = new List<(Guid, int, int)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetInt32(2)));
        }

        return lines;
    }
}
