using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.Extensions.Hosting;

/// <summary>The body of <c>/health</c> and <c>/alive</c>: overall status and the status of each named check.</summary>
public sealed record HealthStatusResponse(string Status, IReadOnlyDictionary<string, string> Checks);

[JsonSerializable(typeof(HealthStatusResponse))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
