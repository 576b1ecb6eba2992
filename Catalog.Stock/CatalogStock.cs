using AspireShop.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AspireShop.Catalog.Stock;

/// <summary>A product as an order records it: name and price as the catalog has them now.</summary>
public sealed record ProductPrice(int Id, string Name, decimal Price);

/// <summary>
/// An order's stock decision: why it was rejected (null when every line was reserved), and whether the reservation
/// left a product at or below <see cref="CatalogAvailability.LowStock"/>, which changes how lists show it.
/// </summary>
public sealed record StockDecision(string? RejectionReason, bool ListsChanged);

/// <summary>
/// The catalog's side of an order audit, read in one snapshot: the products' stock now, and the ledger's decision for
/// each order asked about (absent: not decided).
/// </summary>
public sealed record StockLedgerView(IReadOnlyDictionary<int, int> Stock, IReadOnlyDictionary<Guid, bool> Reserved);

/// <summary>An order's lines as its stock step needs them.</summary>
public sealed record OrderLines(Guid OrderId, IReadOnlyList<(int ProductId, int Quantity)> Lines);

/// <summary>
/// What the order pipeline reads and changes in the catalog's primary: prices for order intake, and stock with its
/// reservation ledger for order processing. The one place outside Catalog.Api that names the catalog's tables; it runs
/// on the keyed <c>catalogdb</c> data source the service registers.
/// </summary>
public sealed class CatalogStock([FromKeyedServices(ResourceNames.CatalogDb)] NpgsqlDataSource catalog, TimeProvider clock)
{
    private const string ProductsTable = CatalogTables.Products;
    private const string StockReservationsTable = CatalogTables.StockReservations;

    /// <summary>The products that exist among <paramref name="ids"/>, by id; a missing id is not in the catalog.</summary>
    public async Task<Dictionary<int, ProductPrice>> PricesAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        await using var select = catalog.CreateCommand($"""SELECT "Id", "Name", "Price" FROM {ProductsTable} WHERE "Id" = ANY($1)""");
        select.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var prices = new Dictionary<int, ProductPrice>();
        while (await reader.ReadAsync(cancellationToken))
        {
            prices[reader.GetInt32(0)] = new ProductPrice(reader.GetInt32(0), reader.GetString(1), reader.GetDecimal(2));
        }

