using AspireShop.Contracts;

namespace Tests.Unit.Ordering;

/// <summary>What makes Check orders green: every fault it counts, and work still in flight after its drain, make it red.</summary>
public sealed class OrderAuditReportTests
{
    [Fact]
    public void OrdersStillInFlightOrAMailStillOwedMakeTheCheckUnsound()
    {
        var clean = new OrderAuditReport(Sent: 3, Accepted: 3, Stored: 3, StoredWithoutAnswer: 0, NeverStored: 0, NotSent: 0, Confirmed: 3,
            Rejected: 0, Undecided: 0, Lost: 0, Doubled: 0, LedgerDisagreements: 0, StockTaken: 3, StockConfirmed: 3, MailsSent: 3, MailsOwed: 0,
            MailsMissing: 0, DrainWaitedSeconds: 1.2, DrainBoundSeconds: 30);
        Assert.True(clean.Sound, clean.Summary);
        Assert.Contains("drained after 1.2 s", clean.Summary);

        foreach (var faulty in new[]
        {
            clean with { Undecided = 1, Confirmed = 2 }, clean with { MailsOwed = 1, MailsSent = 2 }, clean with { MailsMissing = 1 },
            clean with { Lost = 1 }, clean with { Doubled = 1 }, clean with { NotSent = 1 }, clean with { LedgerDisagreements = 1 },
            clean with { StockTaken = 4 },
        })
        {
            Assert.False(faulty.Sound, faulty.Summary);
        }

        Assert.Contains("NOT drained", (clean with { Undecided = 1, DrainWaitedSeconds = 30 }).Summary);
    }
}
