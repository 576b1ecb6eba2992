using Microsoft.AspNetCore.Mvc;
using Web.Blazor.Buyers;
using Web.Blazor.Catalog;

namespace Web.Blazor.Cart;

/// <summary>
/// The cart's form posts (add, change quantity, remove): plain HTML forms with an antiforgery token that answer
/// with a redirect (post/redirect/get), so they work with or without JavaScript and a reload never posts twice.
/// </summary>
public static class CartEndpoints
{
    public static IEndpointRouteBuilder MapCartEndpoints(this IEndpointRouteBuilder app)
    {
        var cart = app.MapGroup("/cart");
        cart.MapPost("/add", AddAsync);
        cart.MapPost("/update", UpdateAsync);
        cart.MapPost("/remove", RemoveAsync);
        return app;
    }

    private static async Task<IResult> AddAsync(
        [FromForm] int productId, [FromForm] int quantity, HttpContext http, CatalogClient catalog, CartStore carts, CancellationToken ct)
    {
        var back = $"/products/{productId}";
        if (quantity is < 1 or > CartStore.MaxQuantity)
        {
            return Results.Redirect($"{back}?problem=quantity");
        }

        CatalogProduct? product;
        try
        {
            product = await catalog.GetProductAsync(productId, ct);
        }
        catch (CatalogUnavailableException)
        {
            return Results.Redirect($"{back}?problem=catalog");
        }

        if (product is null)
        {
            return Results.Redirect(back);
        }

        if (product.AvailableStock < quantity)
        {
            return Results.Redirect($"{back}?problem=stock");
        }

        try
        {
            return await carts.AddAsync(http.User.BuyerId(), productId, quantity)
                ? Results.Redirect("/cart")
                : Results.Redirect($"{back}?problem=full");
        }
        catch (CartUnavailableException)
        {
            return Results.Redirect($"{back}?problem=cart");
        }
    }

    private static async Task<IResult> UpdateAsync([FromForm] int productId, [FromForm] int quantity, HttpContext http, CartStore carts)
    {
        if (quantity is < 0 or > CartStore.MaxQuantity)
        {
            return Results.Redirect("/cart?problem=quantity");
        }

        // Only a line already in the cart changes here: a new product comes in through /cart/add, which checks that it
        // exists and that the cart has room, so this path cannot grow the cart.
        return await ChangeAsync(() => quantity == 0
            ? RemovedAsync(carts, http.User.BuyerId(), productId)
            : carts.SetAsync(http.User.BuyerId(), productId, quantity));
    }

    private static Task<IResult> RemoveAsync([FromForm] int productId, HttpContext http, CartStore carts)
        => ChangeAsync(() => RemovedAsync(carts, http.User.BuyerId(), productId));

    // A line removed twice (two tabs, a repeated post) is removed all the same.
    private static async Task<bool> RemovedAsync(CartStore carts, string buyerId, int productId)
    {
        await carts.RemoveAsync(buyerId, productId);
        return true;
    }

    private static async Task<IResult> ChangeAsync(Func<Task<bool>> change)
    {
        try
        {
            return await change() ? Results.Redirect("/cart") : Results.Redirect("/cart?problem=not-in-cart");
        }
        catch (CartUnavailableException)
        {
            return Results.Redirect("/cart?problem=cart");
        }
    }
}