        return prices;
    }

    /// <summary>
    /// Each order's stock decision, made once, for many orders in one catalog transaction of four round trips whatever
    /// their number: every line of an order reserved or none, and the outcome recorded in the ledger in the same
    /// transaction. An order the ledger already has was decided by an earlier attempt; its decision is returned, so
    /// stock is never reserved twice, and since whether that attempt left a product low is not known any more, it counts
    /// as having changed the lists (a rare path: a worker died between the two commits).
    /// </summary>
    public async Task<Dictionary<Guid, StockDecision>> ReserveOnceAsync(IReadOnlyList<OrderLines> orders, CancellationToken cancellationToken)
    {
        orders = [.. orders.DistinctBy(o => o.OrderId)];
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = await ClaimAsync(connection, transaction, orders, cancellationToken);
        var toReserve = orders.Where(o => claimed.Contains(o.OrderId)).ToList();

        // One round trip: the earlier decisions, and the stock of every product the claimed orders name, locked in id
        // order so concurrent batches for the same products cannot deadlock. Rows are decided in memory under those
        // locks; no other writer can change the stock until this transaction ends.
        await using var read = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new($"""SELECT "OrderId", "Reserved", "RejectionReason" FROM {StockReservationsTable} WHERE "OrderId" = ANY($1)""")
                {
                    Parameters = { new() { Value = orders.Select(o => o.OrderId).Where(id => !claimed.Contains(id)).ToArray() } },
                },
                new($"""SELECT "Id", "AvailableStock" FROM {ProductsTable} WHERE "Id" = ANY($1) ORDER BY "Id" FOR UPDATE""")
                {
                    Parameters = { new() { Value = toReserve.SelectMany(o => o.Lines).Select(l => l.ProductId).Distinct().ToArray() } },
                },
            },
        };
        var decisions = new Dictionary<Guid, StockDecision>();
        var stock = new Dictionary<int, int>();
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                decisions[reader.GetGuid(0)] = new StockDecision(reader.GetBoolean(1) ? null : reader.GetString(2), ListsChanged: true);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stock[reader.GetInt32(0)] = reader.GetInt32(1);
            }
        }

        if (toReserve.Count > 0)
        {
            var taken = new Dictionary<int, int>();
            foreach (var order in toReserve)
            {
                decisions[order.OrderId] = Reserve(order, stock, taken);
            }

            await RecordAsync(connection, transaction, toReserve, decisions, taken, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return decisions;
    }

    /// <summary>The orders' ledger rows, inserted in id order (so two batches naming the same order cannot deadlock); returns the orders new to the ledger.</summary>
    private async Task<HashSet<Guid>> ClaimAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderLines> orders, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"""
            INSERT INTO {StockReservationsTable} ("OrderId", "Reserved", "DecidedAt")
            SELECT id, false, $2 FROM unnest($1::uuid[]) AS id ORDER BY id
            ON CONFLICT DO NOTHING RETURNING "OrderId"
            """, connection, transaction)
        {
            Parameters = { new() { Value = orders.Select(o => o.OrderId).ToArray() }, new() { Value = clock.GetUtcNow() } },
        };
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var claimed = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(reader.GetGuid(0));
        }

        return claimed;
    }

    /// <summary>
    /// Reserves every line of the order or none from <paramref name="stock"/> (what the locked rows held), adding what
    /// it takes to <paramref name="taken"/>. Lines are checked in product-id order and the first that cannot be served
    /// is the reason, as a shopper would read it.
    /// </summary>
    private static StockDecision Reserve(OrderLines order, Dictionary<int, int> stock, Dictionary<int, int> taken)
    {
        var wanted = new Dictionary<int, int>();
        foreach (var (productId, quantity) in order.Lines.OrderBy(l => l.ProductId))
        {
            if (!stock.TryGetValue(productId, out var held))
            {
                return new StockDecision($"Product {productId} is no longer sold.", ListsChanged: false);
            }

            wanted[productId] = wanted.GetValueOrDefault(productId) + quantity;
            if (held - taken.GetValueOrDefault(productId) < wanted[productId])
            {
                return new StockDecision($"Product {productId} is out of stock.", ListsChanged: false);
            }
        }

        var lowestLeft = int.MaxValue;
        foreach (var (productId, quantity) in wanted)
        {
            taken[productId] = taken.GetValueOrDefault(productId) + quantity;
            lowestLeft = Math.Min(lowestLeft, stock[productId] - taken[productId]);
        }

        return new StockDecision(null, ListsChanged: lowestLeft <= CatalogAvailability.LowStock);
    }

    /// <summary>One round trip: the stock taken off each product, and each new order's decision in the ledger.</summary>
    private static async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<OrderLines> reserved, Dictionary<Guid, StockDecision> decisions,
        Dictionary<int, int> taken, CancellationToken cancellationToken)
    {
        await using var record = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new($"""
                    UPDATE {ProductsTable} p SET "AvailableStock" = p."AvailableStock" - t.quantity
                    FROM unnest($1::int[], $2::int[]) AS t(id, quantity) WHERE p."Id" = t.id
                    """)
                {
                    Parameters = { new() { Value = taken.Keys.ToArray() }, new() { Value = taken.Values.ToArray() } },
                },
                new($"""
                    UPDATE {StockReservationsTable} r SET "Reserved" = d.reserved, "RejectionReason" = d.reason
                    FROM unnest($1::uuid[], $2::bool[], $3::text[]) AS d(order_id, reserved, reason) WHERE r."OrderId" = d.order_id
                    """)
                {
                    Parameters =
                    {
                        new() { Value = reserved.Select(o => o.OrderId).ToArray() },
                        new() { Value = reserved.Select(o => decisions[o.OrderId].RejectionReason is null).ToArray() },
                        new() { Value = reserved.Select(o => decisions[o.OrderId].RejectionReason).ToArray() },
                    },
                },
            },
        };
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The stock of these products now, and the catalog's time of that reading.</summary>
    public async Task<StockSnapshot> StockAsync(IReadOnlyCollection<int> productIds, CancellationToken cancellationToken)
    {
        await using var select = catalog.CreateCommand($"""SELECT now(), "Id", "AvailableStock" FROM {ProductsTable} WHERE "Id" = ANY($1)""");
        select.Parameters.Add(new NpgsqlParameter { Value = productIds.ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var at = DateTimeOffset.MinValue;
        var stock = new Dictionary<int, int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            at = reader.GetFieldValue<DateTimeOffset>(0);
            stock[reader.GetInt32(1)] = reader.GetInt32(2);
        }

        return new StockSnapshot(at == DateTimeOffset.MinValue ? clock.GetUtcNow() : at, stock);
    }

    /// <summary>
    /// Stock and ledger in one repeatable-read snapshot, so the stock read and the reservations that explain it agree:
    /// what an audit compares (see <see cref="StockLedgerView"/>).
    /// </summary>
    public async Task<StockLedgerView> LedgerAsync(
        IReadOnlyCollection<int> productIds, IReadOnlyCollection<Guid> orderIds, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var read = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new($"""SELECT "Id", "AvailableStock" FROM {ProductsTable} WHERE "Id" = ANY($1)""") { Parameters = { new() { Value = productIds.ToArray() } } },
                new($"""SELECT "OrderId", "Reserved" FROM {StockReservationsTable} WHERE "OrderId" = ANY($1)""")
                {
                    Parameters = { new() { Value = orderIds.ToArray() } },
                },
            },
        };
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var stock = new Dictionary<int, int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stock[reader.GetInt32(0)] = reader.GetInt32(1);
        }

        await reader.NextResultAsync(cancellationToken);
        var reserved = new Dictionary<Guid, bool>();
        while (await reader.ReadAsync(cancellationToken))
        {
            reserved[reader.GetGuid(0)] = reader.GetBoolean(1);
        }

        return new StockLedgerView(stock, reserved);
    }
}
