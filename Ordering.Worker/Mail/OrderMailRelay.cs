using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;
using AspireShop.Ordering.Relaying;
using MailKit.Net.Smtp;
using Npgsql;
using Polly.Registry;

namespace Ordering.Worker.Mail;

/// <summary>Wakes the mail relay as soon as an order is decided.</summary>
public sealed class OrderMailSignal : WakeUpSignal;

/// <summary>
/// Sends the mails owed for decided orders. The record of the debt is the order's <see cref="MailOwed"/> row, written
/// in the same transaction that decided the order, so a worker that dies after the commit leaves the mail owed rather
/// than lost; it is deleted, and the order's <c>MailSentAt</c> set, by the transaction that records the mail sent. One
/// worker's relay sends at a time (see <see cref="SingleActiveRelay{TSignal}"/>), so two workers never send the same
/// mail; a mail sent just before a crash, or by a relay whose session broke before it recorded the mail, is sent again
/// by the relay that comes next: the pickup sender finds its file and writes nothing; an SMTP server may get a second
/// copy with the same Message-ID.
/// </summary>
public sealed class OrderMailRelay(
    OrdersDatabase orders, IOrderMailSender sender, OrderMailSignal signal, TimeProvider clock, ResiliencePipelineProvider<string> pipelines,
    ILogger<OrderMailRelay> logger)
    : SingleActiveRelay<OrderMailSignal>(orders, signal, pipelines)
{
    protected override string Name => "order-mail";

    protected override long LeaseLock => 7261738;

    protected override int BatchSize => 32;

    protected override TimeSpan IdlePoll => TimeSpan.FromSeconds(2);

    protected override async Task<int> RelayBatchAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        await using var transaction = await session.BeginTransactionAsync(cancellationToken);
        var owed = await OrderStatements.OwedMailsAsync(session, transaction, BatchSize, cancellationToken);
        if (owed.Count == 0)
        {
            return 0;
        }

        var settled = new List<MailToSend>(owed.Count);
        Exception? failure = null;
        foreach (var mail in owed)
        {
            try
            {
                await sender.SendAsync(mail, cancellationToken);
                settled.Add(mail);
            }
            catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
            {
                // Trying again cannot help: record it and stop owing the mail.
                logger.LogError("The mail for order {OrderId} is undeliverable: the SMTP server refused the recipient ({Problem}).", mail.OrderId, e.Message);
                settled.Add(mail);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure = e;
                break;
            }
        }

        if (settled.Count > 0)
        {
            await OrderStatements.MarkMailsSentAsync(session, transaction, settled, clock.GetUtcNow(), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (failure is not null)
        {
            throw failure;
        }

        return settled.Count;
    }
}
