using System.Text.Json;
using AspireShop.Contracts;
using AspireShop.Contracts.Sharding;
using Npgsql;

namespace Ordering.Worker.Orders;

/// <summary>What one message did: decided its order now (Confirmed or Rejected, with the products touched), or nothing new.</summary>
public sealed record ProcessingOutcome(string? DecidedStatus, string? Reason, IReadOnlyList<int> ProductIds)
{
    public static readonly ProcessingOutcome NothingNew = new(null, null, []);
}

/// <summary>
/// Processes one OrderSubmitted message. The order lives on its shard, the stock in the catalog database, so the
/// decision takes three short steps, made safe by the stock reservation ledger:
/// <list type="number">
/// <item>on the shard, one read: the bucket still owned there, the message not yet in the inbox, the order still
/// Submitted (so stock is never reserved for an order that is not there);</item>
/// <item>in the catalog: the order's ledger row, then every line's stock or none, committed together. If the ledger
/// row already exists, an earlier attempt (another delivery, or a worker killed before step 3) decided: its decision
/// is reused, so stock is never reserved twice;</item>
/// <item>on the shard again: the bucket held (shared, so it cannot move meanwhile), the message into the inbox (a
/// concurrent delivery stops there), the order row locked and still Submitted, then Confirmed or Rejected with
/// OrderStatusChanged in the outbox, committed. The decided order, with no MailSentAt yet, is the buyer's mail owed.</item>
/// </list>
/// The shard is not held while the catalog transaction waits on product rows, so a bucket move's freeze never waits
/// on the catalog. Stock is reserved with a conditional UPDATE on each product row, so two orders for the last unit
/// cannot both get it: the second finds the row already decremented.
/// </summary>
public sealed class OrderProcessor(OrderShardMap shards, NpgsqlDataSource catalog, TimeProvider clock)
{
    public async Task<ProcessingOutcome> ProcessAsync(Guid messageId, OrderSubmitted submitted, CancellationToken cancellationToken)
    {
        var bucket = OrderBuckets.Of(submitted.OrderId);
        var shard = shards.ForBucket(bucket);
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        if (!await IsUndecidedAsync(connection, shard, bucket, messageId, submitted.OrderId, cancellationToken))
        {
            return ProcessingOutcome.NothingNew;
        }

        var reason = await ReserveStockOnceAsync(submitted, cancellationToken);
        var status = reason is null ? "Confirmed" : "Rejected";

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await BucketOwnership.HoldAsync(connection, transaction, bucket, cancellationToken))
        {
            throw new BucketMovedException(bucket, shard);
        }

        var now = clock.GetUtcNow();
        await using (var inbox = new NpgsqlCommand(
            """INSERT INTO ordering.inbox ("MessageId", "Bucket", "ProcessedAt") VALUES (@id, @bucket, @now) ON CONFLICT DO NOTHING""", connection, transaction))
        {
            inbox.Parameters.AddWithValue("id", messageId);
            inbox.Parameters.AddWithValue("bucket", bucket);
            inbox.Parameters.AddWithValue("now", now);
            if (await inbox.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return ProcessingOutcome.NothingNew;
            }
        }

        if (await LockOrderStatusAsync(connection, transaction, submitted.OrderId, cancellationToken) != "Submitted")
        {
            // Decided meanwhile (by a message with another id, which took the same decision from the ledger).
            await transaction.CommitAsync(cancellationToken);
            return ProcessingOutcome.NothingNew;
        }

        await using (var update = new NpgsqlCommand(
            """UPDATE ordering.orders SET "Status" = @status, "RejectionReason" = @reason, "CompletedAt" = @now WHERE "Id" = @id""",
            connection, transaction))
        {
            update.Parameters.AddWithValue("status", status);
            update.Parameters.AddWithValue("reason", (object?)reason ?? DBNull.Value);
            update.Parameters.AddWithValue("now", now);
            update.Parameters.AddWithValue("id", submitted.OrderId);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var outbox = new NpgsqlCommand(
            """
            INSERT INTO ordering.outbox ("MessageId", "Bucket", "Type", "Payload", "TraceParent", "CreatedAt", "Attempts")
            VALUES (@messageId, @bucket, @type, @payload::jsonb, @traceParent, @now, 0)
            """, connection, transaction))
        {
            outbox.Parameters.AddWithValue("messageId", Guid.CreateVersion7(now));
            outbox.Parameters.AddWithValue("bucket", bucket);
            outbox.Parameters.AddWithValue("type", OrderMessaging.OrderStatusChangedType);
            outbox.Parameters.AddWithValue("payload", JsonSerializer.Serialize(
                new OrderStatusChanged(submitted.OrderId, submitted.BuyerId, status, reason, now), WorkerJsonContext.Default.OrderStatusChanged));
            outbox.Parameters.AddWithValue("traceParent", (object?)System.Diagnostics.Activity.Current?.Id ?? DBNull.Value);
            outbox.Parameters.AddWithValue("now", now);
            await outbox.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new ProcessingOutcome(status, reason, submitted.Lines.Select(l => l.ProductId).ToList());
    }

