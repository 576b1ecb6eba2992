using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ordering.Worker.Mail;

public static class MailServices
{
    public const string HealthCheckName = "mail";

    /// <summary>
    /// The buyer's order mails: settings checked at start, the sender they choose and the relay that sends what is
    /// owed, or, with no mail server configured outside Development, neither: the mails stay owed, the <c>mail</c>
    /// health check reports Degraded and the <c>aspireshop.mail.owed</c> gauge counts them, until a server is set.
    /// </summary>
    public static IHostApplicationBuilder AddOrderMail(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(MailOptions.Section);
        builder.Services.AddOptions<MailOptions>()
            .Bind(section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidation>();
        builder.Services.AddSingleton<OrderMailSignals>();
        builder.Services.AddHostedService<OwedMailSampler>();

        var delivery = (section.Get<MailOptions>() ?? new MailOptions()).DeliveryIn(builder.Environment);
        builder.Services.AddHealthChecks().AddCheck(HealthCheckName, () => delivery is MailDelivery.Held
            ? HealthCheckResult.Degraded("No mail server is configured (Mail:Smtp:Host): the buyers' mails stay owed until one is.")
            : HealthCheckResult.Healthy());
        if (delivery is MailDelivery.Held)
        {
            builder.Services.AddHostedService<HeldMailWarning>();
            return builder;
        }

        if (delivery is MailDelivery.Smtp)
        {
            builder.Services.AddSingleton<IOrderMailSender, SmtpMailSender>();
        }
        else
        {
            builder.Services.AddSingleton<IOrderMailSender, PickupDirectoryMailSender>();
        }

        builder.Services.AddHostedService<OrderMailRelay>();
        return builder;
    }

    private sealed class HeldMailWarning(ILogger<HeldMailWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogWarning("No mail server is configured (Mail:Smtp:Host): orders are decided, and their buyers' mails stay owed in the order shards until a server is set and the worker restarted.");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class MailOptionsValidation : IValidateOptions<MailOptions>
    {
        public ValidateOptionsResult Validate(string? name, MailOptions options)
            => options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
