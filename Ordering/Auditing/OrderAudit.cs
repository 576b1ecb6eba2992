using AspireShop.Contracts;
using AspireShop.Ordering.Catalog;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace AspireShop.Ordering.Auditing;

/// <summary>
/// Checks what the shop did with a client's orders against every order shard and the catalog's stock ledger: each
/// accepted order stored once and decided once, the ledger agreeing with each decision, stock fallen by exactly what
/// was confirmed, a mail sent or owed for each decision. Read-only, and safe while orders flow: an order caught on two
/// shards by a bucket move is one order (the same id), and work in flight is reported as such.
/// </summary>
public sealed class OrderAudit(OrderShardMap shards, CatalogProducts catalog)
{
    public async Task<OrderAuditReport> RunAsync(OrderAuditRequest request, CancellationToken cancellationToken)
    {
        var accepted = request.Accepted.Distinct().ToArray();
        var found = new Dictionary<Guid, StoredOrder>();
        foreach (var shard in shards.Shards)
        {
            foreach (var order in await StoredAsync(shard, accepted, cancellationToken))
            {
                // Mid-move, the same order is on both shards; the decided copy is the newer.
                if (!found.TryGetValue(order.Id, out var other) || other.Status == OrderStatus.Submitted)
                {
                    found[order.Id] = order;
                }
            }
        }

        var doubles = new HashSet<Guid>();
        foreach (var shard in shards.Shards)
        {
            doubles.UnionWith(await OtherOrdersWithTheSameKeyAsync(shard, [.. found.Values], cancellationToken));
        }

        var products = request.StockAtStart.Keys.ToArray();
        var ledger = await catalog.LedgerAsync(products, accepted, request.Since, cancellationToken);
        var unitsConfirmed = new Dictionary<(Guid Order, int Product), int>();
        foreach (var shard in shards.Shards)
        {
            foreach (var line in await LinesAsync(shard, ledger.ReservedSince, products, cancellationToken))
            {
                unitsConfirmed[(line.Order, line.Product)] = line.Quantity;
            }
        }

        var decided = found.Values.Where(o => o.Status != OrderStatus.Submitted).ToList();
        return new OrderAuditReport(
            Accepted: accepted.Length,
            Stored: found.Count,
            Confirmed: found.Values.Count(o => o.Status == OrderStatus.Confirmed),
            Rejected: found.Values.Count(o => o.Status == OrderStatus.Rejected),
            Undecided: found.Values.Count(o => o.Status == OrderStatus.Submitted),
            Lost: accepted.Length - found.Count,
            Doubled: doubles.Count,
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

    private static async Task<List<StoredOrder>> StoredAsync(OrderShard shard, Guid[] ids, CancellationToken cancellationToken)
    {
        await using var select = shard.DataSource.CreateCommand($"""
            SELECT o."Id", o."BuyerId", o."IdempotencyKey", o."Status", o."MailSentAt" IS NOT NULL,
                   EXISTS (SELECT 1 FROM {Tables.MailOwed} m WHERE m."OrderId" = o."Id")
            FROM {Tables.Orders} o WHERE o."Id" = ANY($1)
            """);
        select.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var orders = new List<StoredOrder>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new StoredOrder(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                Enum.Parse<OrderStatus>(reader.GetString(3)), reader.GetBoolean(4), reader.GetBoolean(5)));
        }

        return orders;
    }

    /// <summary>Orders with an accepted order's buyer and idempotency key but another id: the same submission stored twice.</summary>
    private static async Task<List<Guid>> OtherOrdersWithTheSameKeyAsync(OrderShard shard, StoredOrder[] orders, CancellationToken cancellationToken)
    {
        await using var select = shard.DataSource.CreateCommand($"""
            SELECT o."Id" FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            WHERE o."Id" <> ALL($3)
            """);
        select.Parameters.Add(new NpgsqlParameter { Value = orders.Select(o => o.BuyerId).ToArray() });
        select.Parameters.Add(new NpgsqlParameter { Value = orders.Select(o => o.Key).ToArray() });
        select.Parameters.Add(new NpgsqlParameter { Value = orders.Select(o => o.Id).ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static async Task<List<(Guid Order, int Product, int Quantity)>> LinesAsync(
        OrderShard shard, IReadOnlyList<Guid> orders, int[] products, CancellationToken cancellationToken)
    {
        await using var select = shard.DataSource.CreateCommand(
            $"""SELECT "OrderId", "ProductId", "Quantity" FROM {Tables.OrderLines} WHERE "OrderId" = ANY($1) AND "ProductId" = ANY($2)""");
        select.Parameters.Add(new NpgsqlParameter { Value = orders.ToArray() });
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
