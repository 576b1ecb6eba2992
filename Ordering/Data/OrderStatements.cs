using Npgsql;
using static AspireShop.Ordering.Data.OrderingDbContext;

namespace AspireShop.Ordering.Data;

/// <summary>An OrderSubmitted message as the ordering tables know it: its id, its order and the order's buyer.</summary>
public sealed record OrderMessageRef(Guid MessageId, string BuyerId, Guid OrderId);

/// <summary>What processing a message decided for its order: Confirmed, or Rejected with the reason.</summary>
public sealed record OrderDecision(OrderMessageRef Message, OrderStatus Status, string? Reason);

/// <summary>The mail owed to a buyer for a decided order: what the mail says.</summary>
public sealed record MailToSend(string BuyerId, Guid OrderId, string BuyerName, string Email, OrderStatus Status, string? Reason, decimal Total);

/// <summary>
/// The statements the hot paths run on the ordering tables, in SQL rather than through EF change tracking: intake's
/// batch, the order processor's steps, the relays' claims and marks. Beside <see cref="OrderingDbContext"/>, so a table
/// or column rename is made in one project; statuses are passed as <see cref="OrderStatus"/>, never spelled. Every
/// statement runs on the caller's connection and transaction: the caller decides what commits together.
/// <para>
/// Written for the Citus coordinator: every statement names the buyers it is about (<c>"BuyerId" = ANY(...)</c>, or a
/// join on the buyer), so Citus sends it only to the shards of those buyers, and every join between ordering tables
/// is on the buyer, so it runs inside each shard. Citus refuses <c>FOR UPDATE</c> across shards: the relays' claims
/// need none, as one relay at a time claims (<see cref="Relaying.SingleActiveRelay{TSignal}"/>).
/// </para>
/// </summary>
public static class OrderStatements
{
    /// <summary>Which of the (buyer, idempotency key) pairs already have an order.</summary>
    public static async Task<HashSet<(string BuyerId, string Key)>> ExistingKeysAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<(string BuyerId, string Key)> keys, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT o."BuyerId", o."IdempotencyKey" FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            """, connection, transaction)
        {
            Parameters = { new() { Value = keys.Select(k => k.BuyerId).ToArray() }, new() { Value = keys.Select(k => k.Key).ToArray() } },
        };
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var existing = new HashSet<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            existing.Add((reader.GetString(0), reader.GetString(1)));
        }

        return existing;
    }

    /// <summary>
    /// Inserts new orders with their lines and their outbox messages in one statement (the order and its message commit
    /// together or not at all, on the buyer's shard). An order whose (buyer, idempotency key) another transaction
    /// committed meanwhile is skipped with its lines and message; returns the ids of the orders inserted.
    /// </summary>
    public static async Task<HashSet<Guid>> InsertOrdersAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(Order Order, OutboxMessage Message)> orders, CancellationToken cancellationToken)
    {
        var lines = orders.SelectMany(o => o.Order.Lines.Select(l => (o.Order.Id, Line: l))).ToList();
        await using var insert = new NpgsqlCommand(
            $"""
            WITH new_orders AS (
                INSERT INTO {Tables.Orders} ("Id", "BuyerId", "IdempotencyKey", "BuyerName", "Email", "ShippingAddress_Street",
                    "ShippingAddress_City", "ShippingAddress_PostalCode", "ShippingAddress_Country", "Status", "Total", "SubmittedAt")
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::numeric[], $12::timestamptz[])
                ON CONFLICT ("BuyerId", "IdempotencyKey") DO NOTHING RETURNING "Id"),
            new_lines AS (
                INSERT INTO {Tables.OrderLines} ("BuyerId", "OrderId", "ProductId", "ProductName", "UnitPrice", "Quantity")
                SELECT l.* FROM unnest($13::text[], $14::uuid[], $15::int[], $16::text[], $17::numeric[], $18::int[])
                    AS l(buyer_id, order_id, product_id, name, price, quantity)
                WHERE l.order_id IN (SELECT "Id" FROM new_orders)),
            new_messages AS (
                INSERT INTO {Tables.Outbox} ("MessageId", "BuyerId", "Type", "Payload", "TraceParent", "CreatedAt", "Attempts")
                SELECT m.message_id, m.buyer_id, m.type, m.payload::jsonb, m.trace_parent, m.created_at, 0
                FROM unnest($19::uuid[], $20::uuid[], $21::text[], $22::text[], $23::text[], $24::text[], $25::timestamptz[])
                    AS m(message_id, order_id, buyer_id, type, payload, trace_parent, created_at)
                WHERE m.order_id IN (SELECT "Id" FROM new_orders))
            SELECT "Id" FROM new_orders
            """, connection, transaction)
        {
            Parameters =
            {
                Array(orders, o => o.Order.Id), Array(orders, o => o.Order.BuyerId),
                Array(orders, o => o.Order.IdempotencyKey), Array(orders, o => o.Order.BuyerName), Array(orders, o => o.Order.Email),
                Array(orders, o => o.Order.ShippingAddress.Street), Array(orders, o => o.Order.ShippingAddress.City),
                Array(orders, o => o.Order.ShippingAddress.PostalCode), Array(orders, o => o.Order.ShippingAddress.Country),
                Array(orders, o => o.Order.Status.ToString()), Array(orders, o => o.Order.Total), Array(orders, o => o.Order.SubmittedAt),
                Array(lines, l => l.Line.BuyerId), Array(lines, l => l.Id), Array(lines, l => l.Line.ProductId), Array(lines, l => l.Line.ProductName),
                Array(lines, l => l.Line.UnitPrice), Array(lines, l => l.Line.Quantity),
                Array(orders, o => o.Message.MessageId), Array(orders, o => o.Order.Id), Array(orders, o => o.Message.BuyerId),
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

    /// <summary>The orders, with their lines, of the given (buyer, idempotency key) pairs that exist.</summary>
    public static async Task<List<Order>> OrdersByKeyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<(string BuyerId, string Key)> keys, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."BuyerId", o."IdempotencyKey", o."BuyerName", o."Email", o."ShippingAddress_Street", o."ShippingAddress_City",
                   o."ShippingAddress_PostalCode", o."ShippingAddress_Country", o."Status", o."RejectionReason", o."Total", o."SubmittedAt",
                   o."CompletedAt", l."ProductId", l."ProductName", l."UnitPrice", l."Quantity"
            FROM {Tables.Orders} o
            JOIN unnest($1::text[], $2::text[]) AS k(buyer_id, key) ON o."BuyerId" = k.buyer_id AND o."IdempotencyKey" = k.key
            JOIN {Tables.OrderLines} l ON l."BuyerId" = o."BuyerId" AND l."OrderId" = o."Id"
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
                    IdempotencyKey = reader.GetString(2),
                    BuyerName = reader.GetString(3),
                    Email = reader.GetString(4),
                    ShippingAddress = new ShippingAddress
                    {
                        Street = reader.GetString(5),
                        City = reader.GetString(6),
                        PostalCode = reader.GetString(7),
                        Country = reader.GetString(8),
                    },
                    Status = Enum.Parse<OrderStatus>(reader.GetString(9)),
                    RejectionReason = reader.IsDBNull(10) ? null : reader.GetString(10),
                    Total = reader.GetDecimal(11),
                    SubmittedAt = reader.GetFieldValue<DateTimeOffset>(12),
                    CompletedAt = reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13),
                };
            }

            order.Lines.Add(new OrderLine
            {
                BuyerId = order.BuyerId,
                OrderId = id,
                ProductId = reader.GetInt32(14),
                ProductName = reader.GetString(15),
                UnitPrice = reader.GetDecimal(16),
                Quantity = reader.GetInt32(17),
            });
        }

        return [.. orders.Values];
    }

    /// <summary>
    /// Per message (in the order given), whether it is new (not in the inbox) and its order there and still Submitted:
    /// two reads in one round trip. No lock is needed for a read that decides nothing.
    /// </summary>
    public static async Task<List<bool>> AreUndecidedAsync(
        NpgsqlConnection connection, IReadOnlyList<OrderMessageRef> messages, CancellationToken cancellationToken)
    {
        var buyers = messages.Select(m => m.BuyerId).ToArray();
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new($"""
                    SELECT i."MessageId" FROM {Tables.Inbox} i
                    JOIN unnest($1::text[], $2::uuid[]) AS m(buyer_id, message_id) ON i."BuyerId" = m.buyer_id AND i."MessageId" = m.message_id
                    """)
                {
                    Parameters = { new() { Value = buyers }, new() { Value = messages.Select(m => m.MessageId).ToArray() } },
                },
                new($"""
                    SELECT o."Id" FROM {Tables.Orders} o
                    JOIN unnest($1::text[], $2::uuid[]) AS m(buyer_id, order_id) ON o."BuyerId" = m.buyer_id AND o."Id" = m.order_id
                    WHERE o."Status" = $3
                    """)
                {
                    Parameters = { new() { Value = buyers }, new() { Value = messages.Select(m => m.OrderId).ToArray() }, Status(OrderStatus.Submitted) },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var processed = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            processed.Add(reader.GetGuid(0));
        }

        await reader.NextResultAsync(cancellationToken);
        var submitted = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            submitted.Add(reader.GetGuid(0));
        }

        return [.. messages.Select(m => !processed.Contains(m.MessageId) && submitted.Contains(m.OrderId))];
    }

    /// <summary>
    /// Records messages as processed and decides their orders, in one statement of the caller's transaction: inserts the
    /// inbox rows unless already there (an earlier or concurrent delivery) and decides the orders of the new ones
    /// (Confirmed, or Rejected with the reason) if still Submitted, each with the mail it now owes its buyer; the UPDATE
    /// locks each order's row and re-reads its status after a concurrent decision commits. Returns the orders this call
    /// decided.
    /// </summary>
    public static async Task<HashSet<Guid>> ProcessManyOnceAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<OrderDecision> decisions, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var decide = new NpgsqlCommand(
            $"""
            WITH batch AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[]) AS m(message_id, buyer_id, order_id, status, reason)),
            processed AS (
                INSERT INTO {Tables.Inbox} ("BuyerId", "MessageId", "ProcessedAt")
                SELECT buyer_id, message_id, $6 FROM batch ON CONFLICT DO NOTHING RETURNING "MessageId"),
            decided AS (
                UPDATE {Tables.Orders} o SET "Status" = b.status, "RejectionReason" = b.reason, "CompletedAt" = $6
                FROM batch b JOIN processed p ON p."MessageId" = b.message_id
                WHERE o."BuyerId" = b.buyer_id AND o."Id" = b.order_id AND o."Status" = $7 RETURNING o."BuyerId", o."Id"),
            owed AS (
                INSERT INTO {Tables.MailOwed} ("BuyerId", "OrderId", "DecidedAt") SELECT "BuyerId", "Id", $6 FROM decided)
            SELECT "Id" FROM decided
            """, connection, transaction)
        {
            Parameters =
            {
                new() { Value = decisions.Select(d => d.Message.MessageId).ToArray() },
                new() { Value = decisions.Select(d => d.Message.BuyerId).ToArray() },
                new() { Value = decisions.Select(d => d.Message.OrderId).ToArray() },
                new() { Value = decisions.Select(d => d.Status.ToString()).ToArray() },
                new() { Value = decisions.Select(d => d.Reason).ToArray() },
                new() { Value = now },
                Status(OrderStatus.Submitted),
            },
        };
        await using var reader = await decide.ExecuteReaderAsync(cancellationToken);
        var decided = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            decided.Add(reader.GetGuid(0));
        }

        return decided;
    }

    /// <summary>Up to <paramref name="limit"/> owed mails, oldest decision first.</summary>
    public static async Task<List<MailToSend>> OwedMailsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT o."BuyerId", o."Id", o."BuyerName", o."Email", o."Status", o."RejectionReason", o."Total"
            FROM {Tables.MailOwed} m JOIN {Tables.Orders} o ON o."BuyerId" = m."BuyerId" AND o."Id" = m."OrderId"
            ORDER BY m."DecidedAt" LIMIT $1
            """, connection, transaction)
        {
            Parameters = { new() { Value = limit } },
        };
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var owed = new List<MailToSend>();
        while (await reader.ReadAsync(cancellationToken))
        {
            owed.Add(new MailToSend(reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                Enum.Parse<OrderStatus>(reader.GetString(4)), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetDecimal(6)));
        }

        return owed;
    }

    /// <summary>The mails are paid: their owed rows deleted and the orders' <c>MailSentAt</c> set, in one round trip.</summary>
    public static async Task MarkMailsSentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<MailToSend> mails, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (buyers, orders) = (mails.Select(m => m.BuyerId).Distinct().ToArray(), mails.Select(m => m.OrderId).ToArray());
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new($"""DELETE FROM {Tables.MailOwed} WHERE "BuyerId" = ANY($1) AND "OrderId" = ANY($2)""")
                {
                    Parameters = { new() { Value = buyers }, new() { Value = orders } },
                },
                new($"""UPDATE {Tables.Orders} SET "MailSentAt" = $3 WHERE "BuyerId" = ANY($1) AND "Id" = ANY($2)""")
                {
                    Parameters = { new() { Value = buyers }, new() { Value = orders }, new() { Value = now } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> unsent outbox messages, oldest first.</summary>
    public static async Task<List<OutboxMessage>> PendingOutboxAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int limit, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"""
            SELECT "MessageId", "BuyerId", "Type", "Payload"::text, "TraceParent", "CreatedAt", "Attempts"
            FROM {Tables.Outbox} WHERE "SentAt" IS NULL ORDER BY "MessageId" LIMIT $1
            """, connection, transaction)
        {
            Parameters = { new() { Value = limit } },
        };
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var pending = new List<OutboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new OutboxMessage
            {
                MessageId = reader.GetGuid(0),
                BuyerId = reader.GetString(1),
                Type = reader.GetString(2),
                Payload = reader.GetString(3),
                TraceParent = reader.IsDBNull(4) ? null : reader.GetString(4),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(5),
                Attempts = reader.GetInt32(6),
            });
        }

        return pending;
    }

    public static async Task MarkOutboxSentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<OutboxMessage> messages, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var mark = new NpgsqlCommand(
            $"""UPDATE {Tables.Outbox} SET "SentAt" = $1, "Attempts" = "Attempts" + 1 WHERE "BuyerId" = ANY($2) AND "MessageId" = ANY($3)""",
            connection, transaction)
        {
            Parameters =
            {
                new() { Value = now }, new() { Value = messages.Select(m => m.BuyerId).Distinct().ToArray() },
                new() { Value = messages.Select(m => m.MessageId).ToArray() },
            },
        };
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes sent outbox messages older than <paramref name="sentBefore"/> among the <paramref name="oldest"/> sent
    /// rows: the work is bounded by that window whatever the table's size (a filter on the send time alone would walk
    /// every newer row). Unsent rows are never deleted. Returns how many were deleted.
    /// </summary>
    public static async Task<int> PruneSentOutboxAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset sentBefore, int oldest, CancellationToken cancellationToken)
    {
        await using var prune = new NpgsqlCommand(
            $"""
            DELETE FROM {Tables.Outbox} WHERE "SentAt" < $1 AND ("BuyerId", "MessageId") IN (
                SELECT "BuyerId", "MessageId" FROM {Tables.Outbox} WHERE "SentAt" IS NOT NULL ORDER BY "MessageId" LIMIT $2)
            """, connection, transaction)
        {
            Parameters = { new() { Value = sentBefore }, new() { Value = oldest } },
        };
        return await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter Status(OrderStatus status) => new() { Value = status.ToString() };

    private static NpgsqlParameter Array<TRow, TValue>(IEnumerable<TRow> rows, Func<TRow, TValue> column) => new() { Value = rows.Select(column).ToArray() };
}
