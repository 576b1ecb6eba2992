using System.Net;
using System.Text;
using AspireShop.Ordering.Messaging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Tests.WholeGraph;

/// <summary>
/// The services connect to RabbitMQ as users of their own (AppHost's MessageBroker), which may use the order exchanges
/// and queues and nothing else, and are not administrators.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class ServiceBrokerUserTests(ShopGraphFixture graph)
{
    [Theory]
    [InlineData("ordering-api")]
    [InlineData("ordering-worker")]
    public async Task EveryServiceConnectsAsItsOwnUserNeverAsTheAdministrator(string service)
    {
        foreach (var connectionStrings in await graph.App.ReplicaConnectionStringsAsync(service))
        {
            Assert.Equal(service, Uri.UnescapeDataString(new Uri(connectionStrings["messaging"]).UserInfo.Split(':')[0]));
        }
    }

    [Fact]
    public async Task AServicesUserReachesTheOrderQueuesButNothingElseAndNotTheConsole()
    {
        var (user, password) = ("ordering-worker", await PasswordAsync("ordering-worker"));
        var administrator = new Uri((await graph.App.GetConnectionStringAsync("messaging"))!);
        await using var connection = await new ConnectionFactory
        {
            HostName = administrator.Host,
            Port = administrator.Port,
            UserName = user,
            Password = password,
        }.CreateConnectionAsync();

        await using (var allowed = await connection.CreateChannelAsync())
        {
            await allowed.QueueDeclarePassiveAsync(OrderTopology.OrderSubmittedQueue);
        }

        await using (var refused = await connection.CreateChannelAsync())
        {
            var problem = await Assert.ThrowsAsync<OperationInterruptedException>(() => refused.QueueDeclareAsync("intruder", durable: false, exclusive: false, autoDelete: true));
            Assert.Equal((ushort)403, problem.ShutdownReason?.ReplyCode);
        }

        using var console = new HttpClient { BaseAddress = graph.App.GetEndpoint("messaging", "management") };
        console.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var overview = await console.GetAsync("/api/overview");
        Assert.Equal(HttpStatusCode.Unauthorized, overview.StatusCode);
    }

    private Task<string> PasswordAsync(string service) => SignedTestTokens.ParameterValueAsync(graph.App, $"messaging-{service}-password");
}
