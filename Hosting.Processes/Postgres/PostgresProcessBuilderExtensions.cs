using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace AspireShop.Hosting.Processes;

[UnsupportedOSPlatform("windows")]
public static class PostgresProcessBuilderExtensions
{
    /// <summary>
    /// Runs the server as a local process from the installed binaries instead of Aspire's container: the container
    /// leaves the application model and a process of the same name, with the same password parameter, takes its place,
    /// so whatever references or waits for the server sees one server either way. Its data directory is created with
    /// initdb (with the databases added by <see cref="AddDatabase"/>) just before it starts; it is configured for
    /// streaming replication (<see cref="AddStandby"/>) and listens on localhost only. <paramref name="settings"/>
    /// (<c>name=value</c>) apply to it and to its standbys.
    /// </summary>
    public static IResourceBuilder<PostgresProcessResource> RunAsLocalProcess(
        this IResourceBuilder<PostgresServerResource> container, IReadOnlyList<string> settings)
    {
        var builder = container.ApplicationBuilder;
        if (container.Resource.Databases.Count > 0)
        {
            throw new InvalidOperationException($"Run {container.Resource.Name} as a local process before adding its databases.");
        }

        builder.ReplaceWithLocalProcess(container.Resource, container.Resource.PasswordParameter);
        var local = builder.LocalProcesses();
        var account = ServiceAccount.ForPostgres();
        var replicationPassword = builder.AddParameter(
            $"{container.Resource.Name}-replication-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        var resource = new PostgresProcessResource(
            container.Resource.Name, account.Command(local.Binaries.Postgres), local.DataRoot.For(container.Resource.Name),
            container.Resource.PasswordParameter, replicationPassword.Resource, primary: null, settings);

        return builder.AddPostgresServer(resource, local, account)
            .OnBeforeResourceStarted((server, started, ct) => InitialisePrimaryAsync(server, local.Binaries, account, started.Services, ct));
    }

    /// <summary>
    /// Adds a hot standby of <paramref name="primary"/>: once the primary is healthy it is cloned with pg_basebackup
    /// through a replication slot of its own, and then follows the primary by streaming replication (read-only).
    /// </summary>
    public static IResourceBuilder<PostgresProcessResource> AddStandby(this IResourceBuilder<PostgresProcessResource> primary, string name)
    {
        var builder = primary.ApplicationBuilder;
        var local = builder.LocalProcesses();
        var account = ServiceAccount.ForPostgres();
        var resource = new PostgresProcessResource(
            name, account.Command(local.Binaries.Postgres), local.DataRoot.For(name), primary.Resource.Password,
            primary.Resource.ReplicationPassword, primary.Resource, primary.Resource.Settings);
        var primaryPort = primary.Resource.Endpoint.Property(EndpointProperty.TargetPort);

        return builder.AddPostgresServer(resource, local, account)
            .WithParentRelationship(primary)
            .WaitFor(primary)
            // The connection info is given on the command line rather than left to the clone's configuration,
            // so it always names the primary's current port. The password comes from PGPASSWORD (read by libpq in the
            // WAL receiver), which keeps it out of the process list.
            .WithArgs("-c", "hot_standby=on")
            .WithArgs("-c", ReferenceExpression.Create(
                $"primary_conninfo=host=localhost port={primaryPort} user={PostgresProcessResource.ReplicationUser} application_name={name}"))
            .WithArgs("-c", $"primary_slot_name={resource.SlotName}")
            .WithEnvironment("PGPASSWORD", primary.Resource.ReplicationPassword)
            .OnBeforeResourceStarted((standby, started, ct) => CloneFromPrimaryAsync(standby, local.Binaries, account, started.Services, ct));
    }

