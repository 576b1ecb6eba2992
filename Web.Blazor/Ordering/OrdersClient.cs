using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AspireShop.Contracts;
using AspireShop.ServiceDefaults.Security;
using Web.Blazor.Buyers;

namespace Web.Blazor.Ordering;

public sealed record ShopOrderLine(int ProductId, string ProductName, decimal UnitPrice, int Quantity);

public sealed record ShopAddress(string Street, string City, string PostalCode, string Country);

public sealed record ShopOrder(
    Guid Id, string Status, string? RejectionReason, decimal Total, DateTimeOffset SubmittedAt, DateTimeOffset? CompletedAt,
    string BuyerName, string Email, ShopAddress ShippingAddress, IReadOnlyList<ShopOrderLine> Lines)
{
    public bool IsDecided => Status != "Submitted";
}

public sealed record PlaceOrderLine(int ProductId, int Quantity);

public sealed record PlaceOrderRequest(IReadOnlyList<PlaceOrderLine> Lines, string BuyerName, string Email, ShopAddress ShippingAddress);

/// <summary>The order API refused the order; <see cref="Errors"/> holds its per-field messages when it gave any.</summary>
public sealed class OrderRefusedException(string message, IReadOnlyDictionary<string, string[]> errors) : Exception(message)
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>
/// The checkout's key already made an order (a form submitted again after its cart changed, or after a retry): that
/// order is the one this checkout placed.
/// </summary>
public sealed class CheckoutAlreadyPlacedException(Guid orderId) : Exception($"This checkout already placed order {orderId}.")
{
    public Guid OrderId { get; } = orderId;
}

/// <summary>Ordering.Api cannot be reached or failed; nothing was placed or read.</summary>
public sealed class OrdersUnavailableException(Exception inner) : Exception("The order API is unavailable.", inner);

/// <summary>Ordering.Api's order endpoints, called on behalf of one buyer with a token this site signs.</summary>
public sealed class OrdersClient(HttpClient http, BuyerTokenIssuer tokens)
{
    public const string ServiceUri = "https+http://ordering-api";

    public async Task<ShopOrder> PlaceAsync(string buyerId, string idempotencyKey, PlaceOrderRequest order, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = JsonContent.Create(order) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await SendAsync(buyerId, request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return (await response.Content.ReadFromJsonAsync<ShopOrder>(cancellationToken))!;
        }

        var problem = await ReadProblemAsync(response, cancellationToken);
        if (problem is { Type: OrderProblemTypes.IdempotencyKeyReused, OrderId: { } placed })
        {
            throw new CheckoutAlreadyPlacedException(placed);
        }

        throw response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity
            ? new OrderRefusedException(problem?.Detail ?? problem?.Title ?? "The order was refused.", problem?.Errors ?? new Dictionary<string, string[]>())
            : new OrdersUnavailableException(new HttpRequestException($"The order API answered {(int)response.StatusCode}."));
    }

    public async Task<ShopOrder?> GetAsync(string buyerId, Guid orderId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(buyerId, new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders/{orderId}"), cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            return null;
        }

        return await ReadAsync<ShopOrder>(response, cancellationToken);
    }

    public async Task<IReadOnlyList<ShopOrder>> ListAsync(string buyerId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(buyerId,
            new HttpRequestMessage(HttpMethod.Get, $"/api/v1/orders?buyerId={Uri.EscapeDataString(buyerId)}"), cancellationToken);
        return await ReadAsync<List<ShopOrder>>(response, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(string buyerId, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.TokenFor(buyerId));
            try
            {
                return await http.SendAsync(request, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested
                && e is HttpRequestException or TaskCanceledException or TimeoutException or Polly.ExecutionRejectedException)
            {
                throw new OrdersUnavailableException(e);
            }
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new OrdersUnavailableException(new HttpRequestException($"The order API answered {(int)response.StatusCode}."));
        }

        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }

    private sealed record Problem(string? Type, string? Title, string? Detail, Dictionary<string, string[]>? Errors, Guid? OrderId);

    private static async Task<Problem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<Problem>(cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
