using AspireShop.Ordering.Distribution;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Polly;
using Polly.Registry;

namespace AspireShop.Ordering.Relaying;

/// <summary>
/// The loop both relays run: hand over a batch of what the orders owe (outbox messages to the broker, mails to buyers),
/// and when the batch was not full, sleep until the signal or the next poll. A failure is retried by the
/// <see cref="ShopResilience.UntilStopped"/> pipeline, named after the relay, so a broker or mail server outage only
/// delays the work, which waits in its table.
/// <para>
/// One relay of a kind works at a time in the whole graph, the holder of a session advisory lock on the orders
/// database (<see cref="LeaseLock"/>); the relays of other replicas wait for it, and one of them takes over within a
/// poll when its holder's session ends (the process died, or the coordinator restarted). Citus cannot claim rows
/// across shards with <c>FOR UPDATE SKIP LOCKED</c>, which is how relays in several processes used to share the work.
/// Every batch runs on the session that holds the lock, so a relay whose session broke cannot go on working beside
/// the one that took over: its next statement fails and it queues for the lock again.
/// </para>
/// </summary>
public abstract class SingleActiveRelay<TSignal>(OrdersDatabase orders, TSignal signal, ResiliencePipelineProvider<string> pipelines)
    : BackgroundService where TSignal : WakeUpSignal
{
    private readonly ResiliencePipeline _retry = pipelines.GetPipeline(ShopResilience.UntilStopped);

    /// <summary>What the relay hands over, for the retry's log line ("order-outbox").</summary>
    protected abstract string Name { get; }

    /// <summary>The key of the session advisory lock its holder relays under; one per kind of relay.</summary>
    protected abstract long LeaseLock { get; }

    /// <summary>The most a batch claims; a full batch is followed at once by the next.</summary>
    protected abstract int BatchSize { get; }

    /// <summary>How long an idle relay sleeps when no signal wakes it (work committed by another process has none), and
    /// how often a waiting relay asks for the lock.</summary>
    protected abstract TimeSpan IdlePoll { get; }

    /// <summary>Reads, hands over and marks one batch on the lock holder's session; returns how many items it handled.</summary>
    protected abstract Task<int> RelayBatchAsync(NpgsqlConnection session, CancellationToken cancellationToken);

    /// <summary>What must be ready before the first batch (the schema, say).</summary>
    protected virtual Task WhenReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenReadyAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var context = ResilienceContextPool.Shared.Get(Name, stoppingToken);
            try
            {
                await _retry.ExecuteAsync(static (context, relay) => new ValueTask(relay.RelayWhileHoldingAsync(context.CancellationToken)), context, this);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
    }

    private async Task RelayWhileHoldingAsync(CancellationToken stoppingToken)
    {
        await using var session = await orders.DataSource.OpenConnectionAsync(stoppingToken);
        while (!await TryLockAsync(session, stoppingToken))
        {
            await Task.Delay(IdlePoll, stoppingToken);
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (await RelayBatchAsync(session, stoppingToken) < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
        }
        finally
        {
            // Released before the connection goes back to the pool, which would otherwise keep it held.
            try
            {
                await LockAsync(session, "pg_advisory_unlock", CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // A broken session has lost the lock already, and the pool discards a broken connection.
            }
        }
    }

    private Task<bool> TryLockAsync(NpgsqlConnection session, CancellationToken cancellationToken)
        => LockAsync(session, "pg_try_advisory_lock", cancellationToken);

    private async Task<bool> LockAsync(NpgsqlConnection session, string function, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {function}($1)", session) { Parameters = { new() { Value = LeaseLock } } };
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
