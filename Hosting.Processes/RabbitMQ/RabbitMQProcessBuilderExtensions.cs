using System.Runtime.Versioning;
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
                string[] config =
                [
                    $"default_user = {RabbitMQProcessResource.UserName}",
                    $"default_pass = {await rabbit.Password.GetValueAsync(ct)}",
                    "default_permissions.configure = .*",
                    "default_permissions.read = .*",
                    "default_permissions.write = .*",
                    "default_user_tags.administrator = true",
                    "management.tcp.ip = 127.0.0.1",
                    $"management.tcp.port = {managementPort}",
                ];
                await PrivateFile.WriteAllLinesAsync(configBase + ".conf", config, ct);
                await File.WriteAllTextAsync(Path.Combine(rabbit.DataDirectory, "rabbitmq-env.conf"), "", ct);
                await File.WriteAllTextAsync(Path.Combine(rabbit.DataDirectory, "advanced.config"), "[].\n", ct);
                await File.WriteAllTextAsync(pluginsFile, "[rabbitmq_management].\n", ct);
            });
    }

    private static string AddTcpCheck(IDistributedApplicationBuilder builder, ErlangPortMapperResource mapper)
    {
        var key = $"{mapper.Name}_process_check";
        builder.Services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            key, _ => new TcpPortHealthCheck(mapper.Endpoint), failureStatus: null, tags: null));
        return key;
    }
}
