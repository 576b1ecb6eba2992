using Microsoft.Extensions.Options;

namespace Ordering.Worker.Mail;

public static class MailServices
{
    /// <summary>The buyer's order mails: settings checked at start, the sender they choose, and the relay that sends what is owed.</summary>
    public static IHostApplicationBuilder AddOrderMail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MailOptions>()
            .Bind(builder.Configuration.GetSection(MailOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidation>();

        builder.Services.AddSingleton<PickupDirectoryMailSender>();
        builder.Services.AddSingleton<SmtpMailSender>();
        builder.Services.AddSingleton<IOrderMailSender>(services =>
            services.GetRequiredService<IOptions<MailOptions>>().Value.UsesSmtp
                ? services.GetRequiredService<SmtpMailSender>()
                : services.GetRequiredService<PickupDirectoryMailSender>());
        builder.Services.AddSingleton<OrderMailSignals>();
        builder.Services.AddHostedService<OrderMailRelay>();
        return builder;
    }

    private sealed class MailOptionsValidation : IValidateOptions<MailOptions>
    {
        public ValidateOptionsResult Validate(string? name, MailOptions options)
            => options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
