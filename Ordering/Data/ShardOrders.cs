using Microsoft.EntityFrameworkCore;
using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace AspireShop.Ordering.Data;

/// <summary>The mail owed to a buyer for a decided order: what the mail says.</summary>
public sealed record OwedMail(Guid OrderId, string BuyerName, string Email, OrderStatus Status, string? Reason, decimal Total);

/// <summary>
/// The statements the hot paths run on one shard's ordering tables, in SQL rather than through EF change tracking: the
/// order processor's steps, the relays' claims and marks, bucket ownership. Beside <see cref="OrderingDbContext"/>, so
/// a table or column rename is made in one project; statuses are passed as <see cref="OrderStatus"/>, never spelled.
/// Every statement runs on the caller's connection and transaction: the caller decides what commits together.
/// </summary>
public static class ShardOrders
{
    /// <summary>
    /// Whether the shard owns the bucket and, if so, whether the message is new and its order is there, still
    /// Submitted. One statement, so one snapshot: if it sees the bucket owned here, no move has frozen it yet, and the
    /// bucket's rows it reads are all here. No lock is needed for a read that decides nothing.
    /// </summary>
    public static async Task<(bool Owned, bool Undecided)> IsUndecidedAsync(
        NpgsqlConnection connection, int bucket, Guid messageId, Guid orderId, CancellationToken cancellationToken)
    {
        await using var check = new NpgsqlCommand(
            $"""
            SELECT EXISTS (SELECT 1 FROM {Tables.OwnedBuckets} WHERE "Bucket" = $1),
                   NOT EXISTS (SELECT 1 FROM {Tables.Inbox} WHERE "MessageId" = $2)
                   AND EXISTS (SELECT 1 FROM {Tables.Orders} WHERE "Id" = $3 AND "Status" = $4)
            """, connection)
        {
            Parameters = { new() { Value = bucket }, new() { Value = messageId }, new() { Value = orderId }, Status(OrderStatus.Submitted) },
        };
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetBoolean(0), reader.GetBoolean(1));
    }

    /// <summary>
    /// Records the message as processed and decides its order (Confirmed, or Rejected with the reason) in one statement:
    /// the inbox row is inserted unless the message was already processed (a concurrent or earlier delivery), and only
    /// then is the order decided, and only if it is still Submitted. The UPDATE locks the order's row and re-reads its
    /// status after a concurrent decision commits. Returns whether this call decided the order; either way the inbox
    /// row (if new) commits with the caller's transaction, so this message is done.
    /// </summary>
    public static async Task<bool> ProcessOnceAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid messageId, int bucket, Guid orderId, OrderStatus status, string? reason,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var decide = new NpgsqlCommand(
            $"""
            WITH processed AS (
                INSERT INTO {Tables.Inbox} ("MessageId", "Bucket", "ProcessedAt") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1)
            UPDATE {Tables.Orders} SET "Status" = $4, "RejectionReason" = $5, "CompletedAt" = $3
            WHERE "Id" = $6 AND "Status" = $7 AND EXISTS (SELECT 1 FROM processed)
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = messageId }, new() { Value = bucket }, new() { Value = now }, Status(status),
                new() { Value = (object?)reason ?? DBNull.Value }, new() { Value = orderId }, Status(OrderStatus.Submitted),
            },
        };
        return await decide.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Claims up to <paramref name="limit"/> owed mails of the buckets the caller holds, oldest decision first, skipping rows another relay claimed.</summary>
    public static async Task<List<OwedMail>> ClaimOwedMailsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."BuyerName", o."Email", o."Status", o."RejectionReason", o."Total"
            FROM {Tables.Orders} o JOIN {Tables.OwnedBuckets} b ON b."Bucket" = o."Bucket"
            WHERE o."MailSentAt" IS NULL AND o."Status" <> $1
            ORDER BY o."CompletedAt" LIMIT $2 FOR UPDATE OF o SKIP LOCKED
            """, connection, transaction)
        {
            Parameters = { Status(OrderStatus.Submitted), new() { Value = limit } },
        };
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var owed = new List<OwedMail>();
        while (await reader.ReadAsync(cancellationToken))
        {
            owed.Add(new OwedMail(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), Enum.Parse<OrderStatus>(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetDecimal(5)));
        }

        return owed;
    }

    public static async Task MarkMailsSentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<Guid> orderIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlCommand(
            $"""UPDATE {Tables.Orders} SET "MailSentAt" = $1 WHERE "Id" = ANY($2)""", connection, transaction)
        {
            Parameters = { new() { Value = now }, new() { Value = orderIds.ToArray() } },
        };
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Claims up to <paramref name="limit"/> unsent outbox messages of the buckets the caller holds, in order, skipping rows another relay claimed.</summary>
    public static async Task<List<OutboxMessage>> ClaimPendingOutboxAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."MessageId", o."Bucket", o."Type", o."Payload"::text, o."TraceParent", o."CreatedAt", o."Attempts"
            FROM {Tables.Outbox} o JOIN {Tables.OwnedBuckets} b ON b."Bucket" = o."Bucket"
            WHERE o."SentAt" IS NULL ORDER BY o."Id" LIMIT $1
            FOR UPDATE OF o SKIP LOCKED
            """, connection, transaction)
        {
            Parameters = { new() { Value = limit } },
        };
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var pending = new List<OutboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new OutboxMessage
            {
                Id = reader.GetInt64(0),
                MessageId = reader.GetGuid(1),
                Bucket = reader.GetInt32(2),
                Type = reader.GetString(3),
                Payload = reader.GetString(4),
                TraceParent = reader.IsDBNull(5) ? null : reader.GetString(5),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(6),
                Attempts = reader.GetInt32(7),
            });
        }

        return pending;
    }

    public static async Task MarkOutboxSentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<long> ids, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlCommand(
            $"""UPDATE {Tables.Outbox} SET "SentAt" = $1, "Attempts" = "Attempts" + 1 WHERE "Id" = ANY($2)""", connection, transaction)
        {
            Parameters = { new() { Value = now }, new() { Value = ids.ToArray() } },
        };
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes sent outbox messages older than <paramref name="sentBefore"/> among the <paramref name="oldest"/> sent rows
    /// of the buckets the caller holds: the work is bounded by that window whatever the table's size (a filter on the send
    /// time alone would walk every newer row). Unsent rows are never deleted, and rows another pruner has locked are
    /// skipped, so relays in several processes cannot deadlock on them. Returns how many were deleted.
    /// </summary>
    public static async Task<int> PruneSentOutboxAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset sentBefore, int oldest, CancellationToken cancellationToken)
    {
        await using var prune = new NpgsqlCommand(
            $"""
            DELETE FROM {Tables.Outbox} WHERE "Id" IN (
                SELECT w."Id" FROM (
                    SELECT o."Id", o."SentAt" FROM {Tables.Outbox} o JOIN {Tables.OwnedBuckets} b ON b."Bucket" = o."Bucket"
                    WHERE o."SentAt" IS NOT NULL ORDER BY o."Id" LIMIT $2 FOR UPDATE OF o SKIP LOCKED) w
                WHERE w."SentAt" < $1)
            """, connection, transaction)
        {
            Parameters = { new() { Value = sentBefore }, new() { Value = oldest } },
        };
        return await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Makes the shard the owner of the buckets (already owned ones stay owned).</summary>
    public static Task OwnAsync(this OrderingDbContext db, int[] buckets, CancellationToken cancellationToken)
        => db.Database.ExecuteSqlRawAsync(
            $$"""INSERT INTO {{Tables.OwnedBuckets}} ("Bucket") SELECT unnest({0}) ON CONFLICT DO NOTHING""", [buckets], cancellationToken);

    private static NpgsqlParameter Status(OrderStatus status) => new() { Value = status.ToString() };
}
