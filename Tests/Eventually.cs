using System.Diagnostics;

namespace Tests;

/// <summary>
/// Waits for something the running graph does on its own (a message relayed, a standby catching up, a process
/// restarting) by polling, never by sleeping a fixed time: a test goes on the moment it is so, and fails with its own
/// message only after the timeout.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Polls <paramref name="probe"/> until <paramref name="done"/> holds or the timeout passes, and returns the last
    /// value either way, so the caller's assertion shows what was last seen.
    /// </summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value) || clock.Elapsed >= timeout)
            {
                return value;
            }

            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <inheritdoc cref="UntilAsync{T}(Func{Task{T}}, Func{T, bool}, TimeSpan, TimeSpan?)"/>
    public static Task<T> UntilAsync<T>(Func<T> probe, Func<T, bool> done, TimeSpan timeout, TimeSpan? interval = null)
        => UntilAsync(() => Task.FromResult(probe()), done, timeout, interval);

    /// <summary>Polls until the condition holds; fails with <paramref name="because"/> if it does not within the timeout.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because, TimeSpan? interval = null)
        => Assert.True(await UntilAsync(condition, done => done, timeout, interval), $"{because} (still not so after {timeout})");

    /// <inheritdoc cref="TrueAsync(Func{Task{bool}}, TimeSpan, string, TimeSpan?)"/>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string because, TimeSpan? interval = null)
        => TrueAsync(() => Task.FromResult(condition()), timeout, because, interval);
}
