using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Polly;
using Polly.Registry;

namespace AspireShop.Ordering.Distribution;

/// <summary>The orders cannot be reached now (the cluster is down or restarting, past the brief wait).</summary>
public sealed class OrdersUnavailableException(Exception problem) : Exception("The orders are unavailable right now.", problem);

/// <summary>
/// The orders database: the Citus coordinator's <c>orders</c> database, which routes each statement to the workers that
/// hold the buyers' shards (one worker for one buyer, every worker for a batch of many), and commits a transaction that
/// wrote on several workers on all of them or none (two-phase commit). One data source, as for a single PostgreSQL
/// server: where a buyer's rows are is Citus's business, and moves as shards move.
/// </summary>
public sealed class OrdersDatabase(NpgsqlDataSource dataSource, ResiliencePipelineProvider<string> pipelines)
{
    private readonly ResiliencePipeline _briefWait = pipelines.GetPipeline(ShopResilience.BriefDatabaseWait);

    private readonly DbContextOptions<OrderingDbContext> _options = new DbContextOptionsBuilder<OrderingDbContext>()
        .UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderingDbContext.Schema))
        .Options;

    public NpgsqlDataSource DataSource { get; } = dataSource;

    public OrderingDbContext CreateContext() => new(_options);

    /// <summary>
    /// Runs <paramref name="work"/>, waiting out a brief outage (the <see cref="ShopResilience.BriefDatabaseWait"/>
    /// pipeline, about 5 s; a longer one answers 503, see the design), then <see cref="OrdersUnavailableException"/>.
    /// </summary>
    public async Task<T> WithBriefWaitAsync<T>(string operation, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        try
        {
            return await _briefWait.ExecuteAsync(static (context, work) => new ValueTask<T>(work(context.CancellationToken)), context, work);
        }
        catch (Exception e) when (ShopResilience.IsDatabaseOutage(e))
        {
            throw new OrdersUnavailableException(e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}

public static class OrdersDatabaseRegistration
{
    /// <summary>
    /// The orders database (connection string <c>ordersdb</c>) and the catalog database (<c>catalogdb</c>, keyed by that
    /// name, where Catalog.Stock reads prices and reserves stock), each with Aspire's Npgsql client (health check,
    /// traces, metrics).
    /// </summary>
    public static IHostApplicationBuilder AddOrdersDatabase(this IHostApplicationBuilder builder)
    {
        foreach (var name in new[] { ResourceNames.OrdersDb, ResourceNames.CatalogDb })
        {
            if (string.IsNullOrEmpty(builder.Configuration.GetConnectionString(name)))
            {
                throw new InvalidOperationException($"ConnectionStrings:{name} is not configured.");
            }
        }

        builder.AddNpgsqlDataSource(ResourceNames.OrdersDb, configureDataSourceBuilder: AutoPrepare);
        builder.AddKeyedNpgsqlDataSource(ResourceNames.CatalogDb, configureDataSourceBuilder: AutoPrepare);
        builder.Services.AddSingleton<OrdersDatabase>();
        return builder;
    }

    /// <summary>
    /// Every order runs the same few statements (intake, decision, relays), so the server keeps them prepared per
    /// connection once used twice: no parse and plan per execution (on the coordinator, that is also Citus's
    /// distributed plan). Set here rather than in the AppHost's connection strings, so it holds with managed servers too.
    /// </summary>
    private static void AutoPrepare(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
        dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
    }
}
