using System.Diagnostics.Metrics;
using AspireShop.ServiceDefaults;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AspireShop.Ordering.Sharding;

/// <summary>
/// A <see cref="PeriodicSampler"/> that runs one query returning one row on every order shard and keeps a sample per
/// shard, which its gauges report with the tag <c>shard</c>.
/// </summary>
public abstract class PerShardSampler<TSample>(OrderShardMap shards, ILogger logger) : PeriodicSampler(logger)
{
    private IReadOnlyList<(KeyValuePair<string, object?> Shard, TSample Sample)> _samples = [];

    /// <summary>The query, run on each shard; it returns one row, which <see cref="Read"/> turns into the sample.</summary>
    protected abstract string Query { get; }

    protected abstract TSample Read(NpgsqlDataReader row);

    /// <summary>One measurement per shard of the last samples, for an observable gauge.</summary>
    protected IEnumerable<Measurement<T>> PerShard<T>(Func<TSample, T> value) where T : struct
        => _samples.Select(sample => new Measurement<T>(value(sample.Sample), sample.Shard));

    protected sealed override async Task SampleAsync(CancellationToken cancellationToken)
    {
        var samples = new List<(KeyValuePair<string, object?>, TSample)>();
        foreach (var shard in shards.Shards)
        {
            await using var command = shard.DataSource.CreateCommand(Query);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            samples.Add((new("shard", shard.Name), Read(reader)));
        }

        _samples = samples;
    }
}
