using System.Net;
using System.Text;
using Catalog.Api.Catalog.Data;

namespace Catalog.Api.Catalog;

/// <summary>
/// Every product's picture, drawn as a small SVG from its name, brand and type: the catalog has a picture for every
/// product, including ones an administrator adds, and it loads offline without an image store.
/// </summary>
public static class ProductPictures
{
    public const string ContentType = "image/svg+xml";

    private static readonly Dictionary<string, string> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["T-Shirt"] = "M70 60 L110 45 Q150 70 190 45 L230 60 L260 110 L225 125 L220 250 L80 250 L75 125 L40 110 Z",
        ["Hoodie"] = "M80 70 Q150 20 220 70 L265 130 L230 140 L225 255 L75 255 L70 140 L35 130 Z M120 75 Q150 110 180 75",
        ["Mug"] = "M80 80 L200 80 L200 230 Q200 250 180 250 L100 250 Q80 250 80 230 Z M200 110 Q250 110 250 155 Q250 200 200 200",
        ["Cap"] = "M60 190 Q60 90 150 90 Q240 90 240 190 Z M150 190 L280 200 L150 215 Z",
        ["Backpack"] = "M90 90 Q90 60 150 60 Q210 60 210 90 L225 250 L75 250 Z M115 150 L185 150 L185 215 L115 215 Z",
        ["Water Bottle"] = "M130 40 L170 40 L170 70 Q205 90 205 130 L205 250 L95 250 L95 130 Q95 90 130 70 Z",
    };

    private const string DefaultShape = "M70 70 L230 70 L230 230 L70 230 Z";

    public static byte[] Render(Product product, string brand, string type)
    {
        var hue = (int)((uint)StableHash(product.Name) % 360);
        var shape = Shapes.GetValueOrDefault(type, DefaultShape);
        var svg = $"""
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 340" role="img" aria-label="{Escape(product.Name)}">
              <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
                <stop offset="0" stop-color="hsl({hue},70%,88%)"/><stop offset="1" stop-color="hsl({(hue + 40) % 360},70%,78%)"/>
              </linearGradient></defs>
              <rect width="300" height="340" fill="url(#g)"/>
              <path d="{shape}" fill="hsl({hue},55%,45%)" stroke="hsl({hue},60%,25%)" stroke-width="4" fill-rule="evenodd"/>
              <text x="150" y="292" font-family="sans-serif" font-size="20" text-anchor="middle" fill="#1d1d1f">{Escape(product.Name)}</text>
              <text x="150" y="318" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#3a3a3c">{Escape(brand)}</text>
            </svg>
            """;
        return Encoding.UTF8.GetBytes(svg);
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    // string.GetHashCode is randomised per process; pictures must look the same on every replica and run.
    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }
}
