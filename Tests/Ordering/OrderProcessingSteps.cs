using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Ordering.Api.Orders;
using Ordering.Worker.Mail;
using RabbitMQ.Client;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>What the order processing tests do to the running graph and read back from it: place orders, wait for decisions, read stock, mail, queues.</summary>
public abstract class OrderProcessingSteps(ShopGraphFixture graph)
{
    protected ShopGraphFixture Graph { get; } = graph;

    protected static readonly AddressRequest Address = new("1 Harbour Street", "Portsmouth", "PO1 2AB", "United Kingdom");

    protected static readonly TimeSpan ProcessingWait = TimeSpan.FromSeconds(30);

    protected string MailPickup => Path.Combine(Graph.DataRoot, "mail-pickup");

    /// <summary>
    /// A real, non-transient database failure for one product's orders: a trigger in the catalog refuses every stock
    /// change of the product, so each delivery of such an order's OrderSubmitted fails at the reservation. Disposing
    /// removes the trigger.
    /// </summary>
    protected async Task<IAsyncDisposable> FailStockChangesOfAsync(int productId)
    {
        var trigger = $"fail_{Guid.NewGuid():N}";
        await ExecuteOnCatalogAsync($"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW."Id" = {productId} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER {trigger} BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION {trigger}();
            """);
        return new Cleanup(() => ExecuteOnCatalogAsync($"DROP TRIGGER {trigger} ON products; DROP FUNCTION {trigger}();"));
    }

    protected sealed class Cleanup(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }

    protected sealed record PlacedOrder(Guid Id, string BuyerId);

    protected async Task<PlacedOrder> PlaceAsync(string buyerId, int productId, int quantity)
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, buyerId);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new SubmitOrderRequest([new(productId, quantity)], "Grace Hopper", "grace@example.com", Address)),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString());
        using var response = await buyer.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return new PlacedOrder((await response.Content.ReadFromJsonAsync<OrderDto>())!.Id, buyerId);
    }

    /// <summary>The order once it is Confirmed or Rejected; fails if it is still Submitted after the wait.</summary>
    protected async Task<OrderDto> WaitForFinalStatusAsync(PlacedOrder order)
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, order.BuyerId);
        var now = await Eventually.UntilAsync(async () => (await buyer.GetFromJsonAsync<OrderDto>($"/api/v1/orders/{order.Id}"))!,
            now => now.Status != "Submitted", ProcessingWait);
        Assert.True(now.Status != "Submitted", $"order {order.Id} is still Submitted after {ProcessingWait}");
        return now;
    }

    protected async Task<OrderDto> CurrentStatusAsync(PlacedOrder order)
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, order.BuyerId);
        return (await buyer.GetFromJsonAsync<OrderDto>($"/api/v1/orders/{order.Id}"))!;
    }

    // The mail is written just after the commit that makes the order Confirmed, so it can trail the status a little.
    protected Task<string[]> MailsOfAsync(Guid orderId)
        => Eventually.UntilAsync(() => Directory.Exists(MailPickup) ? Directory.GetFiles(MailPickup, $"order-{orderId}.eml") : [],
            mails => mails.Length > 0, ProcessingWait);

    /// <summary>How often the workers' pickup senders were asked to send the order's mail, from their attempt logs.</summary>
    protected int MailSendsOf(Guid orderId, string? outcome = null)
        => MailSendAttempts().Count(attempt => attempt.OrderId == orderId && (outcome is null || attempt.Outcome == outcome));

    protected async Task<int> MailSendsOfAsync(Guid orderId)
        => await Eventually.UntilAsync(() => MailSendsOf(orderId), sends => sends > 0, ProcessingWait);

    protected List<(Guid OrderId, string Outcome)> MailSendAttempts()
        => Directory.Exists(MailPickup)
            ? [.. Directory.GetFiles(MailPickup, PickupDirectoryMailSender.AttemptLogPattern)
                .SelectMany(log => ReadShared(log).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                .Select(line => line.Split('\t'))
                .Where(fields => fields.Length == 2 && Guid.TryParse(fields[0], out _))
                .Select(fields => (Guid.Parse(fields[0]), fields[1]))]
            : [];

    private static string ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The order queue as the broker's management API reports it: messages waiting (ready or delivered and not yet
    /// acknowledged), and publishes and acknowledgements since the queue was declared. The statistics are sampled every
    /// few seconds, all three in one sample, so compare them with each other rather than with the clock.
    /// </summary>
    protected async Task<(long Waiting, long Published, long Acknowledged)> OrderQueueAsync()
    {
        var amqp = new Uri((await Graph.App.GetConnectionStringAsync("messaging"))!);
        var credentials = Uri.UnescapeDataString(amqp.UserInfo);
        using var management = new HttpClient { BaseAddress = Graph.App.GetEndpoint("messaging", "management") };
        management.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        using var queue = JsonDocument.Parse(await management.GetStringAsync($"/api/queues/%2F/{OrderTopology.OrderSubmittedQueue}"));
        var root = queue.RootElement;
        long Number(JsonElement element, string name) => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
        var (published, acknowledged) = root.TryGetProperty("message_stats", out var stats) ? (Number(stats, "publish"), Number(stats, "ack")) : (0, 0);
        return (Number(root, "messages_ready") + Number(root, "messages_unacknowledged"), published, acknowledged);
    }

    protected async Task<int> StockAsync(int productId)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand("""SELECT "AvailableStock" FROM products WHERE "Id" = @id""", connection);
        command.Parameters.AddWithValue("id", productId);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    protected Task SetStockAsync(int productId, int stock) => CatalogStock.SetAsync(Graph.App, productId, stock);

    protected async Task<(Guid MessageId, string Payload)> OutboxMessageOfAsync(Guid orderId)
        => Assert.Single(await OrderShardDatabases.RowsAsync(Graph.App,
            """SELECT "MessageId", "Payload"::text FROM ordering.outbox WHERE "Type" = @type AND "Payload"->>'orderId' = @id""",
            reader => (reader.GetGuid(0), reader.GetString(1)),
            ("type", OrderMessaging.OrderSubmittedType), ("id", orderId.ToString())));

    protected async Task PublishAsync(string messageId, string body)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(OrderMessaging.Exchange, OrderMessaging.OrderSubmittedType, mandatory: false,
            new BasicProperties { Persistent = true, MessageId = messageId, Type = OrderMessaging.OrderSubmittedType },
            Encoding.UTF8.GetBytes(body));
    }

    protected async Task<string[]> WorkerReplicaNamesAsync()
        => [.. (await Graph.App.RunningReplicasAsync("ordering-worker")).Select(replica => replica.Id)];

    protected async Task KillAndRestartAsync(string replica)
    {
        var notifications = Graph.App.Services.GetRequiredService<ResourceNotificationService>();
        Assert.True(notifications.TryGetCurrentState(replica, out var running));
        // The resource's process is the worker itself (the AppHost starts its built assembly, not `dotnet run`).
        var worker = Convert.ToInt32(running.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Ordering.Worker.dll", await File.ReadAllTextAsync($"/proc/{worker}/cmdline"));
        Process.GetProcessById(worker).Kill(); // SIGKILL
        await Eventually.TrueAsync(() => notifications.TryGetCurrentState(replica, out var now)
            && now.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", ProcessingWait, "the killed worker is not reported stopped");

        var commands = Graph.App.Services.GetRequiredService<ResourceCommandService>();
        Assert.True((await commands.ExecuteCommandAsync(replica, KnownResourceCommands.StartCommand)).Success);
        var replicas = await Eventually.UntilAsync(WorkerReplicaNamesAsync, running => running.Length >= 2, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(250));
        Assert.True(replicas.Length >= 2, $"the worker was not restarted; running: {string.Join(", ", replicas)}");
    }

    protected Task WaitUntilDecidedAsync(IReadOnlyCollection<Guid> orders, TimeSpan timeout)
        => Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(Graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Submitted'""", ("ids", orders.ToArray())) == 0, timeout,
            "every order decided");

    /// <summary>Reads the dead-letter queue without taking anything from it: unacknowledged gets go back when the channel closes.</summary>
    protected async Task<string?> DeadLetterReasonAsync(string messageId)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(OrderTopology.DeadLetterQueue, autoAck: false) is { } message)
        {
            if (message.BasicProperties.MessageId == messageId)
            {
                return message.BasicProperties.Headers?.TryGetValue("x-first-death-reason", out var reason) == true && reason is byte[] text
                    ? Encoding.UTF8.GetString(text)
                    : "(no reason)";
            }
        }

        return null;
    }

    protected async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    protected async Task<IConnection> ConnectBrokerAsync()
        => await new ConnectionFactory { Uri = new Uri((await Graph.App.GetConnectionStringAsync("messaging"))!) }.CreateConnectionAsync();

    protected async Task ExecuteOnCatalogAsync(string sql)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    protected async Task<NpgsqlConnection> OpenPrimaryAsync()
    {
        var connection = new NpgsqlConnection(await Graph.App.GetConnectionStringAsync("catalogdb"));
        await connection.OpenAsync();
        return connection;
    }
}
