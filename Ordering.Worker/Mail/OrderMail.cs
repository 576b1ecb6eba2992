using System.Globalization;
using AspireShop.Ordering.Data;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>The mail a buyer is owed once their order is decided, as a MIME message.</summary>
public static class OrderMail
{
    /// <summary>
    /// The same order always gives the same Message-ID, so a receiving system can recognise the (rare) second copy
    /// an SMTP server may get when the worker dies between the server's acceptance and recording the send.
    /// </summary>
    public static string MessageId(this MailToSend mail) => $"order-{mail.OrderId}@aspireshop.example";

    public static MimeMessage ToMessage(this MailToSend mail, MailboxAddress from)
    {
        var confirmed = mail.Status == OrderStatus.Confirmed;
        var message = new MimeMessage
        {
            MessageId = mail.MessageId(),
            Subject = confirmed ? "Your AspireShop order is confirmed" : "Your AspireShop order could not be completed",
            Body = new TextPart("plain")
            {
                Text = confirmed
                    ? $"Hello {mail.BuyerName},\n\nyour order {mail.OrderId} is confirmed. Total: {mail.Total.ToString("0.00", CultureInfo.InvariantCulture)}.\n"
                    : $"Hello {mail.BuyerName},\n\nwe could not complete your order {mail.OrderId}: {mail.Reason}\n",
            },
        };
        message.From.Add(from);
        message.To.Add(new MailboxAddress(mail.BuyerName, mail.Email));
        return message;
    }
}
