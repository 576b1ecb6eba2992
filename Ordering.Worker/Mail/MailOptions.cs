using MailKit.Security;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>
/// <c>Mail</c> settings. Without <c>Mail:Smtp:Host</c> the mails are written as .eml files to
/// <c>Mail:PickupDirectory</c> (relative to the content root; default <c>mail-pickup</c>); with it they go to that
/// SMTP server.
/// </summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    public string From { get; set; } = "AspireShop <orders@aspireshop.example>";

    public string PickupDirectory { get; set; } = "mail-pickup";

    public SmtpOptions Smtp { get; set; } = new();

    public bool UsesSmtp => !string.IsNullOrWhiteSpace(Smtp.Host);

    /// <summary>Every problem with these settings, so the worker refuses to start with a clear message instead of failing on the first order.</summary>
    public IEnumerable<string> Problems()
    {
        if (!MailboxAddress.TryParse(From, out _))
        {
            yield return $"Mail:From '{From}' is not a mail address.";
        }

        if (!UsesSmtp && string.IsNullOrWhiteSpace(PickupDirectory))
        {
            yield return "Mail:PickupDirectory is empty and no Mail:Smtp:Host is set.";
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
