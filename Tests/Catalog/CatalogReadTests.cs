using System.Net;
using System.Net.Http.Json;
using Catalog.Api.Catalog;
using Tests.WholeGraph;

namespace Tests.Catalog;

/// <summary>Catalog reads through the running graph: Catalog.Api on the real replica, cache and primary.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class CatalogReadTests(ShopGraphFixture graph)
{
    private HttpClient Api() => graph.App.CreateHttpClient("catalog-api");

    [Fact]
    public async Task FirstPageHasTheDefaultSizeAndPagesContinueInIdOrder()
    {
        using var api = Api();
        var first = await api.GetFromJsonAsync<ProductPage>("/api/v1/products");
        var second = await api.GetFromJsonAsync<ProductPage>("/api/v1/products?page=2");

        Assert.Equal(ProductListQuery.DefaultPageSize, first!.Items.Count);
        Assert.True(first.TotalCount >= 100, $"the seed holds at least 100 products, found {first.TotalCount}");
        var ids = first.Items.Concat(second!.Items).Select(p => p.Id).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task BrandAndTypeFiltersReturnOnlyMatchingProducts()
    {
        using var api = Api();
        var brands = await api.GetFromJsonAsync<List<BrandDto>>("/api/v1/brands");
        var types = await api.GetFromJsonAsync<List<ProductTypeDto>>("/api/v1/types");
        Assert.True(brands!.Count >= 5 && types!.Count >= 5);

        var brand = brands[0];
        var type = types![0];
        var page = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?brandId={brand.Id}&typeId={type.Id}&pageSize=100");

        Assert.NotEmpty(page!.Items);
        Assert.All(page.Items, p => Assert.Equal((brand.Id, type.Id), (p.BrandId, p.TypeId)));
        Assert.Equal(page.Items.Count, page.TotalCount);
    }

    [Fact]
    public async Task SearchIsCaseInsensitiveAndTakesWildcardsLiterally()
    {
        using var api = Api();
        var hoodies = await api.GetFromJsonAsync<ProductPage>("/api/v1/products?search=HOODIE&pageSize=100");
        Assert.Equal(20, hoodies!.TotalCount);
        Assert.All(hoodies.Items, p => Assert.Contains("hoodie", p.Name, StringComparison.OrdinalIgnoreCase));

        // "_" and "%" are LIKE wildcards: taken literally, "aurora_t" matches no name, while "aurora t" does.
        var spaced = await api.GetFromJsonAsync<ProductPage>("/api/v1/products?search=aurora%20t");
        var underscore = await api.GetFromJsonAsync<ProductPage>("/api/v1/products?search=aurora_t");
        var percent = await api.GetFromJsonAsync<ProductPage>("/api/v1/products?search=aurora%25t");
        Assert.True(spaced!.TotalCount > 0);
        Assert.Equal(0, underscore!.TotalCount);
        Assert.Equal(0, percent!.TotalCount);
    }

    [Fact]
    public async Task ProductByIdAndByIds()
    {
        using var api = Api();
        var product = await api.GetFromJsonAsync<ProductDto>("/api/v1/products/3");
        Assert.Equal(3, product!.Id);
        Assert.StartsWith("/api/v1/products/3/picture", product.PictureUrl);

        var some = await api.GetFromJsonAsync<List<ProductDto>>("/api/v1/products/by-ids?ids=5&ids=2&ids=999999&ids=2");
        Assert.Equal([2, 5], some!.Select(p => p.Id));
    }

    [Fact]
    public async Task UnknownProductIsA404ProblemDetails()
    {
        using var api = Api();
        using var response = await api.GetAsync("/api/v1/products/999999");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.Equal(404, problem!.Status);
    }

    [Theory]
    [InlineData("/api/v1/products?pageSize=0", "pageSize")]
    [InlineData("/api/v1/products?pageSize=101", "pageSize")]
    [InlineData("/api/v1/products?page=0", "page")]
    [InlineData("/api/v1/products?brandId=-1", "brandId")]
    [InlineData("/api/v1/products?search=%00", "search")]
    [InlineData("/api/v1/products/by-ids", "ids")]
    public async Task InvalidQueryIsA400NamingTheField(string url, string field)
    {
        using var api = Api();
        using var response = await api.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        Assert.Contains(field, problem!.Errors.Keys);
    }

    [Theory]
    [InlineData("/api/v1/products?page=abc", "page")]
    [InlineData("/api/v1/products?search=", null)]
    [InlineData("/api/v1/products/2147483648", null)]
    [InlineData("/api/v1/products?search=%00%27%3B--", null)]
    public async Task OddInputNeverCausesA500(string url, string? namedInDetail)
    {
        using var api = Api();
        using var response = await api.GetAsync(url);

        Assert.True((int)response.StatusCode < 500, $"{url} answered {(int)response.StatusCode}");
        if (namedInDetail is not null)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(namedInDetail, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task LongSearchIsRejected()
    {
        using var api = Api();
        using var response = await api.GetAsync($"/api/v1/products?search={new string('a', 101)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ETagRoundTripAnswers304()
    {
        using var api = Api();
        using var first = await api.GetAsync("/api/v1/products/4");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Contains("max-age", first.Headers.CacheControl!.ToString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/products/4");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(etag, second.Headers.ETag);
    }

    [Fact]
    public async Task PictureIsAnSvgCachedForLong()
    {
        using var api = Api();
        var product = await api.GetFromJsonAsync<ProductDto>("/api/v1/products/6");
        using var response = await api.GetAsync(product!.PictureUrl);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl!.MaxAge >= TimeSpan.FromDays(30));
        Assert.Contains("<svg", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheResponses()
    {
        using var api = Api();
        var document = await api.GetStringAsync("/openapi/v1.json");

        Assert.Contains("/api/v1/products/{id}", document);
        Assert.Contains("\"404\"", document);
        Assert.Contains("\"409\"", document);
    }
}