    /// <summary>
    /// Adds a database, created when the primary is initialised, as a child resource with its own connection string
    /// and health check (the shape of Aspire's <c>AddDatabase</c> on a PostgreSQL container).
    /// </summary>
    public static IResourceBuilder<PostgresProcessDatabaseResource> AddDatabase(
        this IResourceBuilder<PostgresProcessResource> server, string name, string databaseName)
    {
        if (server.Resource.Primary is not null)
        {
            throw new InvalidOperationException($"{server.Resource.Name} is a standby: its databases are its primary's.");
        }

        server.Resource.Databases.Add(databaseName);
        var builder = server.ApplicationBuilder;
        var database = new PostgresProcessDatabaseResource(name, databaseName, server.Resource);
        // The orchestrator moves a container's child resources along with their parent, not a process's: the
        // database runs once its server is ready (it is created before the server accepts connections), and its own
        // health check says whether it answers after that.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, (ready, _) =>
            ready.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, snapshot => snapshot with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
            }));
        return builder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [new(CustomResourceKnownProperties.Source, server.Resource.Name)],
            })
            .WithHealthCheck(builder.AddNpgSqlCheck(database));
    }

    /// <summary>
    /// Runs <paramref name="sql"/> as the superuser in <paramref name="database"/> when the primary is initialised,
    /// after its databases are created and before it accepts a connection (roles, grants): whatever waits for the
    /// server finds it done. Statements end with a semicolon and a blank line (single-user mode's <c>-j</c>).
    /// </summary>
    public static IResourceBuilder<PostgresProcessResource> WithInitialisationSql(
        this IResourceBuilder<PostgresProcessResource> server, string database, ReferenceExpression sql)
    {
        if (server.Resource.Primary is not null)
        {
            throw new InvalidOperationException($"{server.Resource.Name} is a standby: it replays its primary's.");
        }

        server.Resource.InitialisationSql.Add((database, sql));
        return server;
    }

    private static IResourceBuilder<PostgresProcessResource> AddPostgresServer(
        this IDistributedApplicationBuilder builder, PostgresProcessResource resource, LocalProcessHosting local, ServiceAccount account)
    {
        var healthCheckKey = builder.AddNpgSqlCheck(resource);

        return builder.AddResource(resource)
            .WithLocalTcpEndpoint(PostgresProcessResource.EndpointName)
            .WithArgs(account.Prefix(local.Binaries.Postgres).ToArray())
            .WithArgs("-D", resource.DataDirectory)
            .WithArgs("-p", resource.Endpoint.Property(EndpointProperty.TargetPort))
            // TCP on loopback only; no Unix socket, whose default folder may not be writable for this user.
            .WithArgs("-c", "listen_addresses=localhost", "-c", "unix_socket_directories=")
            // Standbys refuse to start with lower replication or connection limits than their primary: every server
            // gets the same, and the caller's settings (name=value) after them.
            .WithArgs("-c", "wal_level=replica", "-c", "max_wal_senders=16", "-c", "max_replication_slots=16")
            .WithArgs([.. resource.Settings.SelectMany(setting => new[] { "-c", setting })])
            .WithEnvironment(ProcessDataRoot.MarkerVariable, local.DataRoot.Path)
            .WithHealthCheck(healthCheckKey)
            .WithStartupHealthPolling();
    }

    private static async Task InitialisePrimaryAsync(
        PostgresProcessResource server, HostBinaries binaries, ServiceAccount account,
        IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
        await PrepareEmptyDirectoryAsync(server, account, cancellationToken);

        // initdb reads the superuser password from a file; it lives only until initdb has finished.
        var passwordFile = server.DataDirectory + ".pwfile";
        await PrivateFile.WriteAllTextAsync(passwordFile, (await server.Password.GetValueAsync(cancellationToken))!, cancellationToken);
        try
        {
            await account.TakeOwnershipAsync(passwordFile, cancellationToken);
            await RunAsAsync(account, binaries.InitDb,
                ["-D", server.DataDirectory, "-U", PostgresProcessResource.SuperUser, $"--pwfile={passwordFile}",
                 "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                 "--no-instructions", "--no-sync"],
                logger, cancellationToken: cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        // Password logins over loopback only, and replication only as the standbys' role: initdb's file accepts a
        // replication connection from any role with the right (the superuser's too), and trusts local sockets.
        await File.WriteAllLinesAsync(Path.Combine(server.DataDirectory, "pg_hba.conf"),
        [
            "# Written by the AppHost (Hosting.Processes): TYPE DATABASE USER ADDRESS METHOD",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all ::1/128 scram-sha-256",
            $"host replication {PostgresProcessResource.ReplicationUser} 127.0.0.1/32 scram-sha-256",
            $"host replication {PostgresProcessResource.ReplicationUser} ::1/128 scram-sha-256",
        ], cancellationToken);

        // Single-user mode creates the standbys' role and the databases before the server accepts connections, so the
        // server is never healthy without them and nothing has to wait for a second step. (Statements on standard
        // input, so the password is on no command line.)
        var replicationPassword = (await server.ReplicationPassword.GetValueAsync(cancellationToken))!.Replace("'", "''");
        string[] statements =
        [
            $"CREATE ROLE {PostgresProcessResource.ReplicationUser} WITH LOGIN REPLICATION PASSWORD '{replicationPassword}';",
            .. server.Databases.Select(database => $"CREATE DATABASE \"{database}\";"),
        ];
        foreach (var statement in statements)
        {
            await RunAsAsync(account, binaries.Postgres, ["--single", "-D", server.DataDirectory, "postgres"],
                logger, standardInput: statement + "\n", cancellationToken: cancellationToken);
        }

        foreach (var (database, sql) in server.InitialisationSql)
        {
            // The first error ends the run (and the start) rather than being skipped, and the failing statement,
            // which may hold a password, stays out of the log.
            await RunAsAsync(account, binaries.Postgres,
                ["--single", "-j", "-c", "exit_on_error=on", "-c", "log_min_error_statement=panic", "-D", server.DataDirectory, database],
                logger, standardInput: await sql.GetValueAsync(cancellationToken) + "\n\n", cancellationToken: cancellationToken);
        }
    }

    private static async Task CloneFromPrimaryAsync(
        PostgresProcessResource standby, HostBinaries binaries, ServiceAccount account,
        IServiceProvider services, CancellationToken cancellationToken)
    {
        var primary = standby.Primary!;
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(standby);

        // This handler may run before the orchestrator's own WaitFor handler, so wait here for the primary to be
        // healthy before cloning it.
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        await notifications.WaitForDependenciesAsync(standby, cancellationToken);

        var primaryPort = await primary.Endpoint.Property(EndpointProperty.TargetPort).GetValueAsync(cancellationToken);
        var replicationPassword = (await primary.ReplicationPassword.GetValueAsync(cancellationToken))!;

        // The standby's slot keeps the primary's WAL until the standby has it; created here rather than by
        // pg_basebackup -C so that a retried clone reuses it.
        await using (var connection = new NpgsqlConnection(await primary.ConnectionStringExpression.GetValueAsync(cancellationToken)))
        {
            await connection.OpenAsync(cancellationToken);
            await using var createSlot = new NpgsqlCommand(
                "SELECT pg_create_physical_replication_slot(@slot) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = @slot)",
                connection);
            createSlot.Parameters.AddWithValue("slot", standby.SlotName);
            await createSlot.ExecuteNonQueryAsync(cancellationToken);
        }

        // A clone can fail for passing reasons (the primary busy with another standby's clone, a connection reset):
        // retry a few times from an empty folder before giving the resource up.
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>(),
                MaxRetryAttempts = 2,
                BackoffType = DelayBackoffType.Linear,
                Delay = TimeSpan.FromSeconds(1),
                OnRetry = args =>
                {
                    logger.LogWarning("Cloning the primary failed (attempt {Attempt}): {Problem}; retrying.",
                        args.AttemptNumber + 1, args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
        await retry.ExecuteAsync(async ct =>
        {
            await PrepareEmptyDirectoryAsync(standby, account, ct);
            await RunAsAsync(account, binaries.PgBaseBackup,
                ["-h", "localhost", "-p", primaryPort!, "-U", PostgresProcessResource.ReplicationUser, "-D", standby.DataDirectory,
                 "-X", "stream", "-S", standby.SlotName, "-R", "--no-sync"],
                logger,
                environment: new Dictionary<string, string> { ["PGPASSWORD"] = replicationPassword },
                cancellationToken: ct);
        }, cancellationToken);
    }

    private static async Task PrepareEmptyDirectoryAsync(PostgresProcessResource server, ServiceAccount account, CancellationToken cancellationToken)
    {
        if (Directory.Exists(server.DataDirectory))
        {
            Directory.Delete(server.DataDirectory, recursive: true);
        }

        Directory.CreateDirectory(server.DataDirectory);
        File.SetUnixFileMode(server.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await account.TakeOwnershipAsync(server.DataDirectory, cancellationToken);
    }

    private static Task RunAsAsync(
        ServiceAccount account, string program, string[] arguments, ILogger logger,
        IReadOnlyDictionary<string, string>? environment = null, string? standardInput = null,
        CancellationToken cancellationToken = default)
        => ToolRunner.RunAsync(account.Command(program), [.. account.Prefix(program), .. arguments], logger,
            environment, standardInput, cancellationToken);
}
