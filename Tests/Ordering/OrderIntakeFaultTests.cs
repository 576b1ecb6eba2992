using System.Net;
using System.Net.Http.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Ordering.Api.Orders;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Order intake while RabbitMQ is down: orders are still accepted, and published once it is back.</summary>
[Collection(FaultGraphCollection.Name)]
public sealed class OrderIntakeFaultTests(FaultGraphFixture graph) : OrderIntakeSteps(graph)
{
    [Fact]
    public async Task WhileRabbitMQIsDownOrdersAreAcceptedAndPublishedOnceItIsBack()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");

        Guid orderId;
        await using (await Graph.App.StopAsync("messaging"))
        {
            using var response = await buyer.SendAsync(Submit(Order(new OrderLineRequest(7, 1)), Guid.NewGuid().ToString()));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            orderId = (await response.Content.ReadFromJsonAsync<OrderDto>())!.Id;
            Assert.False(await OutboxSentAsync(orderId, TimeSpan.FromSeconds(1)));
        }

        Assert.True(await OutboxSentAsync(orderId, TimeSpan.FromSeconds(45)), "the order's message was not published after the broker came back");
    }
}
