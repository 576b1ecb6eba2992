using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;

namespace AspireShop.Hosting.Processes;

[UnsupportedOSPlatform("windows")]
public static class RedisProcessBuilderExtensions
{
    /// <summary>
    /// Runs the server as redis-server, a local process, in place of Aspire's container (which leaves the model; its
    /// name and password parameter stay), persisting to an append-only file in its data folder (synced every
    /// second, no snapshots) so carts and the shop front's keys survive a restart of the server; the password is
    /// written to a config file there rather than passed on the command line, where any local user could read it.
    /// </summary>
    public static IResourceBuilder<RedisProcessResource> RunAsLocalProcess(this IResourceBuilder<RedisResource> container)
    {
        var builder = container.ApplicationBuilder;
        var name = container.Resource.Name;
        var password = container.Resource.PasswordParameter
            ?? throw new InvalidOperationException($"{name} has no password; a local Redis always requires one.");
        builder.ReplaceWithLocalProcess(container.Resource, container.Resource.PasswordParameter);
        var local = builder.LocalProcesses();
        var resource = new RedisProcessResource(name, local.Binaries.RedisServer, local.DataRoot.For(name), password);
        var configFile = Path.Combine(resource.DataDirectory, "redis.conf");

        var healthCheckKey = builder.AddRedisCheck(resource);

        return builder.AddResource(resource)
            .WithLocalTcpEndpoint(RedisProcessResource.EndpointName)
            .WithArgs(configFile, "--port", resource.Endpoint.Property(EndpointProperty.TargetPort))
            .WithEnvironment(ProcessDataRoot.MarkerVariable, local.DataRoot.Path)
            .WithHealthCheck(healthCheckKey)
            .WithStartupHealthPolling()
            .OnBeforeResourceStarted(async (redis, _, ct) =>
            {
                Directory.CreateDirectory(redis.DataDirectory);
                string[] config =
                [
                    "bind 127.0.0.1 -::1",
                    // Carts and the shop front's data-protection keys live here: they must survive a restart
                    // (the append-only file, synced every second), or every shopper's cookie dies with the server.
                    "save \"\"",
                    "appendonly yes",
                    "appendfsync everysec",
                    // Rewriting the process title would overwrite the environment that marks this run's servers.
                    "set-proc-title no",
                    $"dir {redis.DataDirectory}",
                    $"requirepass {await redis.Password.GetValueAsync(ct)}",
                    .. await Task.WhenAll(redis.Users.Select(user => AclRuleAsync(user, ct))),
                ];
                await PrivateFile.WriteAllLinesAsync(configFile, config, ct);
            });
    }

    /// <summary>
    /// Adds a user of the server (password generated, a secret parameter) limited to the keys and channels the
    /// patterns match, created when the server starts; returns its connection string.
    /// </summary>
    public static ReferenceExpression AddUser(
        this IResourceBuilder<RedisProcessResource> redis, string name, IReadOnlyList<string> keyPatterns, IReadOnlyList<string> channelPatterns)
    {
        var password = redis.ApplicationBuilder.AddParameter(
            $"{redis.Resource.Name}-{name}-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var user = new RedisProcessUser(name, password.Resource, keyPatterns, channelPatterns);
        redis.Resource.Users.Add(user);
        return redis.Resource.ConnectionStringAs(user);
    }

    /// <summary>
    /// The user's ACL rule in redis.conf, with its password as the SHA-256 hash Redis accepts in its place, and what every
    /// StackExchange.Redis connection uses: INFO and the channel on which a primary's change of role is announced.
    /// </summary>
    private static async Task<string> AclRuleAsync(RedisProcessUser user, CancellationToken cancellationToken)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((await user.Password.GetValueAsync(cancellationToken))!)));
        return string.Join(' ', [
            $"user {user.Name} on #{hash} resetkeys resetchannels",
            .. user.KeyPatterns.Select(pattern => $"~{pattern}"),
            .. user.ChannelPatterns.Select(pattern => $"&{pattern}"),
            "&__Booksleeve_MasterChanged +@all -@dangerous +info",
        ]);
    }
}
