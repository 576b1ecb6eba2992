using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace Ordering.Api.Operations;

/// <summary>
/// Checks what the shop did with a client's order requests against every order shard and the catalog's stock ledger,
/// matching each request by its buyer and idempotency key (what makes an order one order), not by the ids the client
/// happened to read: each accepted request stored once and decided once, the ledger agreeing with each decision, stock
/// fallen by exactly what these orders confirmed, a mail sent or owed for each decision, and no order of the same
/// buyers that no request explains. Read-only, and safe while orders flow: an order caught on two shards by a bucket
/// move is one order (the same id), and work in flight is reported as such.
/// </summary>
public sealed class OrderAudit(OrderShardMap shards, CatalogStock catalog)
{
    public async Task<OrderAuditReport> RunAsync(OrderAuditRequest request, CancellationToken cancellationToken)
    {
        // A request resent with the same key is the same request.
        var sent = request.Sent.GroupBy(s => (s.BuyerId, s.Key))
            .ToDictionary(g => g.Key, g => g.Select(s => s.AcceptedId).FirstOrDefault(id => id is not null));
        var buyers = sent.Keys.Select(k => k.BuyerId).ToArray();
        var keys = sent.Keys.Select(k => k.Key).ToArray();

        var stored = new Dictionary<(string BuyerId, string Key), Dictionary<Guid, StoredOrder>>();
        var notSent = 0;
        foreach (var shard in shards.Shards)
        {
            foreach (var order in await StoredAsync(shard, buyers, keys, cancellationToken))
            {
                Keep(order);
            }

            notSent += await UnexplainedAsync(shard, buyers.Distinct().ToArray(), buyers, keys, request.Since, request.Until, cancellationToken);
        }

        // The shards are read one after another, so an order moving with its bucket can be missed by both reads (the
        // target read before the copy, the source after the delete): the missing ones are looked for once more.
        var missing = sent.Keys.Where(k => !stored.ContainsKey(k)).ToArray();
        if (missing.Length > 0)
        {
            foreach (var shard in shards.Shards)
            {
                foreach (var order in await StoredAsync(shard, [.. missing.Select(k => k.BuyerId)], [.. missing.Select(k => k.Key)], cancellationToken))
                {
                    Keep(order);
                }
            }
        }

        var accepted = sent.Where(s => s.Value is not null).ToList();
        // Two orders for one key, or an order other than the one the client was answered with: the request made two.
        var doubled = stored.Count(s => s.Value.Count > 1)
            + accepted.Count(s => stored.TryGetValue(s.Key, out var copies) && copies.Count == 1 && !copies.ContainsKey(s.Value!.Value));
        var orders = stored.Values.SelectMany(copies => copies.Values).DistinctBy(o => o.Id).ToList();
        var decided = orders.Where(o => o.Status != OrderStatus.Submitted).ToList();

        var products = request.StockAtStart.Keys.ToArray();
        var ledger = await catalog.LedgerAsync(products, [.. orders.Select(o => o.Id)], cancellationToken);
        var confirmed = decided.Where(o => o.Status == OrderStatus.Confirmed).Select(o => o.Id).ToArray();
        // Keyed by order and product: mid-move an order's lines are on both shards.
        var unitsConfirmed = new Dictionary<(Guid Order, int Product), int>();
        foreach (var shard in shards.Shards)
        {
            foreach (var line in await LinesAsync(shard, confirmed, products, cancellationToken))
            {
                unitsConfirmed[(line.Order, line.Product)] = line.Quantity;
            }
        }

        // Mid-move, the same order is on both shards; the decided copy is the newer.
        void Keep(StoredOrder order)
        {
            var copies = stored.TryGetValue((order.BuyerId, order.Key), out var found) ? found : stored[(order.BuyerId, order.Key)] = [];
            if (!copies.TryGetValue(order.Id, out var other) || other.Status == OrderStatus.Submitted)
            {
                copies[order.Id] = order;
            }
        }

        return new OrderAuditReport(
            Sent: sent.Count,
            Accepted: accepted.Count,
            Stored: accepted.Count(s => stored.ContainsKey(s.Key)),
            StoredWithoutAnswer: sent.Count(s => s.Value is null && stored.ContainsKey(s.Key)),
            NeverStored: sent.Count(s => s.Value is null && !stored.ContainsKey(s.Key)),
            NotSent: notSent,
            Confirmed: confirmed.Length,
            Rejected: decided.Count(o => o.Status == OrderStatus.Rejected),
            Undecided: orders.Count(o => o.Status == OrderStatus.Submitted),
            Lost: accepted.Count(s => !stored.ContainsKey(s.Key)),
            Doubled: doubled,
            LedgerDisagreements: decided.Count(o => ledger.Reserved.TryGetValue(o.Id, out var reserved)
                ? reserved != (o.Status == OrderStatus.Confirmed)
                : o.Status == OrderStatus.Confirmed),
            StockTaken: request.StockAtStart.Sum(p => p.Value - ledger.Stock.GetValueOrDefault(p.Key, p.Value)),
            StockConfirmed: unitsConfirmed.Values.Sum(),
            MailsSent: decided.Count(o => o.MailSent),
            MailsOwed: decided.Count(o => !o.MailSent && o.MailOwed),
            MailsMissing: decided.Count(o => !o.MailSent && !o.MailOwed));
    }

    private sealed record StoredOrder(Guid Id, string BuyerId, string Key, OrderStatus Status, bool MailSent, bool MailOwed);

    private static async Task<List<StoredOrder>> StoredAsync(OrderShard shard, string[] buyers, string[] keys, CancellationToken cancellationToken)
    {
        await using var select = shard.DataSource.CreateCommand($"""
            SELECT o."Id", o."BuyerId", o."IdempotencyKey", o."Status", o."MailSentAt" IS NOT NULL,
                   EXISTS (SELECT 1 FROM {Tables.MailOwed} m WHERE m."OrderId" = o."Id")
            FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            """);
        select.Parameters.Add(new NpgsqlParameter { Value = buyers });
        select.Parameters.Add(new NpgsqlParameter { Value = keys });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var orders = new List<StoredOrder>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new StoredOrder(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                Enum.Parse<OrderStatus>(reader.GetString(3)), reader.GetBoolean(4), reader.GetBoolean(5)));
        }

        return orders;
    }

    /// <summary>Orders of the client's buyers submitted since it started whose buyer and key it never sent.</summary>
    private static async Task<int> UnexplainedAsync(
        OrderShard shard, string[] clientBuyers, string[] buyers, string[] keys, DateTimeOffset since, DateTimeOffset? until,
        CancellationToken cancellationToken)
    {
        await using var count = shard.DataSource.CreateCommand($"""
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
        OrderShard shard, Guid[] orders, int[] products, CancellationToken cancellationToken)
    {
        await using var select = shard.DataSource.CreateCommand(
            $"""SELECT "OrderId", "ProductId", "Quantity" FROM {Tables.OrderLines} WHERE "OrderId" = ANY($1) AND "ProductId" = ANY($2)""");
        select.Parameters.Add(new NpgsqlParameter { Value = orders });
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
