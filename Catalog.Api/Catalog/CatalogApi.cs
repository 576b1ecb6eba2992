using System.ComponentModel.DataAnnotations;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using Catalog.Api.Catalog.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;

namespace Catalog.Api.Catalog;

public static class CatalogApi
{
    public const string AdminPolicy = "catalog.admin";
    private const int MaxIdsPerRequest = 100;
    private const string JsonContentType = "application/json; charset=utf-8";
    private const string CatalogCacheControl = "public, max-age=10";
    private const string PrimaryReadCacheControl = "private, no-cache";

    // A picture URL carries the product version (?v=), so a changed product gets a new URL and the old one may be
    // cached for good.
    private const string PictureCacheControl = "public, max-age=31536000, immutable";

    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Catalog")
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapGet("/products", ListProducts)
            .WithSummary("A page of products, optionally filtered by brand and type and searched by name.")
            .Produces<ProductPage>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem();

        api.MapGet("/products/{id:int}", GetProduct)
            .WithSummary("One product.")
            .Produces<ProductDto>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/products/by-ids", GetProductsByIds)
            .WithSummary($"The products with the given ids (at most {MaxIdsPerRequest}); unknown ids are left out.")
            .Produces<List<ProductDto>>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem();

        api.MapGet("/products/{id:int}/picture", GetPicture)
            .WithSummary("The product's picture (SVG).")
            .Produces(StatusCodes.Status200OK, contentType: ProductPictures.ContentType)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/brands", (HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct)
                => Read(http, clock, consistency => reader.BrandsAsync(consistency, ct), JsonContentType, CatalogCacheControl))
            .WithSummary("Every brand.")
            .Produces<List<BrandDto>>(StatusCodes.Status200OK);

        api.MapGet("/types", (HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct)
                => Read(http, clock, consistency => reader.TypesAsync(consistency, ct), JsonContentType, CatalogCacheControl))
            .WithSummary("Every product type.")
            .Produces<List<ProductTypeDto>>(StatusCodes.Status200OK);

        var admin = api.MapGroup("/products").RequireAuthorization(AdminPolicy).WithTags("Catalog administration")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        admin.MapPost("/", CreateProduct).WithSummary("Adds a product.")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        admin.MapPut("/{id:int}", UpdateProduct).WithSummary("Replaces a product (send the version you read).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        admin.MapPut("/{id:int}/stock", SetStock).WithSummary("Sets a product's available stock (send the version you read).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        admin.MapDelete("/{id:int}", DeleteProduct).WithSummary("Deletes a product (send the version you read).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return app;
    }

    // The query is plain parameters rather than [AsParameters]: validation attributes on an [AsParameters] type
    // break OpenAPI document generation in Microsoft.AspNetCore.OpenApi 10.0.
    private static Task<IResult> ListProducts(
        HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct,
        [Range(1, ProductListQuery.MaxPage)] int page = 1,
        [Range(1, ProductListQuery.MaxPageSize)] int pageSize = ProductListQuery.DefaultPageSize,
        [Range(1, int.MaxValue)] int? brandId = null,
        [Range(1, int.MaxValue)] int? typeId = null,
        [StringLength(Product.NameMaxLength)] string? search = null)
    {
        // PostgreSQL text cannot hold NUL, and no product name contains control characters.
        if (search is not null && search.Any(char.IsControl))
        {
            return Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["search"] = ["The search text cannot contain control characters."],
            }));
        }

        var query = new ProductListQuery(page, pageSize, brandId, typeId, search);
        return Read(http, clock, consistency => reader.PageAsync(query, consistency, ct), JsonContentType, CatalogCacheControl);
    }

    private static Task<IResult> GetProduct(int id, HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct)
        => Read(http, clock, consistency => reader.ProductAsync(id, consistency, ct), JsonContentType, CatalogCacheControl, () => ProductNotFound(id));

    private static Task<IResult> GetPicture(int id, HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct)
        => Read(http, clock, consistency => reader.PictureAsync(id, consistency, ct), ProductPictures.ContentType, PictureCacheControl, () => ProductNotFound(id));

    private static Task<IResult> GetProductsByIds(int[]? ids, HttpContext http, CatalogReader reader, TimeProvider clock, CancellationToken ct)
    {
        if (ids is null || ids.Length is 0 or > MaxIdsPerRequest || ids.Any(id => id <= 0))
        {
            return Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["ids"] = [$"Give between 1 and {MaxIdsPerRequest} positive product ids, as ids=1&ids=2."],
            }));
        }

        var distinct = ids.Distinct().Order().ToArray();
        return Read(http, clock, consistency => reader.ProductsAsync(distinct, consistency, ct), JsonContentType, CatalogCacheControl);
    }

    private static async Task<IResult> Read(
        HttpContext http, TimeProvider clock, Func<ReadConsistency, ValueTask<CachedBody>> read,
        string contentType, string cacheControl, Func<IResult>? notFound = null)
    {
        if (!ReadConsistency.TryParse(http, clock, out var consistency))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [ReadConsistency.HeaderName] = ["Send back the token a write answered with, unchanged."],
            });
        }

        var body = await read(consistency);
        if (!body.Found)
        {
            return notFound?.Invoke() ?? TypedResults.NotFound();
        }

        return new CachedBodyResult(body, contentType, consistency.MustReadPrimary ? PrimaryReadCacheControl : cacheControl);
    }

    private static async Task<Results<Created<ProductDto>, ValidationProblem>> CreateProduct(
        ProductWriteRequest request, CatalogDbContext db, ProductChanges changes, CancellationToken ct)
    {
        if (await UnknownReferencesAsync(db, request.BrandId, request.TypeId, ct) is { } unknown)
        {
            return TypedResults.ValidationProblem(unknown);
        }

        var product = new Product
        {
            Name = request.Name.Trim(),
            Description = request.Description?.Trim() ?? "",
            Price = request.Price,
            BrandId = request.BrandId,
            TypeId = request.TypeId,
            AvailableStock = request.AvailableStock,
        };
        db.Products.Add(product);
        await db.SaveChangesAsync(ct);
        await changes.PublishAsync(db, product.Id, ct);
        return TypedResults.Created($"/api/v1/products/{product.Id}", await CatalogReader.FromPrimaryAsync(db, product.Id, ct));
    }

    private static async Task<Results<Ok<ProductDto>, ValidationProblem, ProblemHttpResult>> UpdateProduct(
        int id, ProductUpdateRequest request, CatalogDbContext db, ProductChanges changes, CancellationToken ct)
    {
        if (await UnknownReferencesAsync(db, request.BrandId, request.TypeId, ct) is { } unknown)
        {
            return TypedResults.ValidationProblem(unknown);
        }

        return await ChangeAsync(db, changes, id, request.Version, product =>
        {
            product.Name = request.Name.Trim();
            product.Description = request.Description?.Trim() ?? "";
            product.Price = request.Price;
            product.BrandId = request.BrandId;
            product.TypeId = request.TypeId;
            product.AvailableStock = request.AvailableStock;
        }, ct);
    }

    private static Task<Results<Ok<ProductDto>, ValidationProblem, ProblemHttpResult>> SetStock(
        int id, StockUpdateRequest request, CatalogDbContext db, ProductChanges changes, CancellationToken ct)
        => ChangeAsync(db, changes, id, request.Version, product => product.AvailableStock = request.AvailableStock, ct);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteProduct(
        int id, [FromQuery] uint version, CatalogDbContext db, ProductChanges changes, CancellationToken ct)
    {
        var product = await db.Products.FindAsync([id], ct);
        if (product is null)
        {
            return ProductNotFound(id);
        }

        db.Entry(product).Property(p => p.Version).OriginalValue = version;
        db.Products.Remove(product);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return VersionConflict(id);
        }

        await changes.PublishAsync(db, id, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ProductDto>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        CatalogDbContext db, ProductChanges changes, int id, uint version, Action<Product> change, CancellationToken ct)
    {
        var product = await db.Products.FindAsync([id], ct);
        if (product is null)
        {
            return ProductNotFound(id);
        }

        db.Entry(product).Property(p => p.Version).OriginalValue = version;
        change(product);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return VersionConflict(id);
        }

        await changes.PublishAsync(db, id, ct);
        return TypedResults.Ok(await CatalogReader.FromPrimaryAsync(db, id, ct));
    }

    private static async Task<Dictionary<string, string[]>?> UnknownReferencesAsync(CatalogDbContext db, int brandId, int typeId, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!await db.Brands.AnyAsync(b => b.Id == brandId, ct))
        {
            errors["brandId"] = [$"There is no brand {brandId}."];
        }

        if (!await db.Types.AnyAsync(t => t.Id == typeId, ct))
        {
            errors["typeId"] = [$"There is no product type {typeId}."];
        }

        return errors.Count == 0 ? null : errors;
    }

    private static ProblemHttpResult ProductNotFound(int id)
        => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Product not found", detail: $"There is no product {id}.");

    private static ProblemHttpResult VersionConflict(int id)
        => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The product has changed",
            detail: $"Product {id} was changed since the version you sent; read it again and retry.");
}

/// <summary>
/// What follows a committed product change: wait until the replicas have it, invalidate the cache entries that show
/// it, and give the writer its read-your-writes token.
/// </summary>
public sealed class ProductChanges(HybridCache cache, ReplicaCatchUp replicas, IHttpContextAccessor http, TimeProvider clock)
{
    public async Task PublishAsync(CatalogDbContext primary, int productId, CancellationToken cancellationToken)
    {
        await replicas.WaitForReplicasAsync(primary, cancellationToken);
        await cache.RemoveByTagAsync([CatalogCacheTags.Product(productId), CatalogCacheTags.ProductLists], cancellationToken);
        http.HttpContext?.Response.Headers.Append(ReadConsistency.HeaderName, ReadConsistency.TokenFor(clock.GetUtcNow()));
    }
}
