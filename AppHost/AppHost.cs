using AspireShop.AppHost;
using AspireShop.AppHost.Drills;
using AspireShop.AppHost.Infrastructure;
using AspireShop.Contracts;
using AspireShop.Hosting.Processes;

var builder = DistributedApplication.CreateBuilder(args);

try
{
    var scale = ScaleSettings.From(builder.Configuration, builder.ExecutionContext.IsPublishMode);

    // How the servers run (Infrastructure:Mode): Aspire's containers where a container runtime answers (and when
    // deployed), local processes from the machine's own binaries where none does, or existing managed servers, of which
    // only the connection strings are known. Local processes share the installed programs and one data folder.
    var infrastructure = InfrastructureSettings.From(builder);
    if (infrastructure.RunsLocalProcesses)
    {
        builder.UseLocalProcesses(infrastructure.Programs, infrastructure.DataRoot);
    }

    // PostgreSQL primary: the catalog database (products, prices, stock and the stock ledger; beside them, the order
    // shard map), and its streaming standbys, where catalog reads go (catalogdb-replica lists them, then the primary).
    var postgres = builder.AddPostgres("postgres").RunAs(infrastructure);
    var catalogDb = postgres.AddDatabase(ResourceNames.CatalogDb, "catalog");
    var catalogReadDb = postgres.AddReadReplicas(ResourceNames.CatalogReadDb, "catalog", infrastructure.PostgresReplicas,
        standby => standby.WithReplayPauseDrill("Catalog reads from this standby fall behind; a reader who has just written (an admin, a buyer whose order moved stock) is sent to the primary by its consistency token."));

    // Order shards: a PostgreSQL primary each, with the orders database; buyers are spread over them by bucket.
    var orderShardServers = Enumerable.Range(1, scale.OrderShards).Select(n => builder.AddPostgres($"orders-shard{n}").RunAs(infrastructure)).ToList();
    var orderShards = orderShardServers.Select((server, i) => server.AddDatabase(ResourceNames.OrderShard(i + 1), "orders")).ToList();

    // Each service connects to PostgreSQL as its own role, with only the privileges it uses, where the AppHost runs the
    // servers (ServiceDatabaseRoles); elsewhere with the connection strings it is given.
    var databaseRoles = ServiceDatabaseRoles.For(builder, infrastructure);
    postgres.Initialise("catalog", databaseRoles?.CatalogServer("catalog"));
    foreach (var server in orderShardServers)
    {
        server.Initialise("orders", databaseRoles?.OrderShardServer("orders"));
    }

    // Redis: the catalog's cache (with its backplane), carts and the site's data-protection keys. Each service uses
    // only its own keys (CacheKeyspaces), as its own user where the AppHost runs the server (SharedCache).
    var redis = builder.AddRedis(ResourceNames.Cache).RunAs(infrastructure, process => process
        .WithOutageDrill("Catalog reads fall back to PostgreSQL, the shop front's carts and sign-ins wait for Redis; the services reconnect by themselves."));

    // RabbitMQ: the relays publish each order from its shard's outbox; the workers consume them. Each connects as its
    // own user where the AppHost runs the node (MessageBroker).
    var rabbitMQ = builder.AddRabbitMQ(ResourceNames.Messaging).RunAs(infrastructure, process => process
        .WithFreezeDrill("Orders are still accepted (they wait in the shards' outboxes); once it thaws the relays publish them and the workers decide them."));

    // Prometheus scrapes every replica of every service, with the alert rules in deploy/prometheus; the replica lists
    // it is given also let the site balance over the Catalog.Api replicas itself. Local processes only.
    if (infrastructure.RunsLocalProcesses)
    {
        builder.AddPrometheusProcess("prometheus", Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "deploy", "prometheus")))
            .WithReplicaDirectory();
    }

    // Signs the JWTs that authorise catalog administration, and the buyer tokens the site issues and Ordering.Api
    // checks; secret parameters, generated in development.
    var catalogAdminSigningKey = builder.AddParameter("catalog-admin-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);
    var buyerTokenSigningKey = builder.AddParameter("buyer-token-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);
    // Encrypts the site's data-protection keys (its cookies' keys) in the Redis the other services share.
    var siteKeyEncryptionKey = builder.AddParameter("site-key-encryption-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);

    // The services. Each is stateless, so its replicas are interchangeable (Scale:Topology=ScaleOut runs two of each;
    // Scale:CatalogApis and so on set any number), and healthy only when its own /health says it can serve.

    // Catalog.Api owns the catalog schema, stock and its ledger included: it migrates and seeds it at start.
    var catalogApi = builder.AddShopService<Projects.Catalog_Api>(ResourceNames.CatalogApi)
        .WithReplicas(scale.CatalogApis)
        .WithReadinessProbe()
        .WithEnvironment("CatalogAdmin__SigningKey", catalogAdminSigningKey)
        .WithDatabase(catalogDb, databaseRoles?.CatalogApi)
        .WithDatabase(catalogReadDb, databaseRoles?.CatalogApi)
        .WithCache(redis, CacheKeyspaces.CatalogCache);

    // Order intake with the outbox and its relays. It migrates the ordering schema (the shard map and every shard) at
    // start, and is healthy only after that.
    var orderingApi = builder.AddShopService<Projects.Ordering_Api>(ResourceNames.OrderingApi)
        .WithReplicas(scale.OrderingApis)
        .WithReadinessProbe()
        .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
        .WithDatabase(catalogDb, databaseRoles?.OrderingApi)
        .WithBroker(rabbitMQ)
        .WithDatabases(orderShards, databaseRoles?.OrderingApi);

    // Competing consumers of the order queue: decides each order once, reserves its stock (through Catalog.Stock)
    // and mails the buyer. It waits for both APIs, so it starts on migrated ordering and catalog schemas.
    var orderingWorker = builder.AddShopService<Projects.Ordering_Worker>(ResourceNames.OrderingWorker)
        .WithReplicas(scale.OrderingWorkers)
        .WithReadinessProbe()
        .WithDatabase(catalogDb, databaseRoles?.OrderingWorker)
        .WithCache(redis, CacheKeyspaces.CatalogCache)
        .WithBroker(rabbitMQ)
        .WithDatabases(orderShards, databaseRoles?.OrderingWorker)
        .WaitFor(orderingApi)
        .WaitFor(catalogApi);
    if (infrastructure.RunsLocalProcesses)
    {
        // Buyers' mails as .eml files in the data folder, beside the servers' data.
        orderingWorker.WithEnvironment("Mail__PickupDirectory", builder.LocalProcesses().DataRoot.For("mail-pickup"));
    }

    // The shop front references both APIs but waits for neither: it must come up, and say the catalog is
    // unavailable, while an API is down or still starting (its /health reports that as Degraded).
    var webFrontend = builder.AddShopService<Projects.Web_Blazor>(ResourceNames.WebFrontend)
        .WithReplicas(scale.WebFrontends)
        .WithReadinessProbe()
        .WithExternalHttpEndpoints()
        .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
        .WithEnvironment("DataProtection__KeyEncryptionKey", siteKeyEncryptionKey)
        .WithCache(redis, CacheKeyspaces.Site)
        .WithReference(catalogApi)
        .WithReference(orderingApi)
        .WithClientRateLimits();

    // The site balances its requests over the Catalog.Api replicas itself where the AppHost lists them (least
    // requests; Services:web-blazor:CatalogApi:LoadBalancing=RoundRobin or ClientAddressHash switches). Otherwise the
    // orchestrator's proxy, or the platform's ingress, picks a replica per connection.
    if (infrastructure.RunsLocalProcesses)
    {
        webFrontend.WithReplicaEndpointsFile("CatalogApi__ReplicaEndpointsFile", catalogApi);
    }

    // Run mode only (a deployed graph has no dashboard): the load generator, started on demand, and the drills on the
    // services. The drills on the servers come with them above, where the servers are local processes.
    if (builder.ExecutionContext.IsRunMode)
    {
        // The shared secret of Ordering.Api's operator endpoints (/ops), called by the bucket move and the load
        // generator's order check.
        var operationsKey = builder.AddParameter(OperationsAccess.KeyParameter, new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);
        orderingApi.WithEnvironment("Operations__Key", operationsKey);

        catalogApi.WithKillReplicaDrill("The shop front's requests go to the other replicas meanwhile (or it says the catalog is unavailable while none is left).");
        orderingApi.WithKillReplicaDrill("An order it answered 202 for is committed with its outbox message; a client left without an answer resends with the same key and finds the same order.");
        orderingWorker.WithKillReplicaDrill("Its unacknowledged deliveries go back to the queue and are decided by another replica, or by it when it is back: once each, none lost.");
        if (scale.OrderShards > 1)
        {
            orderingApi.WithBucketMoveCommand(operationsKey, scale.OrderShards);
        }

        var loadGenerator = builder.AddShopService<Projects.LoadGenerator>(ResourceNames.LoadGenerator)
            .WithExplicitStart()
            .WithReadinessProbe()
            .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
            .WithEnvironment("Operations__Key", operationsKey)
            // Names this AppHost run's record of the orders sent: a new run of the shop starts a new one.
            .WithEnvironment("Load__RunId", Guid.NewGuid().ToString("N"))
            .WithReference(catalogApi)
            .WithReference(orderingApi)
            .WithReference(webFrontend)
            .WithLoadCommands();

        if (infrastructure.RunsLocalProcesses)
        {
            loadGenerator.WithEnvironment("Load__RecordDirectory", builder.LocalProcesses().DataRoot.For("load-generator"));
        }
    }

    AppHostPorts.EnsureFree(builder);

    // The services sample their own traces, and AppHost settings under Services:<resource> go to that service (how
    // benchmarks switch the cache off), in that order.
    builder.LetServicesSampleTraces();
    builder.ForwardServiceSettings();
}
catch (Exception problem) when (problem is AppHostSetupException or LocalProcessSetupException)
{
    // A missing program, a busy port or a data folder in use is a set-up problem, not a crash: one line that says what
    // is wrong and how to fix it, and a distinct exit code for scripts.
    Console.Error.WriteLine($"AspireShop: {problem.Message}");
    return 2;
}

// Disposed however the run ends: that is where the servers of a run stopped while it started are ended (ServerExitWait).
await using var app = builder.Build();
try
{
    await app.RunAsync();
}
catch (OperationCanceledException)
{
    // Stopped (Ctrl+C) while it started: a stop, not a failure.
}

return 0;
