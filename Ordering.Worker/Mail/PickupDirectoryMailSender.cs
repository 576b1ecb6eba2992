using AspireShop.Ordering.Data;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>
/// Writes each mail as an .eml file into a pickup folder, which any SMTP relay or a developer can pick up. The file
/// is named after the order and written atomically (temporary file, then rename), and an existing file is never
/// written again: a send repeated after a crash cannot mail twice.
/// </summary>
public sealed class PickupDirectoryMailSender(IOptions<MailOptions> options, IHostEnvironment environment) : IOrderMailSender
{
    private readonly MailboxAddress _from = MailboxAddress.Parse(options.Value.From);

    public string PickupDirectory { get; } = Path.GetFullPath(options.Value.PickupDirectory, environment.ContentRootPath);

    public async Task SendAsync(MailToSend mail, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PickupDirectory);
        var path = Path.Combine(PickupDirectory, $"order-{mail.OrderId}.eml");
        if (File.Exists(path))
        {
            return;
        }

        var temporary = path + ".tmp";
        await mail.ToMessage(_from).WriteToAsync(temporary, cancellationToken);
        File.Move(temporary, path, overwrite: false);
    }
}
