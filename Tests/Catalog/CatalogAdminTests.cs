using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Catalog.Api.Catalog;
using Microsoft.AspNetCore.Mvc;
using Tests.WholeGraph;

namespace Tests.Catalog;

/// <summary>Catalog administration through the running graph: authentication, validation, concurrency, limits.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class CatalogAdminTests(ShopGraphFixture graph)
{
    private static ProductWriteRequest NewProduct(string name) => new(name, "Made for a test.", 12.34m, 1, 1, 10);

    private async Task<HttpClient> AdminAsync(bool admin = true)
    {
        var api = graph.App.CreateHttpClient("catalog-api");
        var token = await CatalogAdminTokens.CreateAsync(graph.App, $"test-{Guid.NewGuid():N}", admin);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return api;
    }

    [Fact]
    public async Task WritesWithoutATokenAre401()
    {
        using var api = graph.App.CreateHttpClient("catalog-api");
        using var response = await api.PostAsJsonAsync("/api/v1/products", NewProduct("Anonymous Mug"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKeyIs401()
    {
        using var api = graph.App.CreateHttpClient("catalog-api");
        var forged = await CatalogAdminTokens.CreateAsync(graph.App, "mallory", signingKey: new string('k', 48));
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);
        using var response = await api.PostAsJsonAsync("/api/v1/products", NewProduct("Forged Mug"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TokenWithoutTheAdminRoleIs403()
    {
        using var api = await AdminAsync(admin: false);
        using var response = await api.PostAsJsonAsync("/api/v1/products", NewProduct("Shopper Mug"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task CreateThenReadYourWriteThenDelete()
    {
        using var api = await AdminAsync();
        var name = $"Test Bottle {Guid.NewGuid():N}"[..30];
        using var created = await api.PostAsJsonAsync("/api/v1/products", NewProduct(name));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var product = await created.Content.ReadFromJsonAsync<ProductDto>();
        Assert.Equal($"/api/v1/products/{product!.Id}", created.Headers.Location?.OriginalString);
        Assert.True(created.Headers.Contains(ReadConsistency.HeaderName));

        var found = await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search={Uri.EscapeDataString(name)}");
        Assert.Equal(product.Id, Assert.Single(found!.Items).Id);

        using var stale = await api.DeleteAsync($"/api/v1/products/{product.Id}?version={product.Version + 1}");
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        using var deleted = await api.DeleteAsync($"/api/v1/products/{product.Id}?version={product.Version}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await api.GetAsync($"/api/v1/products/{product.Id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task StaleVersionIs409AndChangesNothing()
    {
        using var api = await AdminAsync();
        var product = await CreateAsync(api, "Conflict Cap");

        using var first = await api.PutAsJsonAsync($"/api/v1/products/{product.Id}/stock", new StockUpdateRequest(7, product.Version));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var second = await api.PutAsJsonAsync($"/api/v1/products/{product.Id}/stock", new StockUpdateRequest(99, product.Version));
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);

        var now = await ReadOwnWriteAsync(api, first, product.Id);
        Assert.Equal(7, now.AvailableStock);
    }

    [Fact]
    public async Task UpdateIsVisibleToTheNextPlainReadWithinTheDocumentedBound()
    {
        using var api = await AdminAsync();
        var product = await CreateAsync(api, "Bound Mug");
        using var warm = await api.GetAsync($"/api/v1/products/{product.Id}");
        var oldETag = warm.Headers.ETag;

        using var updated = await api.PutAsJsonAsync($"/api/v1/products/{product.Id}",
            new ProductUpdateRequest("Bound Mug Deluxe", "Now with a lid.", 15m, 1, 1, 10, product.Version));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);

        // The write waited for the database replicas and invalidated the cache before answering, so the next read (no
        // token) sees it on the API replica that wrote, and on the other as soon as the backplane message arrives.
        using var plain = graph.App.CreateHttpClient("catalog-api");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{product.Id}");
        request.Headers.IfNoneMatch.Add(oldETag!);
        using var next = await plain.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.NotEqual(oldETag, next.Headers.ETag);
        Assert.Equal("Bound Mug Deluxe", (await next.Content.ReadFromJsonAsync<ProductDto>())!.Name);
    }

    [Theory]
    [InlineData("""{"name":"","price":5,"brandId":1,"typeId":1,"availableStock":1}""", "Name")]
    [InlineData("""{"name":"Zero","price":0,"brandId":1,"typeId":1,"availableStock":1}""", "Price")]
    [InlineData("""{"name":"Negative","price":5,"brandId":1,"typeId":1,"availableStock":-1}""", "AvailableStock")]
    [InlineData("""{"name":"No brand","price":5,"brandId":424242,"typeId":1,"availableStock":1}""", "brandId")]
    public async Task InvalidProductIsA400NamingTheField(string json, string field)
    {
        using var api = await AdminAsync();
        using var response = await api.PostAsync("/api/v1/products", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(field, problem!.Errors.Keys);
    }

    [Fact]
    public async Task MalformedJsonIsA400SayingWhere()
    {
        using var api = await AdminAsync();
        using var response = await api.PostAsync("/api/v1/products",
            new StringContent("""{"name":"Broken","price":"cheap"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("price", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WrongContentTypeIs415()
    {
        using var api = await AdminAsync();
        using var response = await api.PostAsync("/api/v1/products", new StringContent("name=Mug", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownProductUpdateIs404()
    {
        using var api = await AdminAsync();
        using var response = await api.PutAsJsonAsync("/api/v1/products/999999/stock", new StockUpdateRequest(1, 1));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TooManyRequestsFromOneClientAre429WithRetryAfter()
    {
        using var api = await AdminAsync();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 300 && limited is null; i++)
        {
            var response = await api.GetAsync($"/api/v1/products/{int.MaxValue}");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            Assert.NotNull(limited.Headers.RetryAfter);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        }
    }

    private static async Task<ProductDto> CreateAsync(HttpClient api, string name)
    {
        using var response = await api.PostAsJsonAsync("/api/v1/products", NewProduct($"{name} {Guid.NewGuid():N}"[..40]));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ProductDto>())!;
    }

    private static async Task<ProductDto> ReadOwnWriteAsync(HttpClient api, HttpResponseMessage write, int id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{id}");
        request.Headers.Add(ReadConsistency.HeaderName, write.Headers.GetValues(ReadConsistency.HeaderName));
        using var response = await api.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<ProductDto>())!;
    }
}
