using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Ordering.Worker.Mail;

namespace Tests.Unit.Mail;

/// <summary>Where the worker sends the buyers' mails, and what it does when deployed with no mail server.</summary>
public sealed class MailDeliveryTests
{
    [Theory]
    [InlineData("Development", null, null, MailDelivery.PickupDirectory)]
    [InlineData("Production", null, null, MailDelivery.Held)]
    [InlineData("Production", "/srv/mail-pickup", null, MailDelivery.PickupDirectory)]
    [InlineData("Production", null, "smtp.example.com", MailDelivery.Smtp)]
    [InlineData("Development", "/srv/mail-pickup", "smtp.example.com", MailDelivery.Smtp)]
    public void TheSettingsAndTheEnvironmentChooseTheDelivery(string environment, string? pickupDirectory, string? smtpHost, MailDelivery expected)
    {
        var options = new MailOptions { PickupDirectory = pickupDirectory, Smtp = new SmtpOptions { Host = smtpHost } };

        Assert.Equal(expected, options.DeliveryIn(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment }));
    }

    [Fact]
    public async Task ADeployedWorkerWithoutAMailServerKeepsTheMailsOwedAndReportsItselfDegraded()
    {
        var registered = WorkerMailServices(Environments.Production);
        using var worker = registered.BuildServiceProvider();

        // No sender and no relay: nothing writes mails to the container's own disk or records them as sent.
        Assert.Null(worker.GetService<IOrderMailSender>());
        Assert.DoesNotContain(typeof(OrderMailRelay), HostedServices(registered));
        Assert.Contains(typeof(OwedMailSampler), HostedServices(registered));
        var health = await worker.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Entries[MailServices.HealthCheckName].Status);
    }

    [Fact]
    public async Task ADevelopersWorkerWritesThePickupFolder()
    {
        var registered = WorkerMailServices(Environments.Development);
        using var worker = registered.BuildServiceProvider();

        Assert.IsType<PickupDirectoryMailSender>(worker.GetService<IOrderMailSender>());
        Assert.Contains(typeof(OrderMailRelay), HostedServices(registered));
        var health = await worker.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Entries[MailServices.HealthCheckName].Status);
    }

    /// <summary>The mail services as the worker registers them (the relays' shards and metrics come from the rest of its wiring).</summary>
    private static IServiceCollection WorkerMailServices(string environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.AddOrderMail();
        return builder.Services;
    }

    private static IEnumerable<Type?> HostedServices(IServiceCollection services)
        => services.Where(service => service.ServiceType == typeof(IHostedService)).Select(service => service.ImplementationType);
}
