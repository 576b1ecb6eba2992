using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace AspireShop.Hosting.Processes;

[UnsupportedOSPlatform("windows")]
public static class RabbitMQProcessBuilderExtensions
{
    /// <summary>
    /// Runs the broker as a local RabbitMQ node in place of Aspire's container (which leaves the model; its name and
    /// password parameter stay), with its own port mapper (epmd), node name, cookie, data and ports,
    /// so it never collides with a system RabbitMQ or another AppHost. The management UI is an HTTP endpoint shown in
    /// the dashboard.
    /// </summary>
    public static IResourceBuilder<RabbitMQProcessResource> RunAsLocalProcess(this IResourceBuilder<RabbitMQServerResource> container)
    {
        var builder = container.ApplicationBuilder;
        var name = container.Resource.Name;
        var password = container.Resource.PasswordParameter;
        builder.ReplaceWithLocalProcess(container.Resource, password);
        var local = builder.LocalProcesses();
        var binaries = local.Binaries;
        var dataRoot = local.DataRoot;
        var resource = new RabbitMQProcessResource(name, binaries.RabbitMQServer, dataRoot.For(name), password);
        var configBase = Path.Combine(resource.DataDirectory, "rabbitmq");
        var pluginsFile = Path.Combine(resource.DataDirectory, "enabled_plugins");

        var mapper = new ErlangPortMapperResource($"{name}-epmd", binaries.Epmd, dataRoot.Path);
        var epmd = builder.AddResource(mapper)
            .WithLocalTcpEndpoint(ErlangPortMapperResource.EndpointName)
            // Loopback only: the node registers with it locally, and nothing else has to find the node.
            .WithArgs("-port", mapper.Endpoint.Property(EndpointProperty.TargetPort), "-address", "127.0.0.1")
            .WithEnvironment(ProcessDataRoot.MarkerVariable, dataRoot.Path)
            .WithHealthCheck(AddTcpCheck(builder, mapper))
            .WithStartupHealthPolling();
        var epmdPort = mapper.Endpoint.Property(EndpointProperty.TargetPort);

        var healthCheckKey = $"{name}_process_check";
        IConnection? connection = null;
        builder.Services.AddHealthChecks().AddRabbitMQ(
            async _ => connection ??= await new ConnectionFactory
            {
                Uri = new Uri((await resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None))!),
            }.CreateConnectionAsync(),
            name: healthCheckKey);

