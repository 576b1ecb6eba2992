using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AspireShop.Ordering.Data;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using Ordering.Worker.Mail;

namespace Tests.Mail;

/// <summary>
/// The SMTP sender against a real SMTP server (aiosmtpd, the Debian package python3-aiosmtpd, storing what it
/// receives in a Maildir): mails arrive with the buyer's address and the order's Message-ID, and a server outage
/// makes a send fail (so the mail stays owed) until the server is back.
/// </summary>
public sealed class SmtpMailTests : IAsyncLifetime
{
    private readonly string _maildir = Path.Combine(Path.GetTempPath(), "aspireshop-tests", $"maildir-{Guid.NewGuid():N}");
    private readonly int _port = LoopbackPorts.Free();
    private Process? _server;

    public Task InitializeAsync() => StartServerAsync();

    public Task DisposeAsync()
    {
        StopServer();
        if (Directory.Exists(_maildir))
        {
            Directory.Delete(_maildir, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task MailsReachTheServerOverOneConnection()
    {
        await using var sender = NewSender();
        var confirmed = new MailToSend(Guid.NewGuid(), "Grace Hopper", "grace@example.com", OrderStatus.Confirmed, null, 42.50m);
        var rejected = new MailToSend(Guid.NewGuid(), "Alan Turing", "alan@example.com", OrderStatus.Rejected, "Product 9 is out of stock.", 10m);

        var settled = new List<Guid>();
        await sender.SendAsync([confirmed], settled, CancellationToken.None);
        await sender.SendAsync([rejected], settled, CancellationToken.None);

        Assert.Equal([confirmed.OrderId, rejected.OrderId], settled);

        var received = await ReceivedAsync(expected: 2);
        // The server stamps each message with the client's address and port (X-Peer): one connection, one port.
        Assert.Single(received.Select(m => m.Headers["X-Peer"]).Distinct());
        Assert.NotNull(received[0].Headers["X-Peer"]);
        var first = received.Single(m => m.MessageId == confirmed.MessageId());
        Assert.Equal("grace@example.com", first.To.Mailboxes.Single().Address);
        Assert.Contains("is confirmed", first.TextBody);
        Assert.Contains("42.50", first.TextBody);
        var second = received.Single(m => m.MessageId == rejected.MessageId());
        Assert.Contains("Product 9 is out of stock.", second.TextBody);
    }

    [Fact]
    public async Task SendFailsWhileTheServerIsDownAndWorksOnceItIsBack()
    {
        await using var sender = NewSender();
        var settled = new List<Guid>();
        await sender.SendAsync([new MailToSend(Guid.NewGuid(), "Ada", "ada@example.com", OrderStatus.Confirmed, null, 1m)], settled, CancellationToken.None);

        StopServer();
        var owed = new MailToSend(Guid.NewGuid(), "Ada", "ada@example.com", OrderStatus.Confirmed, null, 2m);
        var later = new MailToSend(Guid.NewGuid(), "Ada", "ada@example.com", OrderStatus.Confirmed, null, 3m);
        await Assert.ThrowsAnyAsync<Exception>(() => sender.SendAsync([owed, later], settled, CancellationToken.None));
        Assert.Single(settled);

        await StartServerAsync();
        await sender.SendAsync([owed, later], settled, CancellationToken.None);
        Assert.Equal(3, settled.Count);
        Assert.Single(await ReceivedAsync(expected: 3), m => m.MessageId == owed.MessageId());
    }

    [Fact]
    public void InvalidSettingsAreNamedAtStart()
    {
        var options = new MailOptions { From = "not an address", Smtp = { Host = "smtp.example.com", Port = 70000, UserName = "shop" } };

        var problems = options.Problems().ToList();

        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("Mail:Smtp:Security"));
        Assert.Contains(problems, p => p.Contains("Mail:From"));
        Assert.Contains(problems, p => p.Contains("Mail:Smtp:Port"));
        Assert.Contains(problems, p => p.Contains("Mail:Smtp:Password"));
        Assert.Empty(new MailOptions().Problems());
    }

    private SmtpMailSender NewSender() => new(Options.Create(new MailOptions
    {
        Smtp = { Host = "127.0.0.1", Port = _port, Security = SecureSocketOptions.None },
    }), NullLogger<SmtpMailSender>.Instance);

    private async Task StartServerAsync()
    {
        // aiosmtpd makes the Maildir (tmp, new, cur) only when the folder does not exist yet.
        Directory.CreateDirectory(Path.GetDirectoryName(_maildir)!);
        // Debian's python3, which has the packaged module, rather than whatever python3 comes first on PATH.
        _server = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{_port}", "-c", "aiosmtpd.handlers.Mailbox", _maildir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var server = _server;
        var accepting = await Eventually.UntilAsync(async () =>
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, up => up || server.HasExited, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));
        Assert.True(accepting, $"the SMTP server did not listen on port {_port}{(server.HasExited ? $": it exited ({await server.StandardError.ReadToEndAsync()})" : "")}");
    }

    private void StopServer()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit();
        }

        _server?.Dispose();
        _server = null;
    }

    private async Task<List<MimeMessage>> ReceivedAsync(int expected)
    {
        var inbox = Path.Combine(_maildir, "new");
        await Eventually.UntilAsync(() => Directory.Exists(inbox) ? Directory.GetFiles(inbox).Length : 0, count => count >= expected,
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        var messages = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(inbox))
        {
            messages.Add(await MimeMessage.LoadAsync(file));
        }

        // Exactly what was sent, each order's mail (its Message-ID) delivered once.
        Assert.Equal(expected, messages.Count);
        Assert.All(messages.GroupBy(m => m.MessageId), perOrder => Assert.Single(perOrder));
        return messages;
    }
}
