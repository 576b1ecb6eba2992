using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Catalog.Api.Catalog.Data;

namespace Catalog.Api.Catalog;

public sealed record ProductDto(
    int Id,
    string Name,
    string Description,
    decimal Price,
    int BrandId,
    string Brand,
    int TypeId,
    string Type,
    int AvailableStock,
    string PictureUrl,
    uint Version);

public sealed record ProductPage(int Page, int PageSize, int TotalCount, IReadOnlyList<ProductDto> Items);

public sealed record BrandDto(int Id, string Name);

public sealed record ProductTypeDto(int Id, string Name);

/// <summary>Query of <c>GET /api/v1/products</c>: paging, optional brand and type filters, and a name search.</summary>
public sealed record ProductListQuery(int Page, int PageSize, int? BrandId, int? TypeId, string? Search)
{
    public const int DefaultPageSize = 12;
    public const int MaxPageSize = 100;
    public const int MaxPage = 100_000;
}

/// <summary>A product as an administrator creates or replaces it. Prices are in the shop's currency.</summary>
public sealed record ProductWriteRequest(
    [property: Required, StringLength(Product.NameMaxLength, MinimumLength = 1)] string Name,
    [property: StringLength(Product.DescriptionMaxLength)] string? Description,
    [property: Range(typeof(decimal), "0.01", "99999999.99")] decimal Price,
    [property: Range(1, int.MaxValue)] int BrandId,
    [property: Range(1, int.MaxValue)] int TypeId,
    [property: Range(0, 1_000_000)] int AvailableStock);

/// <summary>
/// Replaces a product; <see cref="Version"/> is the version the administrator read (optimistic concurrency: a
/// stale version answers 409 and changes nothing).
/// </summary>
public sealed record ProductUpdateRequest(
    [property: Required, StringLength(Product.NameMaxLength, MinimumLength = 1)] string Name,
    [property: StringLength(Product.DescriptionMaxLength)] string? Description,
    [property: Range(typeof(decimal), "0.01", "99999999.99")] decimal Price,
    [property: Range(1, int.MaxValue)] int BrandId,
    [property: Range(1, int.MaxValue)] int TypeId,
    [property: Range(0, 1_000_000)] int AvailableStock,
    [property: Range(1, uint.MaxValue)] uint Version);

public sealed record StockUpdateRequest(
    [property: Range(0, 1_000_000)] int AvailableStock,
    [property: Range(1, uint.MaxValue)] uint Version);

[JsonSerializable(typeof(ProductDto))]
[JsonSerializable(typeof(ProductPage))]
[JsonSerializable(typeof(List<ProductDto>))]
[JsonSerializable(typeof(List<BrandDto>))]
[JsonSerializable(typeof(List<ProductTypeDto>))]
[JsonSerializable(typeof(ProductWriteRequest))]
[JsonSerializable(typeof(ProductUpdateRequest))]
[JsonSerializable(typeof(StockUpdateRequest))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
public sealed partial class CatalogJsonContext : JsonSerializerContext;