        return builder.AddResource(resource)
            .WithLocalTcpEndpoint(RabbitMQProcessResource.AmqpEndpointName)
            .WithLocalTcpEndpoint(RabbitMQProcessResource.ManagementEndpointName, scheme: "http")
            .WithLocalTcpEndpoint(RabbitMQProcessResource.DistributionEndpointName)
            .WithUrlForEndpoint(RabbitMQProcessResource.DistributionEndpointName, url => url.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .WithUrlForEndpoint(RabbitMQProcessResource.AmqpEndpointName, url => url.DisplayLocation = UrlDisplayLocation.DetailsOnly)
            .WithEnvironment(context =>
            {
                var env = context.EnvironmentVariables;
                env[ProcessDataRoot.MarkerVariable] = dataRoot.Path;
                // Its own HOME keeps the Erlang cookie out of the user's home folder.
                env["HOME"] = resource.DataDirectory;
                env["RABBITMQ_NODENAME"] = $"{name}@localhost";
                env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
                env["RABBITMQ_NODE_PORT"] = resource.AmqpEndpoint.Property(EndpointProperty.TargetPort);
                // Must be set: the default (AMQP port + 20000) is out of range for the high ports allocated here.
                env["RABBITMQ_DIST_PORT"] = resource.DistributionEndpoint.Property(EndpointProperty.TargetPort);
                env["ERL_EPMD_PORT"] = epmdPort;
                // No epmd daemon of its own (see ErlangPortMapperResource); the distribution port (how Erlang nodes
                // and RabbitMQ's CLI talk to the node) on loopback only, as every other port of the node; and no
                // busy-waiting schedulers: on a small machine shared with the database and the services, spinning
                // Erlang schedulers take CPU the others need (RabbitMQ's own advice for shared hosts).
                env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] =
                    "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none";
                // Makes the script exec the Erlang VM instead of forking it, so stopping the resource stops the node.
                env["RUNNING_UNDER_SYSTEMD"] = "true";
                env["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(resource.DataDirectory, "rabbitmq-env.conf");
                env["RABBITMQ_CONFIG_FILE"] = configBase;
                env["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(resource.DataDirectory, "advanced.config");
                env["RABBITMQ_ENABLED_PLUGINS_FILE"] = pluginsFile;
                env["RABBITMQ_MNESIA_BASE"] = Path.Combine(resource.DataDirectory, "mnesia");
                env["RABBITMQ_LOG_BASE"] = Path.Combine(resource.DataDirectory, "log");
                env["RABBITMQ_LOGS"] = "-";
                env["RABBITMQ_PID_FILE"] = Path.Combine(resource.DataDirectory, "rabbitmq.pid");
            })
            .WithParentRelationship(epmd)
            .WaitFor(epmd)
            .WithHealthCheck(healthCheckKey)
            .WithStartupHealthPolling()
            .OnBeforeResourceStarted(async (rabbit, _, ct) =>
            {
                Directory.CreateDirectory(rabbit.DataDirectory);
                var managementPort = await rabbit.ManagementEndpoint.Property(EndpointProperty.TargetPort).GetValueAsync(ct);
                var definitionsFile = Path.Combine(rabbit.DataDirectory, "definitions.json");
                await PrivateFile.WriteAllTextAsync(definitionsFile, await DefinitionsAsync(rabbit, ct), ct);
                string[] config =
                [
                    $"load_definitions = {definitionsFile}",
                    "management.tcp.ip = 127.0.0.1",
                    $"management.tcp.port = {managementPort}",
                ];
                await PrivateFile.WriteAllLinesAsync(configBase + ".conf", config, ct);
                await File.WriteAllTextAsync(Path.Combine(rabbit.DataDirectory, "rabbitmq-env.conf"), "", ct);
                await File.WriteAllTextAsync(Path.Combine(rabbit.DataDirectory, "advanced.config"), "[].\n", ct);
                await File.WriteAllTextAsync(pluginsFile, "[rabbitmq_management].\n", ct);
            });
    }

    /// <summary>
    /// Adds a user of the broker (password generated, a secret parameter) limited to the exchanges and queues
    /// <paramref name="resources"/> matches, created with the node; returns its connection string.
    /// </summary>
    public static ReferenceExpression AddUser(this IResourceBuilder<RabbitMQProcessResource> broker, string name, string resources)
    {
        var password = broker.ApplicationBuilder.AddParameter(
            $"{broker.Resource.Name}-{name}-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        broker.Resource.Users.Add(new RabbitMQProcessUser(name, password.Resource, resources));
        return broker.Resource.ConnectionStringAs(name, password.Resource);
    }

    /// <summary>
    /// The node's definitions, imported when it boots: the administrator (full rights, management tag) and every added
    /// user with only its own resources. Passwords are stored as RabbitMQ's salted SHA-256 hashes.
    /// </summary>
    private static async Task<string> DefinitionsAsync(RabbitMQProcessResource rabbit, CancellationToken cancellationToken)
    {
        var users = new JsonArray();
        var permissions = new JsonArray();
        async Task AddAsync(string name, ParameterResource password, string resources, string tags)
        {
            users.Add(new JsonObject
            {
                ["name"] = name,
                ["password_hash"] = PasswordHash((await password.GetValueAsync(cancellationToken))!),
                ["hashing_algorithm"] = "rabbit_password_hashing_sha256",
                ["tags"] = tags,
            });
            permissions.Add(new JsonObject
            {
                ["user"] = name,
                ["vhost"] = "/",
                ["configure"] = resources,
                ["write"] = resources,
                ["read"] = resources,
            });
        }

        await AddAsync(RabbitMQProcessResource.UserName, rabbit.Password, ".*", "administrator");
        foreach (var user in rabbit.Users)
        {
            await AddAsync(user.Name, user.Password, user.Resources, "");
        }

        return new JsonObject
        {
            ["vhosts"] = new JsonArray(new JsonObject { ["name"] = "/" }),
            ["users"] = users,
            ["permissions"] = permissions,
        }.ToJsonString();
    }

    /// <summary>rabbit_password_hashing_sha256: base64(salt + SHA-256(salt + password)), with a 4-byte random salt.</summary>
    private static string PasswordHash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        byte[] salted = [.. salt, .. Encoding.UTF8.GetBytes(password)];
        return Convert.ToBase64String([.. salt, .. SHA256.HashData(salted)]);
    }

    private static string AddTcpCheck(IDistributedApplicationBuilder builder, ErlangPortMapperResource mapper)
    {
        var key = $"{mapper.Name}_process_check";
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            key, _ => new TcpPortHealthCheck(mapper.Endpoint), failureStatus: null, tags: null));
        return key;
    }
}
