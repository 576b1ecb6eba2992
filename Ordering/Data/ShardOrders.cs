using AspireShop.Ordering.Sharding;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace AspireShop.Ordering.Data;

/// <summary>An OrderSubmitted message as the shard tables know it: its id, its order and the order's bucket.</summary>
public sealed record OrderMessageRef(Guid MessageId, int Bucket, Guid OrderId);

/// <summary>What processing a message decided for its order: Confirmed, or Rejected with the reason.</summary>
public sealed record OrderDecision(OrderMessageRef Message, OrderStatus Status, string? Reason);

/// <summary>The mail owed to a buyer for a decided order: what the mail says.</summary>
public sealed record MailToSend(Guid OrderId, string BuyerName, string Email, OrderStatus Status, string? Reason, decimal Total);

/// <summary>
/// The statements the hot paths run on one shard's ordering tables, in SQL rather than through EF change tracking: the
/// order processor's steps, the relays' claims and marks, bucket ownership. Beside <see cref="OrderingDbContext"/>, so
/// a table or column rename is made in one project; statuses are passed as <see cref="OrderStatus"/>, never spelled.
/// Every statement runs on the caller's connection and transaction: the caller decides what commits together.
/// </summary>
public static class ShardOrders
{
    /// <summary>
    /// Opens order intake's transaction on the shard, in two round trips: holds (shared) the buckets that are not being
    /// frozen (<see cref="BucketOwnership.TryHoldManyAsync"/>), then reads which of those this shard owns and which of the
    /// (buyer, idempotency key) pairs already have an order here. A bucket not returned as owned is to be retried.
    /// </summary>
    public static async Task<(HashSet<int> Owned, HashSet<(string BuyerId, string Key)> Existing)> HoldForIntakeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<int> buckets,
        IReadOnlyCollection<(string BuyerId, string Key)> keys, CancellationToken cancellationToken)
    {
        var held = await BucketOwnership.TryHoldManyAsync(connection, transaction, buckets, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new($"""SELECT "Bucket" FROM {Tables.OwnedBuckets} WHERE "Bucket" = ANY($1)""") { Parameters = { new() { Value = held.ToArray() } } },
                new($"""
                    SELECT o."BuyerId", o."IdempotencyKey" FROM {Tables.Orders} o
                    JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
                    """)
                {
                    Parameters = { new() { Value = keys.Select(k => k.BuyerId).ToArray() }, new() { Value = keys.Select(k => k.Key).ToArray() } },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var owned = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            owned.Add(reader.GetInt32(0));
        }

        await reader.NextResultAsync(cancellationToken);
        var existing = new HashSet<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            existing.Add((reader.GetString(0), reader.GetString(1)));
        }

        return (owned, existing);
    }

    /// <summary>
    /// Inserts new orders with their lines and their outbox messages in one statement (the order and its message commit
    /// together or not at all). An order whose (buyer, idempotency key) another transaction committed meanwhile is
    /// skipped with its lines and message; returns the ids of the orders inserted.
    /// </summary>
    public static async Task<HashSet<Guid>> InsertOrdersAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(Order Order, OutboxMessage Message)> orders, CancellationToken cancellationToken)
    {
        var lines = orders.SelectMany(o => o.Order.Lines.Select(l => (o.Order.Id, Line: l))).ToList();
        await using var insert = new NpgsqlCommand(
            $"""
            WITH new_orders AS (
                INSERT INTO {Tables.Orders} ("Id", "BuyerId", "Bucket", "IdempotencyKey", "BuyerName", "Email", "ShippingAddress_Street",
                    "ShippingAddress_City", "ShippingAddress_PostalCode", "ShippingAddress_Country", "Status", "Total", "SubmittedAt")
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                    $10::text[], $11::text[], $12::numeric[], $13::timestamptz[])
                ON CONFLICT ("BuyerId", "IdempotencyKey") DO NOTHING RETURNING "Id"),
            new_lines AS (
                INSERT INTO {Tables.OrderLines} ("OrderId", "ProductId", "ProductName", "UnitPrice", "Quantity")
                SELECT l.* FROM unnest($14::uuid[], $15::int[], $16::text[], $17::numeric[], $18::int[]) AS l(order_id, product_id, name, price, quantity)
                WHERE l.order_id IN (SELECT "Id" FROM new_orders)),
            new_messages AS (
                INSERT INTO {Tables.Outbox} ("MessageId", "Bucket", "Type", "Payload", "TraceParent", "CreatedAt", "Attempts")
                SELECT m.message_id, m.bucket, m.type, m.payload::jsonb, m.trace_parent, m.created_at, 0
                FROM unnest($19::uuid[], $20::uuid[], $21::int[], $22::text[], $23::text[], $24::text[], $25::timestamptz[])
                    WITH ORDINALITY AS m(message_id, order_id, bucket, type, payload, trace_parent, created_at, position)
                WHERE m.order_id IN (SELECT "Id" FROM new_orders) ORDER BY m.position)
            SELECT "Id" FROM new_orders
            """, connection, transaction)
        {
            Parameters =
            {
                Array(orders, o => o.Order.Id), Array(orders, o => o.Order.BuyerId), Array(orders, o => o.Order.Bucket),
                Array(orders, o => o.Order.IdempotencyKey), Array(orders, o => o.Order.BuyerName), Array(orders, o => o.Order.Email),
                Array(orders, o => o.Order.ShippingAddress.Street), Array(orders, o => o.Order.ShippingAddress.City),
                Array(orders, o => o.Order.ShippingAddress.PostalCode), Array(orders, o => o.Order.ShippingAddress.Country),
                Array(orders, o => o.Order.Status.ToString()), Array(orders, o => o.Order.Total), Array(orders, o => o.Order.SubmittedAt),
                Array(lines, l => l.Id), Array(lines, l => l.Line.ProductId), Array(lines, l => l.Line.ProductName),
                Array(lines, l => l.Line.UnitPrice), Array(lines, l => l.Line.Quantity),
                Array(orders, o => o.Message.MessageId), Array(orders, o => o.Order.Id), Array(orders, o => o.Message.Bucket),
                Array(orders, o => o.Message.Type), Array(orders, o => o.Message.Payload), Array(orders, o => o.Message.TraceParent),
                Array(orders, o => o.Message.CreatedAt),
            },
        };
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        var inserted = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add(reader.GetGuid(0));
        }

        return inserted;
    }

    /// <summary>The orders, with their lines, of the given (buyer, idempotency key) pairs that exist here.</summary>
    public static async Task<List<Order>> OrdersByKeyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<(string BuyerId, string Key)> keys, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."BuyerId", o."Bucket", o."IdempotencyKey", o."BuyerName", o."Email", o."ShippingAddress_Street", o."ShippingAddress_City",
                   o."ShippingAddress_PostalCode", o."ShippingAddress_Country", o."Status", o."RejectionReason", o."Total", o."SubmittedAt",
                   o."CompletedAt", l."ProductId", l."ProductName", l."UnitPrice", l."Quantity"
            FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            JOIN {Tables.OrderLines} l ON l."OrderId" = o."Id"
            """, connection, transaction)
        {
            Parameters = { new() { Value = keys.Select(k => k.BuyerId).ToArray() }, new() { Value = keys.Select(k => k.Key).ToArray() } },
        };
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var orders = new Dictionary<Guid, Order>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (!orders.TryGetValue(id, out var order))
            {
                orders[id] = order = new Order
                {
                    Id = id,
                    BuyerId = reader.GetString(1),
                    Bucket = reader.GetInt32(2),
                    IdempotencyKey = reader.GetString(3),
                    BuyerName = reader.GetString(4),
                    Email = reader.GetString(5),
                    ShippingAddress = new ShippingAddress
                    {
                        Street = reader.GetString(6),
                        City = reader.GetString(7),
                        PostalCode = reader.GetString(8),
                        Country = reader.GetString(9),
                    },
                    Status = Enum.Parse<OrderStatus>(reader.GetString(10)),
                    RejectionReason = reader.IsDBNull(11) ? null : reader.GetString(11),
                    Total = reader.GetDecimal(12),
                    SubmittedAt = reader.GetFieldValue<DateTimeOffset>(13),
                    CompletedAt = reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
                };
            }

            order.Lines.Add(new OrderLine
            {
                OrderId = id,
                ProductId = reader.GetInt32(15),
                ProductName = reader.GetString(16),
                UnitPrice = reader.GetDecimal(17),
                Quantity = reader.GetInt32(18),
            });
        }

        return [.. orders.Values];
    }

    /// <summary>
    /// Per message (in the order given), whether its bucket is owned here and, if so, whether the message is new and its
    /// order there and still Submitted. One statement, so one snapshot: a bucket seen owned here has not been frozen by
    /// a move yet, and its rows read are all here. No lock is needed for a read that decides nothing.
    /// </summary>
    public static async Task<List<(bool Owned, bool Undecided)>> AreUndecidedAsync(
        NpgsqlConnection connection, IReadOnlyList<OrderMessageRef> messages, CancellationToken cancellationToken)
    {
        await using var check = new NpgsqlCommand(
            $"""
            SELECT EXISTS (SELECT 1 FROM {Tables.OwnedBuckets} WHERE "Bucket" = m.bucket),
                   NOT EXISTS (SELECT 1 FROM {Tables.Inbox} WHERE "MessageId" = m.message_id)
                   AND EXISTS (SELECT 1 FROM {Tables.Orders} WHERE "Id" = m.order_id AND "Status" = $4)
            FROM unnest($1::uuid[], $2::int[], $3::uuid[]) WITH ORDINALITY AS m(message_id, bucket, order_id, position)
            ORDER BY m.position
            """, connection)
        {
            Parameters =
            {
                new() { Value = messages.Select(m => m.MessageId).ToArray() }, new() { Value = messages.Select(m => m.Bucket).ToArray() },
                new() { Value = messages.Select(m => m.OrderId).ToArray() }, Status(OrderStatus.Submitted),
            },
        };
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        var answers = new List<(bool, bool)>(messages.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            answers.Add((reader.GetBoolean(0), reader.GetBoolean(1)));
        }

        return answers;
    }

    /// <summary>
    /// Records messages as processed and decides their orders, in two round trips and the caller's transaction: holds
    /// (shared) the messages' buckets that are not being frozen (<see cref="BucketOwnership.TryHoldManyAsync"/>), then,
    /// for the messages whose bucket is held and owned here, inserts the inbox rows unless already there (an earlier or
    /// concurrent delivery) and decides the orders of the new ones (Confirmed, or Rejected with the reason) if still
    /// Submitted, each with the mail it now owes its buyer; the UPDATE locks each order's row and re-reads its status
    /// after a concurrent decision commits. Returns the messages recorded (one whose bucket is frozen or moved away is
    /// not among them: it is processed again after the freeze, by the bucket's owner) and the orders this call decided.
    /// </summary>
    public static async Task<(HashSet<Guid> Recorded, HashSet<Guid> Decided)> ProcessManyOnceAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderDecision> decisions, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        // Ownership is read by the next statement, so with a snapshot taken after every lock was granted.
        var held = await BucketOwnership.TryHoldManyAsync(connection, transaction, decisions.Select(d => d.Message.Bucket), cancellationToken);
        await using var decide = new NpgsqlCommand(
            $"""
            WITH batch AS (
                SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::text[]) AS m(message_id, bucket, order_id, status, reason)
                WHERE m.bucket = ANY($8) AND m.bucket IN (SELECT "Bucket" FROM {Tables.OwnedBuckets})),
            processed AS (
                INSERT INTO {Tables.Inbox} ("MessageId", "Bucket", "ProcessedAt")
                SELECT message_id, bucket, $6 FROM batch ON CONFLICT DO NOTHING RETURNING "MessageId"),
            decided AS (
                UPDATE {Tables.Orders} o SET "Status" = b.status, "RejectionReason" = b.reason, "CompletedAt" = $6
                FROM batch b JOIN processed p ON p."MessageId" = b.message_id
                WHERE o."Id" = b.order_id AND o."Status" = $7 RETURNING o."Id"),
            owed AS (
                INSERT INTO {Tables.MailOwed} ("OrderId", "DecidedAt") SELECT "Id", $6 FROM decided)
            SELECT b.message_id, d."Id" FROM batch b LEFT JOIN decided d ON d."Id" = b.order_id
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = decisions.Select(d => d.Message.MessageId).ToArray() },
                new() { Value = decisions.Select(d => d.Message.Bucket).ToArray() },
                new() { Value = decisions.Select(d => d.Message.OrderId).ToArray() },
                new() { Value = decisions.Select(d => d.Status.ToString()).ToArray() },
                new() { Value = decisions.Select(d => d.Reason).ToArray() },
                new() { Value = now },
                Status(OrderStatus.Submitted),
                new() { Value = held.ToArray() },
            },
        };
        await using var reader = await decide.ExecuteReaderAsync(cancellationToken);
        var (recorded, decided) = (new HashSet<Guid>(), new HashSet<Guid>());
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded.Add(reader.GetGuid(0));
            if (!reader.IsDBNull(1))
            {
                decided.Add(reader.GetGuid(1));
            }
        }

        return (recorded, decided);
    }

    /// <summary>Claims up to <paramref name="limit"/> owed mails of the buckets the caller holds, oldest decision first, skipping rows another relay claimed.</summary>
    public static async Task<List<MailToSend>> ClaimOwedMailsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."BuyerName", o."Email", o."Status", o."RejectionReason", o."Total"
            FROM {Tables.MailOwed} m JOIN {Tables.Orders} o ON o."Id" = m."OrderId" JOIN {Tables.OwnedBuckets} b ON b."Bucket" = o."Bucket"
            ORDER BY m."DecidedAt" LIMIT $1 FOR UPDATE OF m SKIP LOCKED
            """, connection, transaction)
        {
            Parameters = { new() { Value = limit } },
        };
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var owed = new List<MailToSend>();
        while (await reader.ReadAsync(cancellationToken))
        {
            owed.Add(new MailToSend(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), Enum.Parse<OrderStatus>(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetDecimal(5)));
        }

        return owed;
    }

    public static async Task MarkMailsSentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<Guid> orderIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlCommand(
            $"""
            WITH paid AS (DELETE FROM {Tables.MailOwed} WHERE "OrderId" = ANY($2) RETURNING "OrderId")
            UPDATE {Tables.Orders} SET "MailSentAt" = $1 WHERE "Id" IN (SELECT "OrderId" FROM paid)
            """, connection, transaction)
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
    /// Looks at up to <paramref name="limit"/> sent outbox messages after <paramref name="afterId"/> (by id) of the
    /// buckets the caller holds, and marks unsent again those sent before <paramref name="sentBefore"/> that no worker
    /// has processed (no inbox row), so the relay publishes them once more. The rows are not locked: the relay only
    /// claims unsent rows, and the update re-checks its condition on the row it finds. Returns the last id looked at
    /// (null when there was none left) and how many were marked.
    /// </summary>
    public static async Task<(long? LastId, int Requeued)> RequeueUnprocessedOutboxAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long afterId, DateTimeOffset sentBefore, int limit, CancellationToken cancellationToken)
    {
        await using var requeue = new NpgsqlCommand(
            $"""
            WITH scanned AS (
                SELECT o."Id", o."MessageId" FROM {Tables.Outbox} o JOIN {Tables.OwnedBuckets} b ON b."Bucket" = o."Bucket"
                WHERE o."Id" > $1 AND o."SentAt" IS NOT NULL ORDER BY o."Id" LIMIT $3),
            requeued AS (
                UPDATE {Tables.Outbox} o SET "SentAt" = NULL FROM scanned s
                WHERE o."Id" = s."Id" AND o."SentAt" < $2
                  AND NOT EXISTS (SELECT 1 FROM {Tables.Inbox} i WHERE i."MessageId" = s."MessageId")
                RETURNING o."Id")
            SELECT (SELECT max("Id") FROM scanned), (SELECT count(*)::int FROM requeued)
            """, connection, transaction)
        {
            Parameters = { new() { Value = afterId }, new() { Value = sentBefore }, new() { Value = limit } },
        };
        await using var reader = await requeue.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetInt32(1));
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

    private static NpgsqlParameter Array<TRow, TValue>(IEnumerable<TRow> rows, Func<TRow, TValue> column) => new() { Value = rows.Select(column).ToArray() };
}
