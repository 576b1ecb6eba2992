using AspireShop.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace AspireShop.AppHost;

/// <summary>The shape of the graph: how many of each service and server run.</summary>
public enum ScaleTopology
{
    /// <summary>
    /// One of each service, one order shard, one standby of the catalog database: everything the shop does (read
    /// replica, outbox, broker, worker, cache) with the fewest processes, so a laptop brings it up quickly.
    /// </summary>
    Lean,

    /// <summary>Two replicas of every service and two order shards: the scale-out shape.</summary>
    ScaleOut,
}

/// <summary>
/// The AppHost's <c>Scale</c> section. <c>Scale:Topology</c> picks the defaults (Lean when the shop runs, ScaleOut in the
/// deployment manifest); every count can still be set on its own, e.g. <c>--Scale:Topology=ScaleOut</c> or
/// <c>--Scale:CatalogApis=3</c>.
/// </summary>
public sealed record ScaleSettings(
    ScaleTopology Topology, int CatalogApis, int OrderingApis, int OrderingWorkers, int WebFrontends, int OrderShards)
{
    public const string SectionName = "Scale";

    public static ScaleSettings From(IConfiguration configuration, bool isPublishMode)
    {
        var section = configuration.GetSection(SectionName);
        var topology = isPublishMode ? ScaleTopology.ScaleOut : ScaleTopology.Lean;
        if (section[nameof(Topology)] is { Length: > 0 } named)
        {
            topology = Enum.TryParse<ScaleTopology>(named, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new AppHostSetupException($"Scale:Topology is '{named}'; use Lean or ScaleOut.");
        }

        var replicas = topology is ScaleTopology.ScaleOut ? 2 : 1;
        return new ScaleSettings(
            topology,
            Count(section, nameof(CatalogApis), replicas),
            Count(section, nameof(OrderingApis), replicas),
            Count(section, nameof(OrderingWorkers), replicas),
            Count(section, nameof(WebFrontends), replicas),
            Count(section, nameof(OrderShards), replicas));
    }

    private static int Count(IConfigurationSection section, string key, int defaultValue)
    {
        if (section[key] is not { Length: > 0 } text)
        {
            return defaultValue;
        }

        return int.TryParse(text, out var count) && count is >= 1 and <= 8
            ? count
            : throw new AppHostSetupException($"Scale:{key} is '{text}'; use a number from 1 to 8.");
    }
}
