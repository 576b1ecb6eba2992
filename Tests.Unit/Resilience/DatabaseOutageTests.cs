using AspireShop.ServiceDefaults.Resilience;
using Npgsql;

namespace Tests.Unit.Resilience;

/// <summary>Which database failures the retry pipelines wait out, and which they hand to the caller at once.</summary>
public sealed class DatabaseOutageTests
{
    [Theory]
    [InlineData("57P01")] // admin shutdown: the server is restarting
    [InlineData("57P03")] // cannot connect now: the server is starting
    [InlineData("40001")] // serialization failure
    [InlineData("40P01")] // deadlock detected
    public void AServerThatWillRecoverIsAnOutage(string sqlState) => Assert.True(ShopResilience.IsDatabaseOutage(Postgres(sqlState)));

    [Theory]
    [InlineData("23505")] // unique violation: the same write would fail again
    [InlineData("42P01")] // undefined table
    [InlineData("22P02")] // invalid input
    public void AStatementThatWouldFailAgainIsNot(string sqlState) => Assert.False(ShopResilience.IsDatabaseOutage(Postgres(sqlState)));

    [Fact]
    public void ABrokenConnectionIsAnOutageEvenWrapped()
    {
        var broken = new NpgsqlException("Exception while reading from stream", new IOException("connection reset"));

        Assert.True(ShopResilience.IsDatabaseOutage(broken));
        Assert.True(ShopResilience.IsDatabaseOutage(new InvalidOperationException("EF wrapped it", broken)));
    }

    [Fact]
    public void AnythingElseIsNot() => Assert.False(ShopResilience.IsDatabaseOutage(new InvalidOperationException("a bug")));

    private static PostgresException Postgres(string sqlState) => new("test", "ERROR", "ERROR", sqlState);
}