    /// <summary>
    /// Step 1: whether the message is new and its order is there, still Submitted. One statement, so one snapshot: if
    /// it sees the bucket owned here, no move has frozen it yet, and the bucket's rows it reads are all here. No lock is
    /// needed for a read that decides nothing.
    /// </summary>
    private static async Task<bool> IsUndecidedAsync(
        NpgsqlConnection connection, OrderShard shard, int bucket, Guid messageId, Guid orderId, CancellationToken cancellationToken)
    {
        await using var check = new NpgsqlCommand(
            """
            SELECT EXISTS (SELECT 1 FROM ordering.owned_buckets WHERE "Bucket" = @bucket),
                   NOT EXISTS (SELECT 1 FROM ordering.inbox WHERE "MessageId" = @messageId)
                   AND EXISTS (SELECT 1 FROM ordering.orders WHERE "Id" = @orderId AND "Status" = 'Submitted')
            """, connection);
        check.Parameters.AddWithValue("bucket", bucket);
        check.Parameters.AddWithValue("messageId", messageId);
        check.Parameters.AddWithValue("orderId", orderId);
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetBoolean(0) ? reader.GetBoolean(1) : throw new BucketMovedException(bucket, shard);
    }

    private static async Task<string?> LockOrderStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            """SELECT "Status" FROM ordering.orders WHERE "Id" = @id FOR UPDATE""", connection, transaction);
        select.Parameters.AddWithValue("id", orderId);
        return (string?)await select.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// The order's stock decision, made once: reserves every line or none and records the outcome in the ledger in
    /// the same catalog transaction; returns why not, or null when all are reserved.
    /// </summary>
    private async Task<string?> ReserveStockOnceAsync(OrderSubmitted submitted, CancellationToken cancellationToken)
    {
        await using var connection = await catalog.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var claim = new NpgsqlCommand(
            """
            INSERT INTO sharding.stock_reservations ("OrderId", "Reserved", "DecidedAt") VALUES (@id, false, @now)
            ON CONFLICT DO NOTHING
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("id", submitted.OrderId);
            claim.Parameters.AddWithValue("now", clock.GetUtcNow());
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await using var earlier = new NpgsqlCommand(
                    """SELECT "Reserved", "RejectionReason" FROM sharding.stock_reservations WHERE "OrderId" = @id""", connection, transaction);
                earlier.Parameters.AddWithValue("id", submitted.OrderId);
                await using var reader = await earlier.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                return reader.GetBoolean(0) ? null : reader.GetString(1);
            }
        }

        var reason = await ReserveStockAsync(connection, transaction, submitted, cancellationToken);
        await using (var record = new NpgsqlCommand(
            """UPDATE sharding.stock_reservations SET "Reserved" = @reserved, "RejectionReason" = @reason WHERE "OrderId" = @id""",
            connection, transaction))
        {
            record.Parameters.AddWithValue("reserved", reason is null);
            record.Parameters.AddWithValue("reason", (object?)reason ?? DBNull.Value);
            record.Parameters.AddWithValue("id", submitted.OrderId);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return reason;
    }

    /// <summary>Reserves every line or none; returns why not, or null when all are reserved.</summary>
    private static async Task<string?> ReserveStockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, OrderSubmitted submitted, CancellationToken cancellationToken)
    {
        await transaction.SaveAsync("reservations", cancellationToken);
        // Rows are locked in product-id order, so concurrent orders for the same products cannot deadlock.
        foreach (var line in submitted.Lines.OrderBy(l => l.ProductId))
        {
            await using var reserve = new NpgsqlCommand(
                """UPDATE products SET "AvailableStock" = "AvailableStock" - @quantity WHERE "Id" = @id AND "AvailableStock" >= @quantity""",
                connection, transaction);
            reserve.Parameters.AddWithValue("quantity", line.Quantity);
            reserve.Parameters.AddWithValue("id", line.ProductId);
            if (await reserve.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                continue;
            }

            await transaction.RollbackAsync("reservations", cancellationToken);
            await using var exists = new NpgsqlCommand("""SELECT 1 FROM products WHERE "Id" = @id""", connection, transaction);
            exists.Parameters.AddWithValue("id", line.ProductId);
            return await exists.ExecuteScalarAsync(cancellationToken) is null
                ? $"Product {line.ProductId} is no longer sold."
                : $"Product {line.ProductId} is out of stock.";
        }

        return null;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(OrderSubmitted))]
[System.Text.Json.Serialization.JsonSerializable(typeof(OrderStatusChanged))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class WorkerJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
