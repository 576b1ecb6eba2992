using System.Net;
using System.Net.Http.Json;
using AspireShop.Contracts;
using Microsoft.AspNetCore.WebUtilities;

namespace Web.Blazor.Catalog;

public sealed record CatalogProduct(
    int Id, string Name, string Description, decimal Price, int BrandId, string Brand, int TypeId, string Type, int AvailableStock)
{
    public const int LowStock = CatalogAvailability.LowStock;

    public string Availability => AvailableStock switch
    {
        0 => "Out of stock",
        <= LowStock => $"Only {AvailableStock} left",
        _ => "In stock",
    };
}

public sealed record CatalogPage(int Page, int PageSize, int TotalCount, IReadOnlyList<CatalogProduct> Items)
{
    public int PageCount => Math.Max(1, (TotalCount + PageSize - 1) / PageSize);
}

public sealed record CatalogFacet(int Id, string Name);

/// <summary>What the shopper asked the catalog for; also the page's URL, so every view is a link.</summary>
public sealed record CatalogQuery(int Page = 1, int? BrandId = null, int? TypeId = null, string? Search = null)
{
    public string ToUrl(string path = "/")
    {
        var query = new Dictionary<string, string?>();
        if (!string.IsNullOrWhiteSpace(Search))
        {
            query["q"] = Search;
        }

        if (BrandId is { } brand)
        {
            query["brand"] = brand.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (TypeId is { } type)
        {
            query["type"] = type.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Page > 1)
        {
            query["page"] = Page.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return QueryHelpers.AddQueryString(path, query);
    }
}

/// <summary>The catalog could not be read (Catalog.Api down, failing or too slow); pages show a friendly notice.</summary>
public sealed class CatalogUnavailableException(Exception inner) : Exception("The catalog is unavailable.", inner);

/// <summary>
/// Catalog.Api's read endpoints, found by service discovery, through the standard resilience handler that
/// ServiceDefaults puts on every HttpClient (retries, circuit breaker, timeouts).
/// </summary>
public sealed class CatalogClient(HttpClient http)
{
    public const int PageSize = 12;

    public Task<CatalogPage> GetPageAsync(CatalogQuery query, CancellationToken cancellationToken)
    {
        var url = QueryHelpers.AddQueryString("/api/v1/products", new Dictionary<string, string?>
        {
            ["page"] = query.Page.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["pageSize"] = PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["brandId"] = query.BrandId?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["typeId"] = query.TypeId?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["search"] = string.IsNullOrWhiteSpace(query.Search) ? null : query.Search.Trim(),
        });
        return ReadAsync<CatalogPage>(url, cancellationToken)!;
    }

    public async Task<CatalogProduct?> GetProductAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync($"/api/v1/products/{id}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<CatalogProduct>(cancellationToken);
        }
        catch (Exception e) when (IsUnavailable(e, cancellationToken))
        {
            throw new CatalogUnavailableException(e);
        }
    }

    public async Task<IReadOnlyList<CatalogProduct>> GetProductsAsync(IEnumerable<int> ids, CancellationToken cancellationToken)
    {
        var distinct = ids.Distinct().ToList();
        if (distinct.Count == 0)
        {
            return [];
        }

        var url = "/api/v1/products/by-ids?" + string.Join('&', distinct.Select(id => $"ids={id}"));
        return await ReadAsync<List<CatalogProduct>>(url, cancellationToken);
    }

    public async Task<IReadOnlyList<CatalogFacet>> GetBrandsAsync(CancellationToken cancellationToken)
        => await ReadAsync<List<CatalogFacet>>("/api/v1/brands", cancellationToken);

    public async Task<IReadOnlyList<CatalogFacet>> GetTypesAsync(CancellationToken cancellationToken)
        => await ReadAsync<List<CatalogFacet>>("/api/v1/types", cancellationToken);

    /// <summary>The product's picture from Catalog.Api, for the site to serve under its own address.</summary>
    public async Task<HttpResponseMessage> GetPictureAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            return await http.GetAsync($"/api/v1/products/{id}/picture", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception e) when (IsUnavailable(e, cancellationToken))
        {
            throw new CatalogUnavailableException(e);
        }
    }

    private async Task<T> ReadAsync<T>(string url, CancellationToken cancellationToken)
    {
        try
        {
            return (await http.GetFromJsonAsync<T>(url, cancellationToken))!;
        }
        catch (Exception e) when (IsUnavailable(e, cancellationToken))
        {
            throw new CatalogUnavailableException(e);
        }
    }

    // Connection failures, error statuses, resilience timeouts and an open circuit all mean the same to a shopper.
    private static bool IsUnavailable(Exception e, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested
            && e is HttpRequestException or TaskCanceledException or TimeoutException or Polly.ExecutionRejectedException or System.Text.Json.JsonException;
}
