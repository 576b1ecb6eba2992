using System.Text.RegularExpressions;

namespace Tests.Unit.Architecture;

/// <summary>
/// The ownership table in docs/architecture.md is true of the code: a project that is neither a row's owner nor one of
/// its users names none of that row's code (its DbContext, its table-name constants) and speaks no SQL to its tables.
/// </summary>
public sealed partial class DataOwnershipTests
{
    private static readonly string Root = RepositoryRoot.Path;

    public static TheoryData<string> Rows() => [.. OwnershipRows().Select(row => row.Data)];

    [Fact]
    public void TheTableCoversTheCatalogTheLedgerTheShardMapAndTheOrders()
    {
        var data = string.Join(' ', OwnershipRows().Select(row => row.Data));
        foreach (var table in new[] { "products", "stock_reservations", "sharding.bucket_map", "ordering.orders", "outbox", "mail_owed" })
        {
            Assert.Contains($"`{table}`", data);
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void OnlyTheOwnerAndItsUsersNameTheData(string data)
    {
        var row = OwnershipRows().Single(r => r.Data == data);
        var allowed = row.Users.Append(row.Owner).ToHashSet();
        var tables = BacktickedNames().Matches(row.Data).Select(m => m.Groups[1].Value.Split('.').Last()).ToList();
        var sql = SqlOn(tables);

        var offenders = new List<string>();
        foreach (var (project, file) in ProductionSources().Where(source => !allowed.Contains(source.Project)))
        {
            var text = File.ReadAllText(file);
            offenders.AddRange(row.CodeNames.Where(name => Regex.IsMatch(text, $@"\b{name}\b")).Select(name => $"{Relative(file)} names {name}"));
            if (tables.Count > 0)
            {
                offenders.AddRange(sql.Matches(text).Select(m => $"{Relative(file)} has SQL on {m.Groups[3].Value}: '{m.Value}'"));

                // A table's name kept in a constant of its own, by code that speaks SQL or maps tables. (Elsewhere a
                // name such as "orders" is a database's or a route's.)
                if (SqlOrMapping().IsMatch(text))
                {
                    offenders.AddRange(tables.Where(table => text.Contains($"\"{table}\"", StringComparison.Ordinal))
                        .Select(table => $"{Relative(file)} keeps the table name \"{table}\""));
                }
            }
        }

        Assert.True(offenders.Count == 0,
            $"{row.Data} is owned by {row.Owner} and used by [{string.Join(", ", row.Users)}], but:\n{string.Join('\n', offenders)}");
    }

    [Fact]
    public void TheCheckSeesAnOffender()
    {
        // What the old order pipeline did: its own SQL on the catalog's products table.
        const string text = """await using var select = catalog.CreateCommand($"SELECT "Id" FROM products WHERE "Id" = ANY($1)");""";
        Assert.Matches(SqlOn(["products"]), text);
        Assert.Matches(SqlOn(["outbox"]), """$"INSERT INTO {Schema}.outbox (\"Id\") VALUES ($1)" """);
        Assert.DoesNotMatch(SqlOn(["products"]), "// prices come from products the catalog has");
    }

    // SQL as the shop writes it: upper-case keywords, the table perhaps schema-qualified or quoted.
    private static Regex SqlOn(IEnumerable<string> tables)
        => new($@"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+(""?[\w{{}}]+""?\.)?""?({string.Join('|', tables)})\b");

    private sealed record OwnershipRow(string Data, string Owner, IReadOnlyList<string> CodeNames, IReadOnlyList<string> Users);

    private static IReadOnlyList<OwnershipRow> OwnershipRows()
    {
        var document = File.ReadAllText(Path.Combine(Root, "docs", "architecture.md"));
        var start = document.IndexOf("<!-- ownership -->", StringComparison.Ordinal);
        var end = document.IndexOf("<!-- /ownership -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "docs/architecture.md has no ownership table between <!-- ownership --> markers");
        return [.. document[start..end].Split('\n')
            .Where(line => line.StartsWith('|') && !line.StartsWith("| Data") && !line.StartsWith("|---"))
            .Select(line => line.Trim().Trim('|').Split('|').Select(cell => cell.Trim()).ToArray())
            .Select(cells => new OwnershipRow(
                cells[0],
                cells[2],
                [.. BacktickedNames().Matches(cells[3]).Select(m => m.Groups[1].Value)],
                [.. cells[4].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]))];
    }

    /// <summary>Every C# file of the shop's projects, without tests, benchmarks, build output or EF migrations.</summary>
    private static IEnumerable<(string Project, string File)> ProductionSources()
        => Directory.GetFiles(Root, "*.csproj", SearchOption.AllDirectories)
            .Select(csproj => Path.GetDirectoryName(csproj)!)
            .Where(directory => Path.GetDirectoryName(directory) == Root && !Path.GetFileName(directory).StartsWith("Tests", StringComparison.Ordinal))
            .SelectMany(directory => Directory.GetFiles(directory, "*.cs", SearchOption.AllDirectories)
                .Where(file => !Regex.IsMatch(Path.GetRelativePath(directory, file), @"(^|/)(bin|obj|Migrations)/"))
                .Select(file => (Path.GetFileName(directory), file)));

    private static string Relative(string file) => Path.GetRelativePath(Root, file);

    [GeneratedRegex(@"\b(SELECT|INSERT|UPDATE|DELETE)\b|\.ToTable\(")]
    private static partial Regex SqlOrMapping();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickedNames();
}
