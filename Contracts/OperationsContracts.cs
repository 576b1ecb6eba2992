namespace AspireShop.Contracts;

/// <summary>
/// How the AppHost's dashboard commands and the load generator reach Ordering.Api's operator endpoints (<c>/ops</c>): a
/// shared secret, the AppHost's <c>operations-key</c> parameter, sent in a header.
/// </summary>
public static class OperationsAccess
{
    public const string KeyParameter = "operations-key";
    public const string KeySetting = "Operations:Key";
    public const string KeyHeader = "X-Operations-Key";
}

/// <summary>Products' stock at one moment of the catalog's clock: where a load run starts counting from.</summary>
public sealed record StockSnapshot(DateTimeOffset At, IReadOnlyDictionary<int, int> Stock);

/// <summary>
/// One order request as its client recorded it before sending: the buyer, the idempotency key, and the order id of
/// the 202 answer (null when it got no answer, an unreadable one, or another status).
/// </summary>
public sealed record SentOrder(string BuyerId, string Key, Guid? AcceptedId);

/// <summary>
/// What an audit is asked about: every order request a client sent, and the stock of the products it orders from as
/// it was when it started (<c>POST /ops/stock</c>, at <see cref="Since"/>). <see cref="Until"/> is when the client
/// read its record: an order of its buyers submitted later may be one it was still sending, not one it never sent.
/// </summary>
public sealed record OrderAuditRequest(
    IReadOnlyList<SentOrder> Sent, DateTimeOffset Since, IReadOnlyDictionary<int, int> StockAtStart, DateTimeOffset? Until = null);

/// <summary>
/// The numbers a person asks for after a load run or a drill, matched by buyer and idempotency key. Of the requests
/// sent, <see cref="Accepted"/> were answered 202; <see cref="Stored"/> of those are on a shard (the rest are
/// <see cref="Lost"/>); <see cref="StoredWithoutAnswer"/> were stored although their client saw no 202 (a timeout, a
/// killed replica: a resend with the key finds them) and <see cref="NeverStored"/> were not. <see cref="NotSent"/>
/// counts orders of the same buyers since the start that no recorded request explains. Decisions, stock and mails are
/// counted over every stored order of these requests. <see cref="StockTaken"/> is how far the products' stock fell
/// since the start, <see cref="StockConfirmed"/> the units these confirmed orders hold: they differ if an order took
/// stock twice or none for a confirmation, or if anyone else took or changed stock meanwhile.
/// </summary>
public sealed record OrderAuditReport(
    int Sent,
    int Accepted,
    int Stored,
    int StoredWithoutAnswer,
    int NeverStored,
    int NotSent,
    int Confirmed,
    int Rejected,
    int Undecided,
    int Lost,
    int Doubled,
    int LedgerDisagreements,
    int StockTaken,
    int StockConfirmed,
    int MailsSent,
    int MailsOwed,
    int MailsMissing,
    double DrainWaitedSeconds = 0,
    double DrainBoundSeconds = 0)
{
    /// <summary>Every stored order decided and its mail sent: nothing left in flight.</summary>
    public bool Drained => Undecided == 0 && MailsOwed == 0;

    /// <summary>
    /// Nothing lost, doubled, unexplained or miscounted, and drained: an order still undecided, or a mail still owed,
    /// once the check has waited its drain bound is a fault (a dead-lettered order stays Submitted forever).
    /// </summary>
    public bool Sound => Lost == 0 && Doubled == 0 && NotSent == 0 && LedgerDisagreements == 0 && StockTaken == StockConfirmed
        && MailsMissing == 0 && Drained;

    public string Summary =>
        $"{Accepted} accepted, {Stored} stored, {Confirmed + Rejected} decided ({Confirmed} confirmed, {Rejected} rejected), {Undecided} undecided; "
        + $"{Lost} lost, {Doubled} doubled, {NotSent} never sent; of {Sent} sent, {StoredWithoutAnswer} stored without an answer, {NeverStored} never stored; "
        + $"stock taken {StockTaken} = confirmed {StockConfirmed}: {(StockTaken == StockConfirmed ? "yes" : "NO")}, "
        + $"{LedgerDisagreements} ledger disagreements; mails {MailsSent} sent, {MailsOwed} owed, {MailsMissing} missing; "
        + (Drained
            ? $"drained after {DrainWaitedSeconds:F1} s"
            : $"NOT drained: still in flight after waiting {DrainWaitedSeconds:F1} s of {DrainBoundSeconds:F0} s");
}
