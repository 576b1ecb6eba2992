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
/// What an audit is asked about: the orders a client was answered 202 for, and the stock of the products it orders
/// from as it was when it started (<c>POST /ops/stock</c>).
/// </summary>
public sealed record OrderAuditRequest(IReadOnlyList<Guid> Accepted, DateTimeOffset Since, IReadOnlyDictionary<int, int> StockAtStart);

/// <summary>
/// The numbers a person asks for after a load run or a drill. Stock is counted over the products of
/// <see cref="OrderAuditRequest.StockAtStart"/>: <see cref="StockTaken"/> is how far their stock fell since then,
/// <see cref="StockConfirmed"/> the units of every order the ledger says took stock since then (the shop front's too);
/// they differ if an order took stock twice or none for a confirmation, or if stock was changed by hand meanwhile.
/// </summary>
public sealed record OrderAuditReport(
    int Accepted,
    int Stored,
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
    int MailsMissing)
{
    /// <summary>Nothing lost, doubled or miscounted. Undecided orders and owed mails are work still in flight, not faults.</summary>
    public bool Sound => Lost == 0 && Doubled == 0 && LedgerDisagreements == 0 && StockTaken == StockConfirmed && MailsMissing == 0;

    public string Summary =>
        $"{Accepted} accepted, {Stored} stored, {Confirmed + Rejected} decided ({Confirmed} confirmed, {Rejected} rejected), {Undecided} undecided; "
        + $"{Lost} lost, {Doubled} doubled; stock taken {StockTaken} = confirmed {StockConfirmed}: {(StockTaken == StockConfirmed ? "yes" : "NO")}, "
        + $"{LedgerDisagreements} ledger disagreements; mails {MailsSent} sent, {MailsOwed} owed, {MailsMissing} missing";
}
