using AspireShop.Contracts;
using AspireShop.Contracts.Sharding;
using MailKit.Net.Smtp;
using Npgsql;

namespace Ordering.Worker.Mail;

/// <summary>Wakes a shard's mail relay as soon as an order is decided there.</summary>
public sealed class OrderMailSignal : WakeUpSignal;

/// <summary>One wake-up signal per order shard.</summary>
public sealed class OrderMailSignals(OrderShardMap map) : PerShardSignals<OrderMailSignal>(map);

/// <summary>
/// Sends the mails owed for decided orders. The order's row is the record of the debt (<c>MailSentAt</c> is null),
/// written in the same transaction that decided the order, so a worker that dies after the commit leaves the mail
/// owed rather than lost. Each batch is claimed with <c>FOR UPDATE SKIP LOCKED</c> and marked in the same
/// transaction after sending, so two workers never send the same mail, and a mail sent just before a crash is
/// claimed again by whichever relay comes next: the pickup sender finds its file and writes nothing; an SMTP
/// server may get a second copy with the same Message-ID. One loop per order shard, each claiming only orders of the
/// buckets its shard owns.
/// </summary>
public sealed class OrderMailRelay(
    OrderShardMap shards, IOrderMailSender sender, OrderMailSignals signals, TimeProvider clock, ILogger<OrderMailRelay> logger)
    : BackgroundService
{
    private const int BatchSize = 32;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(shards.Shards.Select(shard => RelayShardAsync(shard, stoppingToken)));

    private async Task RelayShardAsync(OrderShard shard, CancellationToken stoppingToken)
    {
        var signal = signals.For(shard);
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var sent = await SendBatchAsync(shard, stoppingToken);
                backoff = TimeSpan.Zero;
                if (sent < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable && !stoppingToken.IsCancellationRequested)
            {
                // Catalog.Api creates the order schema on each shard when it first starts.
                logger.LogInformation("The order schema is not on {Shard} yet; waiting for it.", shard.Name);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                logger.LogWarning("Sending order mails of {Shard} failed ({Problem}); retrying in {Backoff}.", shard.Name, e.Message, backoff);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    private async Task<int> SendBatchAsync(OrderShard shard, CancellationToken cancellationToken)
    {
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await BucketOwnership.HoldAllOwnedAsync(connection, transaction, cancellationToken);
        var owed = await ClaimOwedAsync(connection, transaction, cancellationToken);
        if (owed.Count == 0)
        {
            return 0;
        }

        var settled = new List<Guid>(owed.Count);
        Exception? failure = null;
        foreach (var mail in owed)
        {
            try
            {
                await sender.SendAsync(mail, cancellationToken);
                settled.Add(mail.OrderId);
            }
            catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
            {
                // Trying again cannot help: record it and stop owing the mail.
                logger.LogError("The mail for order {OrderId} is undeliverable: the SMTP server refused the recipient ({Problem}).", mail.OrderId, e.Message);
                settled.Add(mail.OrderId);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure = e;
                break;
            }
        }

        await using (var mark = new NpgsqlCommand(
            """UPDATE ordering.orders SET "MailSentAt" = @now WHERE "Id" = ANY(@ids)""", connection, transaction))
        {
            mark.Parameters.AddWithValue("now", clock.GetUtcNow());
            mark.Parameters.AddWithValue("ids", settled.ToArray());
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (failure is not null)
        {
            throw failure;
        }

        return settled.Count;
    }

    private static async Task<List<OrderMail>> ClaimOwedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(
            $"""
            SELECT o."Id", o."BuyerName", o."Email", o."Status", o."RejectionReason", o."Total"
            FROM ordering.orders o JOIN ordering.owned_buckets b ON b."Bucket" = o."Bucket"
            WHERE o."MailSentAt" IS NULL AND o."Status" <> 'Submitted'
            ORDER BY o."CompletedAt" LIMIT {BatchSize} FOR UPDATE OF o SKIP LOCKED
            """, connection, transaction);
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var owed = new List<OrderMail>();
        while (await reader.ReadAsync(cancellationToken))
        {
            owed.Add(new OrderMail(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetDecimal(5)));
        }

        return owed;
    }
}
