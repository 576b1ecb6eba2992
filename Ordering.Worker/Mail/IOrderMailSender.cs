using AspireShop.Ordering.Data;
namespace Ordering.Worker.Mail;

/// <summary>Delivers buyers' order mails, a relay's batch at a time.</summary>
public interface IOrderMailSender
{
    /// <summary>
    /// Sends the mails in the order given and adds each one settled (delivered, or refused for good) to
    /// <paramref name="settled"/>; throws at the first it could not deliver, so that one and those after it stay owed
    /// and are tried again, while those already settled are recorded as sent.
    /// </summary>
    Task SendAsync(IReadOnlyList<MailToSend> mails, ICollection<Guid> settled, CancellationToken cancellationToken);
}
