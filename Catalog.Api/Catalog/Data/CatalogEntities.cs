namespace Catalog.Api.Catalog.Data;

public sealed class CatalogBrand
{
    public int Id { get; set; }

    public required string Name { get; set; }
}

public sealed class CatalogType
{
    public int Id { get; set; }

    public required string Name { get; set; }
}

public sealed class Product
{
    public const int NameMaxLength = 100;
    public const int DescriptionMaxLength = 1000;

    public int Id { get; set; }

    public required string Name { get; set; }

    public string Description { get; set; } = "";

    public decimal Price { get; set; }

    public int BrandId { get; set; }

    public CatalogBrand Brand { get; set; } = null!;

    public int TypeId { get; set; }

    public CatalogType Type { get; set; } = null!;

    public int AvailableStock { get; set; }

    /// <summary>PostgreSQL's row version (xmin): changes on every update, so it doubles as the concurrency token.</summary>
    public uint Version { get; set; }
}
