using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Ordering.Api.Orders;

public sealed record OrderLineRequest(
    [property: Range(1, int.MaxValue)] int ProductId,
    [property: Range(1, 100)] int Quantity);

public sealed record AddressRequest(
    [property: Required, StringLength(200, MinimumLength = 1)] string Street,
    [property: Required, StringLength(100, MinimumLength = 1)] string City,
    [property: Required, StringLength(20, MinimumLength = 1)] string PostalCode,
    [property: Required, StringLength(100, MinimumLength = 1)] string Country);

/// <summary>An order as the shop front submits it. Prices are not part of it: they come from the catalog.</summary>
public sealed record SubmitOrderRequest(
    [property: Required, MinLength(1), MaxLength(50)] List<OrderLineRequest> Lines,
    [property: Required, StringLength(100, MinimumLength = 1)] string BuyerName,
    [property: Required, EmailAddress, StringLength(254)] string Email,
    [property: Required] AddressRequest ShippingAddress);

public sealed record OrderLineDto(int ProductId, string ProductName, decimal UnitPrice, int Quantity);

public sealed record OrderDto(
    Guid Id,
    string Status,
    string? RejectionReason,
    decimal Total,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? CompletedAt,
    string BuyerName,
    string Email,
    AddressRequest ShippingAddress,
    IReadOnlyList<OrderLineDto> Lines);

[JsonSerializable(typeof(SubmitOrderRequest))]
[JsonSerializable(typeof(OrderDto))]
[JsonSerializable(typeof(List<OrderDto>))]
[JsonSerializable(typeof(AspireShop.Contracts.OrderSubmitted))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
public sealed partial class OrderingJsonContext : JsonSerializerContext;
