using System.Text.RegularExpressions;
using AspireShop.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Playwright;
using Tests.WholeGraph;
using Xunit.Abstractions;

namespace Tests.Drills;

/// <summary>
/// A command clicked in the real Aspire dashboard (Debian chromium through Playwright), on a graph of its own: the
/// shared graph runs without the dashboard, as the testing host does by default. The Lean topology, as a reader
/// first runs the shop.
/// </summary>
public sealed class DashboardCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task CheckOrdersClickedInTheDashboardShowsWhatBecameOfTheLoadGeneratorsOrders()
    {
        var dataRoot = ShopGraph.NewDataRoot();
        try
        {
            var ports = LoopbackPorts.Free(3);
            var (app, _) = await ShopGraph.StartHealthyAsync(dataRoot, withDashboard: true,
                $"--ASPNETCORE_URLS=http://localhost:{ports[0]}",
                $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{ports[1]}",
                $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{ports[2]}",
                "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
                "--ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true");
            await using (app)
            {
                // The testing host gives the dashboard ports of its own choosing, as it does every resource.
                var dashboard = app.GetEndpoint("aspire-dashboard", "http");
                var commands = app.Services.GetRequiredService<ResourceCommandService>();
                Assert.True((await commands.ExecuteCommandAsync(ResourceNames.LoadGenerator, KnownResourceCommands.StartCommand)).Success);
                using (var healthy = new CancellationTokenSource(Wait))
                {
                    await app.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceAsync(
                        ResourceNames.LoadGenerator, e => e.Snapshot.HealthStatus == HealthStatus.Healthy, healthy.Token);
                }

                var orders = await commands.ExecuteCommandAsync(ResourceNames.LoadGenerator, "load-orders", new InteractionInputCollection(
                [
                    new InteractionInput { Name = "rate", InputType = InputType.Number, Value = "10" },
                    new InteractionInput { Name = "seconds", InputType = InputType.Number, Value = "3" },
                ]), CancellationToken.None);
                Assert.True(orders.Success, orders.Message);
                using var load = app.CreateHttpClient(ResourceNames.LoadGenerator);
                await Eventually.TrueAsync(async () => !(await load.GetStringAsync("/load")).Contains("\"running\":true", StringComparison.Ordinal),
                    Wait, "the orders run ends");

                using var playwright = await Playwright.CreateAsync();
                await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = "/usr/bin/chromium",
                    Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
                });
                var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = dashboard.ToString(), ViewportSize = new() { Width = 1600, Height = 900 } });
                page.SetDefaultTimeout((float)Wait.TotalMilliseconds);
                var browserLog = new List<string>();
                page.Console += (_, message) => browserLog.Add($"console {message.Type}: {message.Text}");
                page.PageError += (_, error) => browserLog.Add($"page error: {error}");
                var shots = Path.Combine(RepositoryPaths.Root, "TestResults", "screenshots", nameof(DashboardCommandTests));
                Directory.CreateDirectory(shots);

                var row = await LoadGeneratorRowAsync(page, app, browserLog, shots);
                await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "01-resources.png") });

                // A highlighted command is a button of its own in the row, labelled with the command's description.
                await row.GetByRole(AriaRole.Button, new() { Name = "What became of every order" }).ClickAsync();
                // The dashboard adds a notification the moment a command starts (the unread badge) and replaces it with
                // the result when the command ends, which for Check orders includes its wait for the drain. The
                // notification centre is a panel opened from the header: a click that lands while the page re-renders
                // (the command's toast appearing, the badge changing) can be lost, and a panel opened before the result
                // came may not show it, so the panel is opened, and closed and opened again, until the result shows.
                var result = page.GetByText(new Regex(@"[1-9]\d* accepted, \d+ stored")).First;
                var panelOpen = page.GetByRole(AriaRole.Button, new() { Name = "Dismiss all" });
                var shown = await Eventually.UntilAsync(async () =>
                {
                    if (!await panelOpen.IsVisibleAsync())
                    {
                        await page.GetByRole(AriaRole.Button, new() { Name = "Notifications" }).ClickAsync();
                    }

                    try
                    {
                        await result.WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 5_000 });
                        return true;
                    }
                    catch (TimeoutException)
                    {
                        // Closed and opened again on the next round, in case the open panel shows what it had when opened.
                        var close = page.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true });
                        if (await close.IsVisibleAsync())
                        {
                            await close.ClickAsync();
                        }

                        return false;
                    }
                }, done => done, Wait, TimeSpan.FromMilliseconds(500));
                if (!shown)
                {
                    await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "02-check-orders-not-shown.png") });
                }

                Assert.True(shown, $"the Check orders result did not show in the notification centre within {Wait} (see 02-check-orders-not-shown.png)");
                await Assertions.Expect(page.GetByText("\"Check orders\" succeeded").First).ToBeVisibleAsync();
                await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "02-check-orders.png") });
                output.WriteLine(await result.InnerTextAsync());
                await Assertions.Expect(result).ToContainTextAsync(" 0 lost, 0 doubled, 0 never sent");
                await Assertions.Expect(result).ToContainTextAsync(" 0 undecided");
                await Assertions.Expect(result).ToContainTextAsync(" 0 owed");

                await page.GetByText("View response").First.ClickAsync();
                await Assertions.Expect(page.GetByText("lost (accepted, stored nowhere)").First).ToBeVisibleAsync();
                await Task.Delay(500); // the dialog's opening animation, for the screenshot
                await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "03-check-orders-report.png") });
            }
        }
        finally
        {
            ShopGraph.DeleteDataRoot(dataRoot);
        }
    }

    /// <summary>
    /// Opens the resources page and returns the load generator's row once it shows Running. The dashboard is Aspire's
    /// Blazor Server app: if a component of it fails (its "An unhandled error has occurred" bar shows, once seen in CI
    /// with an empty resource list), what the dashboard and the browser logged goes to the test output and the page is
    /// loaded again, as a user would press Reload; a dashboard that fails on every load fails the test.
    /// </summary>
    private async Task<ILocator> LoadGeneratorRowAsync(IPage page, DistributedApplication app, List<string> browserLog, string shots)
    {
        const int loads = 3;
        var row = page.Locator("fluent-data-grid-row, [role=row]").Filter(new() { HasText = ResourceNames.LoadGenerator }).First;
        var running = row.Filter(new() { HasText = "Running" });
        var failed = page.Locator("#blazor-error-ui");
        for (var load = 1; ; load++)
        {
            await page.GotoAsync("/");
            await running.Or(failed).First.WaitForAsync(new() { State = WaitForSelectorState.Visible });
            if (await running.IsVisibleAsync())
            {
                return row;
            }

            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, $"01-resources-failed-{load}.png") });
            output.WriteLine($"The dashboard failed on load {load} of {loads}. The browser logged:\n{string.Join('\n', browserLog)}");
            output.WriteLine($"The dashboard logged:\n{await app.LogTailAsync("aspire-dashboard", lineCount: 100)}");
            browserLog.Clear();
            Assert.True(load < loads, $"the dashboard's resources page failed on each of {loads} loads (see the test output and 01-resources-failed-*.png)");
        }
    }
}
