using AspireShop.Ordering.Data;
namespace Ordering.Worker.Mail;

/// <summary>Delivers a buyer's order mail; throws when it could not, so the mail stays owed and is tried again.</summary>
public interface IOrderMailSender
{
    Task SendAsync(MailToSend mail, CancellationToken cancellationToken);
}
