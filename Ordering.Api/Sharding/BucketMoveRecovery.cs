namespace Ordering.Api.Sharding;

/// <summary>
/// Puts back, every few seconds, what a bucket move stopped half-way left (<see cref="BucketMover.TryRepairAsync"/>):
/// a move whose process was killed during its freeze leaves the bucket owned by no shard, and its buyers' orders
/// answered 503 until someone runs a move again. Skipped while a move runs (it holds the move lock); every API replica
/// tries, and the lock lets one at a time repair.
/// </summary>
public sealed class BucketMoveRecovery(IServiceScopeFactory scopes, ILogger<BucketMoveRecovery> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<BucketMover>().TryRepairAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not migrated yet, or a shard or the directory is restarting: the next tick tries again.
                logger.LogDebug("Repairing after bucket moves failed: {Problem}", e.Message);
            }
        }
    }
}
