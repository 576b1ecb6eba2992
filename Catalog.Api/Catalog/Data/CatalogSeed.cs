using AspireShop.Contracts;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Catalog.Data;

/// <summary>
/// The starting catalog: 120 products over 8 brands and 6 types, generated deterministically so every fresh database
/// holds the same products (tests and benchmarks rely on that). It only fills an empty catalog, and runs under
/// <see cref="CatalogSchema"/>'s lock, so it happens once however many replicas start together.
/// </summary>
public static class CatalogSeed
{
    public static readonly string[] Brands =
    [
        "Northwind Outfitters", "Contoso Trail", "Fabrikam Supply", "Tailspin Gear",
        "Adventure Works", "Litware Labs", "Wingtip Goods", "Proseware",
    ];

    private static readonly (string Name, decimal BasePrice, string Pitch)[] Types =
    [
        ("T-Shirt", 19.00m, "Soft organic cotton with a relaxed fit that keeps its shape wash after wash."),
        ("Hoodie", 49.00m, "Brushed fleece inside, a roomy hood and a kangaroo pocket for cold mornings."),
        ("Mug", 12.00m, "Stoneware that keeps coffee hot, dishwasher and microwave safe, 350 ml."),
        ("Cap", 22.00m, "Six panels, breathable mesh back and an adjustable strap that fits most heads."),
        ("Backpack", 79.00m, "Water-resistant shell, padded laptop sleeve and 24 litres for the daily commute."),
        ("Water Bottle", 25.00m, "Double-walled steel keeps drinks cold for 24 hours and hot for 12, 750 ml."),
    ];

    private static readonly string[] Styles =
    [
        "Aurora", "Basalt", "Cascade", "Dune", "Ember", "Fjord", "Glacier", "Harbor", "Indigo", "Juniper",
        "Kestrel", "Lagoon", "Meridian", "Nebula", "Orchard", "Prairie", "Quartz", "Redwood", "Summit", "Tundra",
    ];

    public static IReadOnlyList<string> TypeNames { get; } = Types.Select(t => t.Name).ToArray();

    public static async Task SeedAsync(DbContext context, CancellationToken cancellationToken)
    {
        var catalog = (CatalogDbContext)context;
        if (await catalog.Brands.AnyAsync(cancellationToken))
        {
            return;
        }

        var brands = Brands.Select(name => new CatalogBrand { Name = name }).ToList();
        var types = Types.Select(type => new CatalogType { Name = type.Name }).ToList();
        catalog.Brands.AddRange(brands);
        catalog.Types.AddRange(types);

        var products = new List<Product>();
        for (var s = 0; s < Styles.Length; s++)
        {
            for (var t = 0; t < Types.Length; t++)
            {
                var n = s * Types.Length + t;
                var type = Types[t];
                products.Add(new Product
                {
                    Name = $"{Styles[s]} {type.Name}",
                    Description = $"The {Styles[s]} {type.Name.ToLowerInvariant()}. {type.Pitch}",
                    Price = type.BasePrice + (n % 5) * 2.50m,
                    Brand = brands[(s + t) % brands.Count],
                    Type = types[t],
                    // Mostly in stock, a few low and a few sold out, so every availability state is in the catalog.
                    AvailableStock = (n % 17) switch
                    {
                        0 => 0,
                        1 => 3,
                        _ => 20 + (n * 37) % 180,
                    },
                });
            }
        }

        catalog.Products.AddRange(products);
        await catalog.SaveChangesAsync(cancellationToken);
    }
}
