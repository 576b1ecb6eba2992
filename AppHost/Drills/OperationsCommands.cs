using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using AspireShop.Contracts;

namespace AspireShop.AppHost.Drills;

/// <summary>
/// Dashboard commands that call the services' own HTTP endpoints: moving an order bucket (Ordering.Api's
/// <c>/ops</c>, with the operations key) and driving the load generator (<c>/load</c>).
/// </summary>
public static class OperationsCommands
{
    /// <summary>Moves one bucket of buyers' orders to another shard while the shop runs (what <c>shards move</c> does).</summary>
    public static IResourceBuilder<ProjectResource> WithBucketMoveCommand(
        this IResourceBuilder<ProjectResource> orderingApi, IResourceBuilder<ParameterResource> operationsKey, int shards)
        => orderingApi.WithHttpCommand("/ops/buckets/move", "Drill: move an order bucket", commandName: "drill-move-bucket", commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Post,
            Description = "Move one bucket of buyers' orders to another order shard, online.",
            ConfirmationMessage = "Move this bucket's orders to the shard given while orders keep coming? Its buyers' writes wait while the bucket is frozen "
                + "(about a second; a 503 past five), every other bucket goes on; the move verifies counts and totals before it switches the map.",
            Arguments =
            [
                DrillArguments.Number("bucket", "Bucket", 0, "0 to 63: whose orders move (a buyer's bucket is a hash of the buyer id)."),
                DrillArguments.Number("shard", "To shard", Math.Min(2, shards), $"1 to {shards}."),
            ],
            ValidateArguments = DrillArguments.Within(("bucket", 0, 63), ("shard", 1, shards)),
            IconName = "ArrowSwap",
            PrepareRequest = async context =>
            {
                context.Request.Headers.Add(OperationsAccess.KeyHeader, await operationsKey.Resource.GetValueAsync(context.CancellationToken));
                context.Request.Content = JsonContent.Create(new { bucket = context.Arguments.Get("bucket"), toShard = context.Arguments.Get("shard") });
            },
            GetCommandResult = async context =>
            {
                var body = await context.Response.Content.ReadAsStringAsync(context.CancellationToken);
                return context.Response.IsSuccessStatusCode
                    ? CommandResults.Success("Bucket moved.", body, CommandResultFormat.Json)
                    : CommandResults.Failure($"The bucket was not moved ({(int)context.Response.StatusCode}).", body, CommandResultFormat.Json);
            },
        });

    /// <summary>Start and stop the load generator's scenarios, and check what became of its orders.</summary>
    public static IResourceBuilder<ProjectResource> WithLoadCommands(this IResourceBuilder<ProjectResource> loadGenerator)
    {
        foreach (var (scenario, title, rate) in new[] { ("reads", "the catalog read mix", 200), ("browse", "shop front browsing", 20), ("orders", "orders", 100) })
        {
            loadGenerator.WithHttpCommand($"/load/{scenario}/start", $"Start {title}", commandName: $"load-{scenario}", commandOptions: new HttpCommandOptions
            {
                Method = HttpMethod.Post,
                Description = $"Send {title} at a fixed rate.",
                Arguments =
                [
                    DrillArguments.Number("rate", "Requests per second", rate, "Sent on the clock, whatever the answers take."),
                    DrillArguments.Seconds(0, "How long to run; 0 runs until stopped."),
                ],
                ValidateArguments = DrillArguments.Within(("rate", 1, 5_000), ("seconds", 0, 86_400)),
                IconName = "Play",
                PrepareRequest = context =>
                {
                    var seconds = context.Arguments.Get("seconds");
                    context.Request.RequestUri = new Uri(context.Request.RequestUri!,
                        $"?rate={context.Arguments.Get("rate").ToString(CultureInfo.InvariantCulture)}{(seconds > 0 ? $"&seconds={seconds.ToString(CultureInfo.InvariantCulture)}" : "")}");
                    return Task.CompletedTask;
                },
                ResultMode = HttpCommandResultMode.Json,
            });
        }

        return loadGenerator
            .WithHttpCommand("/load/stop", "Stop all load", commandName: "load-stop", commandOptions: new HttpCommandOptions
            {
                Method = HttpMethod.Post,
                Description = "Stop every scenario; the answers still in flight are counted.",
                IconName = "Stop",
                ResultMode = HttpCommandResultMode.Json,
            })
            .WithHttpCommand("/load/check", "Check orders", commandName: "load-check", commandOptions: new HttpCommandOptions
            {
                Method = HttpMethod.Post,
                Description = "What became of every order request the load generator sent: stored, decided, lost, doubled, stock, mails "
                    + "(waits up to 30 s for the orders still in flight).",
                IconName = "ClipboardTaskListLtr",
                IsHighlighted = true,
                GetCommandResult = async context =>
                {
                    if (!context.Response.IsSuccessStatusCode)
                    {
                        return CommandResults.Failure($"No check ({(int)context.Response.StatusCode}): {await context.Response.Content.ReadAsStringAsync(context.CancellationToken)}");
                    }

                    var report = (await context.Response.Content.ReadFromJsonAsync<OrderAuditReport>(context.CancellationToken))!;
                    return report.Sound
                        ? CommandResults.Success(report.Summary, Table(report), CommandResultFormat.Markdown)
                        : CommandResults.Failure(report.Summary, Table(report), CommandResultFormat.Markdown);
                },
            });
    }

    private static string Table(OrderAuditReport report)
    {
        var table = new StringBuilder("| what | orders |\n|---|---|\n");
        foreach (var (what, count) in new (string, object)[]
        {
            ("requests sent (recorded before sending)", report.Sent), ("accepted (answered 202)", report.Accepted),
            ("accepted and stored on a shard", report.Stored), ("**lost** (accepted, stored nowhere)", report.Lost),
            ("stored without an answer (no 202 seen; a resend finds it)", report.StoredWithoutAnswer),
            ("never stored (no 202 seen)", report.NeverStored),
            ("**never sent** (orders of these buyers no request explains)", report.NotSent),
            ("**doubled** (same buyer and key, another order)", report.Doubled),
            ("confirmed", report.Confirmed), ("rejected", report.Rejected), ("**not decided** after the drain", report.Undecided),
            ("ledger disagreeing with a decision", report.LedgerDisagreements),
            ("stock units taken since the first order", report.StockTaken), ("stock units these confirmed orders hold", report.StockConfirmed),
            ("mails sent", report.MailsSent), ("**mails still owed** after the drain", report.MailsOwed), ("**mails missing**", report.MailsMissing),
            ("seconds waited for the drain (bound)", FormattableString.Invariant($"{report.DrainWaitedSeconds:F1} ({report.DrainBoundSeconds:F0})")),
        })
        {
            table.Append(CultureInfo.InvariantCulture, $"| {what} | {count} |\n");
        }

        return table.ToString();
    }
}
