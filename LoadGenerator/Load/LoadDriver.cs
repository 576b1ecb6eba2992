using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AspireShop.Contracts;

namespace LoadGenerator.Load;

/// <summary>One scenario as it runs: what was asked, and what has happened so far.</summary>
public sealed record LoadStatus(
    LoadScenario Scenario, int Rate, int? Seconds, DateTimeOffset StartedAt, bool Running, long Sent, long Skipped,
    IReadOnlyDictionary<string, long> Answers);

/// <summary>
/// Runs each scenario at its own fixed rate, at most one run per scenario at a time (a new start replaces the run).
/// Sends are paced by the clock, not by answers, so a slow shop shows as latency and skipped sends rather than as a
/// lower rate asked for; at most <see cref="MaxInFlight"/> requests of a scenario wait at once.
/// </summary>
public sealed class LoadDriver(ShopRequests requests, OrderRun orders, LoadMetrics metrics, TimeProvider clock, ILogger<LoadDriver> logger)
    : IAsyncDisposable
{
    public const int MaxRate = 5_000;
    public const int MaxInFlight = 512;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentDictionary<LoadScenario, Run> _runs = new();

    public async Task<LoadStatus> StartAsync(LoadScenario scenario, int rate, int? seconds, CancellationToken cancellationToken)
    {
        await requests.LoadProductsAsync(cancellationToken);
        if (scenario == LoadScenario.Orders)
        {
            await orders.BeginAsync(requests.Products, cancellationToken);
        }

        var run = new Run(scenario, rate, seconds, clock.GetUtcNow());
        if (_runs.TryRemove(scenario, out var replaced))
        {
            await replaced.StopAsync();
        }

        _runs[scenario] = run;
        run.Task = Task.Run(() => DriveAsync(run));
        logger.LogInformation("Started {Scenario} at {Rate} requests/s for {Duration}.", scenario, rate, seconds is { } s ? $"{s} s" : "as long as it runs");
        return run.Status();
    }

    public async Task<LoadStatus?> StopAsync(LoadScenario scenario)
    {
        if (!_runs.TryGetValue(scenario, out var run))
        {
            return null;
        }

        await run.StopAsync();
        logger.LogInformation("Stopped {Scenario}: {Sent} sent, {Skipped} skipped, answers {Answers}.",
            scenario, run.Sent, run.Skipped, string.Join(", ", run.Status().Answers.Select(a => $"{a.Key}: {a.Value}")));
        return run.Status();
    }

    public IReadOnlyList<LoadStatus> Status() => [.. _runs.Values.Select(run => run.Status()).OrderBy(status => status.Scenario)];

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs.Values)
        {
            await run.StopAsync();
        }
    }

    private async Task DriveAsync(Run run)
    {
        using var inFlight = new SemaphoreSlim(MaxInFlight, MaxInFlight);
        var started = clock.GetTimestamp();
        using var timer = new PeriodicTimer(Tick, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(run.Stopping.Token))
            {
                var elapsed = clock.GetElapsedTime(started);
                if (run.Seconds is { } seconds && elapsed.TotalSeconds >= seconds)
                {
                    break;
                }

                for (var due = (long)(elapsed.TotalSeconds * run.Rate) - run.Sent - run.Skipped; due > 0; due--)
                {
                    if (!inFlight.Wait(0))
                    {
                        run.Skip();
                        metrics.Skipped(run.Scenario);
                        continue;
                    }

                    run.Send();
                    _ = SendAsync(run).ContinueWith(_ => inFlight.Release(), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (run.Stopping.IsCancellationRequested)
        {
            // Stopped.
        }

        // Let the requests in flight answer, so the counts are whole when the run reports stopped.
        while (inFlight.CurrentCount < MaxInFlight)
        {
            await Task.Delay(Tick);
        }

        run.Finished();
    }

    private async Task SendAsync(Run run)
    {
        metrics.Sent(run.Scenario);
        var (client, request, order) = requests.Next(run.Scenario);
        if (order is not null)
        {
            // Recorded before it leaves, so a request whose answer never comes (or a generator killed meanwhile) is
            // still audited: found stored, or not.
            orders.Sending(order);
        }

        var took = Stopwatch.StartNew();
        string status;
        Guid? accepted = null;
        try
        {
            using (request)
            using (var answer = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead))
            {
                status = ((int)answer.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (order is not null && answer.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted = (await answer.Content.ReadFromJsonAsync<AcceptedOrder>())?.Id;
                }
            }
        }
        catch (Exception e)
        {
            // No answer is an outcome too (refused, timed out, circuit open, an unreadable body): counted by what
            // stood in for it.
            status = e.GetType().Name;
        }

        if (order is not null)
        {
            orders.Answered(order, status, accepted);
        }

        run.Answered(status);
        metrics.Answered(run.Scenario, status, took.Elapsed);
    }

    private sealed record AcceptedOrder(Guid Id);

    private sealed class Run(LoadScenario scenario, int rate, int? seconds, DateTimeOffset startedAt)
    {
        private readonly ConcurrentDictionary<string, long> _answers = new();
        private long _sent;
        private long _skipped;

        public LoadScenario Scenario { get; } = scenario;

        public int Rate { get; } = rate;

        public int? Seconds { get; } = seconds;

        public CancellationTokenSource Stopping { get; } = new();

        public Task Task { get; set; } = Task.CompletedTask;

        private volatile bool _running = true;

        public bool Running => _running;

        public void Finished() => _running = false;

        public long Sent => Interlocked.Read(ref _sent);

        public long Skipped => Interlocked.Read(ref _skipped);

        public void Send() => Interlocked.Increment(ref _sent);

        public void Skip() => Interlocked.Increment(ref _skipped);

        public void Answered(string status) => _answers.AddOrUpdate(status, 1, (_, count) => count + 1);

        public async Task StopAsync()
        {
            await Stopping.CancelAsync();
            await Task;
        }

        public LoadStatus Status() => new(Scenario, Rate, Seconds, startedAt, Running, Sent, Skipped,
            new SortedDictionary<string, long>(_answers, StringComparer.Ordinal));
    }
}
