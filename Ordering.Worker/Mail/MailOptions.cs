using MailKit.Security;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>Where the buyers' mails go.</summary>
public enum MailDelivery
{
    /// <summary>To the SMTP server <c>Mail:Smtp:Host</c>.</summary>
    Smtp,

    /// <summary>As .eml files into <c>Mail:PickupDirectory</c>.</summary>
    PickupDirectory,

    /// <summary>Nowhere yet: no mail server is configured, so every mail stays owed (in the shards) until one is.</summary>
    Held,
}

/// <summary>
/// <c>Mail</c> settings. With <c>Mail:Smtp:Host</c> the mails go to that SMTP server; without it they are written as
/// .eml files to <c>Mail:PickupDirectory</c> (relative to the content root), which a developer's run (Development)
/// need not set (<c>mail-pickup</c>). A deployed worker given neither holds the mails owed (<see cref="MailDelivery.Held"/>)
/// rather than write them to its container's disk, where nobody reads them and a restart deletes them.
/// </summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    public string From { get; set; } = "AspireShop <orders@aspireshop.example>";

    /// <summary>The pickup folder of a developer's run when <see cref="PickupDirectory"/> is not set.</summary>
    public const string DevelopmentPickupDirectory = "mail-pickup";

    public string? PickupDirectory { get; set; }

    public SmtpOptions Smtp { get; set; } = new();

    public bool UsesSmtp => !string.IsNullOrWhiteSpace(Smtp.Host);

    public MailDelivery DeliveryIn(IHostEnvironment environment)
        => UsesSmtp ? MailDelivery.Smtp
            : !string.IsNullOrWhiteSpace(PickupDirectory) || environment.IsDevelopment() ? MailDelivery.PickupDirectory
            : MailDelivery.Held;

    /// <summary>The pickup folder the mails are written to when they are (<see cref="MailDelivery.PickupDirectory"/>).</summary>
    public string PickupDirectoryOrDefault => string.IsNullOrWhiteSpace(PickupDirectory) ? DevelopmentPickupDirectory : PickupDirectory;

    /// <summary>Every problem with these settings, so the worker refuses to start with a clear message instead of failing on the first order.</summary>
    public IEnumerable<string> Problems()
    {
        if (!MailboxAddress.TryParse(From, out _))
        {
            yield return $"Mail:From '{From}' is not a mail address.";
        }

        if (UsesSmtp && Smtp.Port is < 1 or > 65535)
        {
            yield return $"Mail:Smtp:Port {Smtp.Port} is not a TCP port.";
        }

        if (UsesSmtp && string.IsNullOrEmpty(Smtp.UserName) != string.IsNullOrEmpty(Smtp.Password))
        {
            yield return "Mail:Smtp:UserName and Mail:Smtp:Password are set together or not at all.";
        }

        // Auto uses STARTTLS only when the server offers it, so a server (or a man in the middle) that does not would
        // get the password in the clear.
        if (UsesSmtp && !string.IsNullOrEmpty(Smtp.UserName) && Smtp.Security is not (SecureSocketOptions.StartTls or SecureSocketOptions.SslOnConnect))
        {
            yield return $"Mail:Smtp:Security is {Smtp.Security}: with Mail:Smtp:UserName set it must be StartTls or SslOnConnect, so the password never travels unencrypted.";
        }
    }
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>Auto: implicit TLS on 465, STARTTLS when the server offers it elsewhere.</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    public string? UserName { get; set; }

    public string? Password { get; set; }
}
