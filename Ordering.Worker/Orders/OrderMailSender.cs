using System.Globalization;
using System.Text;

namespace Ordering.Worker.Orders;

/// <summary>
/// Writes each order's confirmation or rejection as an .eml file into a pickup folder (<c>Mail:PickupDirectory</c>),
/// which any SMTP relay or a developer can pick up. The file is named after the order and written atomically
/// (temporary file, then rename), and an existing file is never written again: a retried send cannot mail twice.
/// </summary>
public sealed class OrderMailSender(IConfiguration configuration, IHostEnvironment environment)
{
    public string PickupDirectory { get; } = Path.GetFullPath(
        configuration["Mail:PickupDirectory"] is { Length: > 0 } configured ? configured : "mail-pickup",
        environment.ContentRootPath);

    public async Task SendAsync(OrderMail mail, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PickupDirectory);
        var path = Path.Combine(PickupDirectory, $"order-{mail.OrderId}.eml");
        if (File.Exists(path))
        {
            return;
        }

        var subject = mail.Status == "Confirmed" ? "Your AspireShop order is confirmed" : "Your AspireShop order could not be completed";
        var body = mail.Status == "Confirmed"
            ? $"Hello {mail.BuyerName},\r\n\r\nyour order {mail.OrderId} is confirmed. Total: {mail.Total.ToString("0.00", CultureInfo.InvariantCulture)}.\r\n"
            : $"Hello {mail.BuyerName},\r\n\r\nwe could not complete your order {mail.OrderId}: {mail.Reason}\r\n";
        var message = new StringBuilder()
            .Append("From: AspireShop <orders@aspireshop.example>\r\n")
            .Append($"To: {mail.BuyerName} <{mail.Email}>\r\n")
            .Append($"Subject: {subject}\r\n")
            .Append($"Date: {DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture)}\r\n")
            .Append($"Message-ID: <order-{mail.OrderId}@aspireshop.example>\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
            .Append(body)
            .ToString();

        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, message, cancellationToken);
        File.Move(temporary, path, overwrite: false);
    }
}
