using AspireShop.Contracts;
using AspireShop.Ordering.Sharding;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AspireShop.Ordering.Catalog;

/// <summary>A product as an order records it: name and price as the catalog has them now.</summary>
public sealed record ProductPrice(int Id, string Name, decimal Price);

/// <summary>
/// An order's stock decision: why it was rejected (null when every line was reserved), and whether the reservation
/// left a product at or below <see cref="CatalogAvailability.LowStock"/>, which changes how lists show it.
/// </summary>
public sealed record StockDecision(string? RejectionReason, bool ListsChanged);

/// <summary>
/// What ordering reads and changes in the catalog's primary: prices for order intake, and stock with its reservation
/// ledger for order processing. The one place outside Catalog.Api that names the catalog's products table; both run
/// on the catalog database's data source that <see cref="OrderShardRegistration.AddOrderShards"/> registers.
/// </summary>
public sealed class CatalogProducts([FromKeyedServices(ResourceNames.CatalogDb)] NpgsqlDataSource catalog, TimeProvider clock)
{
    private const string ProductsTable = "products";

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
    /// The order's stock decision, made once: reserves every line or none and records the outcome in the ledger in the
    /// same catalog transaction. If the ledger already has the order, an earlier attempt decided and its decision is
    /// returned, so stock is never reserved twice; whether that attempt left a product low is not known any more, so it
    /// counts as having changed the lists (a rare path: a worker died between the two commits).
    /// </summary>
    public async Task<StockDecision> ReserveOnceAsync(Guid orderId, IReadOnlyList<(int ProductId, int Quantity)> lines, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var claim = new NpgsqlCommand(
            $"""
            INSERT INTO {OrderDirectoryDbContext.Tables.StockReservations} ("OrderId", "Reserved", "DecidedAt") VALUES ($1, false, $2)
            ON CONFLICT DO NOTHING
            """, connection, transaction)
        {
            Parameters = { new() { Value = orderId }, new() { Value = clock.GetUtcNow() } },
        })
        {
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await using var earlier = new NpgsqlCommand(
                    $"""SELECT "Reserved", "RejectionReason" FROM {OrderDirectoryDbContext.Tables.StockReservations} WHERE "OrderId" = $1""",
                    connection, transaction)
                {
                    Parameters = { new() { Value = orderId } },
                };
                await using var reader = await earlier.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                return new StockDecision(reader.GetBoolean(0) ? null : reader.GetString(1), ListsChanged: true);
            }
        }

        var (reason, lowestLeft) = await ReserveAsync(connection, transaction, lines, cancellationToken);
        await using (var record = new NpgsqlCommand(
            $"""UPDATE {OrderDirectoryDbContext.Tables.StockReservations} SET "Reserved" = $1, "RejectionReason" = $2 WHERE "OrderId" = $3""",
            connection, transaction)
        {
            Parameters = { new() { Value = reason is null }, new() { Value = (object?)reason ?? DBNull.Value }, new() { Value = orderId } },
        })
        {
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new StockDecision(reason, ListsChanged: reason is null && lowestLeft <= CatalogAvailability.LowStock);
    }

    /// <summary>
    /// Reserves every line or none; returns why not (null when all are reserved) and the least stock any line's product
    /// has left. Each line is a conditional UPDATE on its product row, so two orders for the last unit cannot both get
    /// it: the second finds the row already decremented. Rows are locked in product-id order, so concurrent orders for
    /// the same products cannot deadlock.
    /// </summary>
    private static async Task<(string? Reason, int LowestLeft)> ReserveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(int ProductId, int Quantity)> lines, CancellationToken cancellationToken)
    {
        await transaction.SaveAsync("reservations", cancellationToken);
        var lowestLeft = int.MaxValue;
        foreach (var (productId, quantity) in lines.OrderBy(l => l.ProductId))
        {
            await using var reserve = new NpgsqlCommand(
                $"""UPDATE {ProductsTable} SET "AvailableStock" = "AvailableStock" - $1 WHERE "Id" = $2 AND "AvailableStock" >= $1 RETURNING "AvailableStock" """,
                connection, transaction)
            {
                Parameters = { new() { Value = quantity }, new() { Value = productId } },
            };
            if (await reserve.ExecuteScalarAsync(cancellationToken) is int left)
            {
                lowestLeft = Math.Min(lowestLeft, left);
                continue;
            }

            await transaction.RollbackAsync("reservations", cancellationToken);
            await using var exists = new NpgsqlCommand($"""SELECT 1 FROM {ProductsTable} WHERE "Id" = $1""", connection, transaction)
            {
                Parameters = { new() { Value = productId } },
            };
            return (await exists.ExecuteScalarAsync(cancellationToken) is null
                ? $"Product {productId} is no longer sold."
                : $"Product {productId} is out of stock.", lowestLeft);
        }

        return (null, lowestLeft);
    }
}
