using AspireShop.Contracts;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.EntityFrameworkCore;

namespace Ordering.Api.Sharding;

/// <summary>
/// The operator's command line for order shards, run from the same program as the API with the same configuration
/// (connection strings <c>catalogdb</c> and <c>ordersdb-shard1</c>...):
/// <code>
/// dotnet run --project Ordering.Api -- shards list
/// dotnet run --project Ordering.Api -- shards move --bucket 17 --to 2
/// </code>
/// </summary>
public static class ShardsCommand
{
    public const string Verb = "shards";

    public static bool IsInvocation(string[] args) => args is [Verb, ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var (command, options, rest) = Parse(args);
        var builder = Host.CreateApplicationBuilder(rest);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter(typeof(BucketMover).Namespace, LogLevel.Information);
        builder.AddOrderShards();
        builder.Services.AddDbContext<OrderShardMapDbContext>(db => db.UseNpgsql(builder.Configuration.GetConnectionString(ResourceNames.CatalogDb)));
        builder.Services.AddShopResilience();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OrderShardContexts>();
        builder.Services.AddScoped<BucketMover>();

        // Built, not run: the command needs the services, not the hosted ones.
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        var mover = scope.ServiceProvider.GetRequiredService<BucketMover>();
        var shards = scope.ServiceProvider.GetRequiredService<OrderShardContexts>();
        try
        {
            switch (command)
            {
                case "list":
                    await shards.Map.RefreshAsync(CancellationToken.None);
                    foreach (var bucket in Enumerable.Range(0, OrderBuckets.Count))
                    {
                        var shard = shards.Map.ForBucket(bucket);
                        Console.WriteLine($"bucket {bucket,2}  {shard.Name}  {await mover.SummaryAsync(shard, bucket, CancellationToken.None)}");
                    }

                    return 0;
                case "move" when options.TryGetValue("--bucket", out var bucketText) && int.TryParse(bucketText, out var bucketNumber)
                                 && options.TryGetValue("--to", out var toText) && int.TryParse(toText.Replace("shard", "", StringComparison.Ordinal), out var to):
                    var report = await mover.MoveAsync(bucketNumber, to, CancellationToken.None);
                    Console.WriteLine($"bucket {report.Bucket} moved from {report.From} to {report.To}: {report.Moved}; writes to it waited {report.Frozen.TotalMilliseconds:0} ms");
                    return 0;
                default:
                    Console.Error.WriteLine("usage: shards list | shards move --bucket <0-63> --to <shard number>");
                    return 2;
            }
        }
        catch (BucketMoveFailedException e)
        {
            Console.Error.WriteLine($"shards: {e.Message}");
            return 1;
        }
    }

    private static (string Command, Dictionary<string, string> Options, string[] HostArguments) Parse(string[] args)
    {
        var command = args.Length > 1 ? args[1] : "";
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = new List<string>();
        for (var i = 2; i < args.Length; i++)
        {
            if (args[i] is "--bucket" or "--to" && i + 1 < args.Length)
            {
                options[args[i]] = args[++i];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        return (command, options, [.. rest]);
    }
}
