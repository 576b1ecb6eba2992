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

        Assert.Equal(Math.Min(ProductListQuery.DefaultPageSize, first!.TotalCount), first.Items.Count);
        var ids = first.Items.Concat(second!.Items).Select(p => p.Id).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task BrandAndTypeFiltersReturnOnlyMatchingProducts()
    {
        using var api = Api();
        var brand = (await api.GetFromJsonAsync<List<BrandDto>>("/api/v1/brands"))![^1];
        var type = (await api.GetFromJsonAsync<List<ProductTypeDto>>("/api/v1/types"))![^1];
        var tag = Guid.NewGuid().ToString("N")[..12];
        var ours = await TestProducts.CreateAsync(graph.App, name: $"Filtered {tag}", brandId: brand.Id, typeId: type.Id);
        await TestProducts.CreateAsync(graph.App, name: $"Filtered {tag} elsewhere");

        var page = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?brandId={brand.Id}&typeId={type.Id}&search={tag}");

        Assert.Equal([ours.Id], page!.Items.Select(p => p.Id));
        Assert.Equal(1, page.TotalCount);
    }

    [Fact]
    public async Task SearchIsCaseInsensitiveAndTakesWildcardsLiterally()
    {
        using var api = Api();
        var tag = Guid.NewGuid().ToString("N")[..12];
        var hoodie = await TestProducts.CreateAsync(graph.App, name: $"Zip Hoodie {tag} t");

        var found = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search=HOODIE%20{tag.ToUpperInvariant()}");
        Assert.Equal([hoodie.Id], found!.Items.Select(p => p.Id));

        // "_" and "%" are LIKE wildcards: taken literally, "{tag}_t" matches no name, while "{tag} t" does.
        var spaced = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search={tag}%20t");
        var underscore = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search={tag}_t");
        var percent = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search={tag}%25t");
        Assert.Equal(1, spaced!.TotalCount);
        Assert.Equal(0, underscore!.TotalCount);
        Assert.Equal(0, percent!.TotalCount);
    }

    [Fact]
    public async Task ProductByIdAndByIds()
    {
        using var api = Api();
        var (first, second) = (await TestProducts.CreateAsync(graph.App), await TestProducts.CreateAsync(graph.App));
        var product = await api.GetFromJsonAsync<ProductDto>($"/api/v1/products/{first.Id}");
        Assert.Equal(first, product);
        Assert.StartsWith($"/api/v1/products/{first.Id}/picture", product!.PictureUrl);

        var some = await api.GetFromJsonAsync<List<ProductDto>>(
            $"/api/v1/products/by-ids?ids={second.Id}&ids={first.Id}&ids={int.MaxValue}&ids={first.Id}");
        Assert.Equal([first.Id, second.Id], some!.Select(p => p.Id));
    }

    [Fact]
    public async Task UnknownProductIsA404ProblemDetails()
    {
        using var api = Api();
        using var response = await api.GetAsync($"/api/v1/products/{int.MaxValue}");

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
        var product = await TestProducts.CreateAsync(graph.App);
        using var first = await api.GetAsync($"/api/v1/products/{product.Id}");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Contains("max-age", first.Headers.CacheControl!.ToString());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{product.Id}");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(etag, second.Headers.ETag);
    }

    [Fact]
    public async Task PictureIsAnSvgCachedForLong()
    {
        using var api = Api();
        var product = await TestProducts.CreateAsync(graph.App);
        using var response = await api.GetAsync(product.PictureUrl);

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
