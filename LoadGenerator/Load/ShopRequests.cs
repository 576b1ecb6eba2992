using System.Net.Http.Json;
using AspireShop.Contracts;
using AspireShop.ServiceDefaults.Security;

namespace LoadGenerator.Load;

/// <summary>
/// The requests each scenario sends, over the catalog's real product ids (read from Catalog.Api once, at the first
/// start), so the load follows the catalog rather than a fixed seed.
/// </summary>
public sealed class ShopRequests(IHttpClientFactory clients, BuyerTokenIssuer tokens)
{
    public const string CatalogClient = "catalog";
    public const string OrderingClient = "ordering";
    public const string ShopClient = "shop";

    /// <summary>How many buyers orders are spread over (each buyer's own rate limit is 50 orders/s).</summary>
    public const int Buyers = 500;

    private const int ProductPageSize = 100;
    private static readonly string[] SearchTerms = ["aurora", "mug", "hoodie", "cap", "glacier", "bottle", "nebula", "tundra", "pack", "shirt"];
    private static readonly AddressDto Address = new("1 Drill Road", "Leeds", "LS1 1AA", "United Kingdom");

    private readonly SemaphoreSlim _loading = new(1, 1);
    private int[] _products = [];

    public IReadOnlyList<int> Products => _products;

    /// <summary>Reads every product id, page by page; the catalog must have at least one.</summary>
    public async Task LoadProductsAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_products.Length > 0)
            {
                return;
            }

            var catalog = clients.CreateClient(CatalogClient);
            var ids = new List<int>();
            for (var page = 1; ; page++)
            {
                var products = await catalog.GetFromJsonAsync<ProductPageDto>($"/api/v1/products?page={page}&pageSize={ProductPageSize}", cancellationToken)
                    ?? throw new InvalidOperationException("Catalog.Api answered a product page with no body.");
                ids.AddRange(products.Items.Select(product => product.Id));
                if (products.Items.Count < ProductPageSize)
                {
                    break;
                }
            }

            _products = ids.Count > 0 ? [.. ids] : throw new InvalidOperationException("The catalog has no products to read or order.");
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>The next request of a scenario; for an order, also who sends it with which key (to record before sending).</summary>
    public (HttpClient Client, HttpRequestMessage Request, SentOrder? Order) Next(LoadScenario scenario) => scenario switch
    {
        LoadScenario.Reads => (clients.CreateClient(CatalogClient), new HttpRequestMessage(HttpMethod.Get, NextRead()), null),
        LoadScenario.Browse => (clients.CreateClient(ShopClient), new HttpRequestMessage(HttpMethod.Get, NextPage()), null),
        LoadScenario.Orders => NextOrder(clients.CreateClient(OrderingClient)),
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
    };

    private string NextRead()
    {
        var roll = Random.Shared.Next(100);
        if (roll < 70)
        {
            return $"/api/v1/products/{AnyProduct()}";
        }

        if (roll < 90)
        {
            return $"/api/v1/products?page={Random.Shared.Next(1, 11)}&pageSize=12" + Random.Shared.Next(3) switch
            {
                0 => $"&brandId={Random.Shared.Next(1, 9)}",
                1 => $"&typeId={Random.Shared.Next(1, 7)}",
                _ => "",
            };
        }

        return $"/api/v1/products?search={SearchTerms[Random.Shared.Next(SearchTerms.Length)]}";
    }

    private string NextPage() => Random.Shared.Next(2) == 0 ? $"/?page={Random.Shared.Next(1, 11)}" : $"/products/{AnyProduct()}";

    private (HttpClient, HttpRequestMessage, SentOrder) NextOrder(HttpClient client)
    {
        var order = new SentOrder($"load-buyer-{Random.Shared.Next(Buyers)}", Guid.NewGuid().ToString(), AcceptedId: null);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            // One key per order: the client's retries (and a resend after a 503) find the same order, never a second.
            Headers = { { "Idempotency-Key", order.Key } },
            Content = JsonContent.Create(new OrderRequestDto(
                [new OrderLineDto(AnyProduct(), Random.Shared.Next(1, 4))], "Load Generator", "load@example.com", Address)),
        };
        request.Headers.Authorization = new("Bearer", tokens.TokenFor(order.BuyerId));
        return (client, request, order);
    }

    private int AnyProduct() => _products[Random.Shared.Next(_products.Length)];

    private sealed record ProductPageDto(IReadOnlyList<ProductIdDto> Items);

    private sealed record ProductIdDto(int Id);

    private sealed record OrderLineDto(int ProductId, int Quantity);

    private sealed record AddressDto(string Street, string City, string PostalCode, string Country);

    private sealed record OrderRequestDto(IReadOnlyList<OrderLineDto> Lines, string BuyerName, string Email, AddressDto ShippingAddress);
}
