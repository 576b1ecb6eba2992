using System.Globalization;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>The mail a buyer is owed once their order is decided.</summary>
public sealed record OrderMail(Guid OrderId, string BuyerName, string Email, string Status, string? Reason, decimal Total)
{
    /// <summary>
    /// The same order always gives the same Message-ID, so a receiving system can recognise the (rare) second copy
    /// an SMTP server may get when the worker dies between the server's acceptance and recording the send.
    /// </summary>
    public string MessageId => $"order-{OrderId}@aspireshop.example";

    public MimeMessage ToMessage(MailboxAddress from)
    {
        var confirmed = Status == "Confirmed";
        var message = new MimeMessage
        {
            MessageId = MessageId,
            Subject = confirmed ? "Your AspireShop order is confirmed" : "Your AspireShop order could not be completed",
            Body = new TextPart("plain")
            {
                Text = confirmed
                    ? $"Hello {BuyerName},\n\nyour order {OrderId} is confirmed. Total: {Total.ToString("0.00", CultureInfo.InvariantCulture)}.\n"
                    : $"Hello {BuyerName},\n\nwe could not complete your order {OrderId}: {Reason}\n",
            },
        };
        message.From.Add(from);
        message.To.Add(new MailboxAddress(BuyerName, Email));
        return message;
    }
}
