using AspireShop.Ordering.Data;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>
/// Sends through the configured SMTP server with MailKit, keeping one authenticated connection open between mails and
/// batches (MailKit pipelines each message's commands where the server offers PIPELINING) and reconnecting after any
/// failure. A recipient the server refuses is logged and settled: trying again cannot help.
/// </summary>
public sealed class SmtpMailSender(IOptions<MailOptions> options, ILogger<SmtpMailSender> logger) : IOrderMailSender, IAsyncDisposable
{
    private readonly MailboxAddress _from = MailboxAddress.Parse(options.Value.From);
    private readonly SmtpOptions _smtp = options.Value.Smtp;
    private readonly SemaphoreSlim _connection = new(1, 1);
    private SmtpClient? _client;

    public async Task SendAsync(IReadOnlyList<MailToSend> mails, ICollection<Guid> settled, CancellationToken cancellationToken)
    {
        await _connection.WaitAsync(cancellationToken);
        try
        {
            foreach (var mail in mails)
            {
                var client = await ConnectedClientAsync(cancellationToken);
                try
                {
                    await client.SendAsync(mail.ToMessage(_from), cancellationToken);
                }
                catch (SmtpCommandException e) when (e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
                {
                    logger.LogError("The mail for order {OrderId} is undeliverable: the SMTP server refused the recipient ({Problem}).", mail.OrderId, e.Message);
                }

                settled.Add(mail.OrderId);
            }
        }
        catch
        {
            _client?.Dispose();
            _client = null;
            throw;
        }
        finally
        {
            _connection.Release();
        }
    }

    private async Task<SmtpClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true })
        {
            return _client;
        }

        _client?.Dispose();
        _client = new SmtpClient { Timeout = 30_000 };
        await _client.ConnectAsync(_smtp.Host!, _smtp.Port, _smtp.Security, cancellationToken);
        if (!string.IsNullOrEmpty(_smtp.UserName))
        {
            await _client.AuthenticateAsync(_smtp.UserName, _smtp.Password!, cancellationToken);
        }

        return _client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is { IsConnected: true })
        {
            await _client.DisconnectAsync(quit: true);
        }

        _client?.Dispose();
        _connection.Dispose();
    }
}
