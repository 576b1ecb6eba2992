using System.Globalization;
using AspireShop.Ordering.Data;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Ordering.Worker.Mail;

/// <summary>
/// Writes each mail as an .eml file into a pickup folder, which any SMTP relay or a developer can pick up. The file
/// is named after the order and written atomically (temporary file, then rename), and an existing file is never
/// written again: a send repeated after a crash cannot mail twice. Every send asked of it is recorded, one line each,
/// in this process's attempt log beside the mails (<c>send-attempts-PID.log</c>: the order id, then <c>written</c> or
/// <c>already-written</c>), so a repeated send shows even though it delivers nothing new. One log per process, because
/// two workers share the folder and appends from two processes are not atomic through .NET's file API.
/// </summary>
public sealed class PickupDirectoryMailSender(IOptions<MailOptions> options, IHostEnvironment environment) : IOrderMailSender, IAsyncDisposable
{
    public const string AttemptLogPattern = "send-attempts-*.log";
    public const string Written = "written";
    public const string AlreadyWritten = "already-written";

    private readonly MailboxAddress _from = MailboxAddress.Parse(options.Value.From);
    private readonly SemaphoreSlim _logging = new(1, 1);
    private StreamWriter? _attempts;

    public string PickupDirectory { get; } = Path.GetFullPath(options.Value.PickupDirectory, environment.ContentRootPath);

    public async Task SendAsync(MailToSend mail, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(PickupDirectory);
        var path = Path.Combine(PickupDirectory, $"order-{mail.OrderId}.eml");
        if (File.Exists(path))
        {
            await RecordAttemptAsync(mail.OrderId, AlreadyWritten, cancellationToken);
            return;
        }

        var temporary = path + ".tmp";
        await mail.ToMessage(_from).WriteToAsync(temporary, cancellationToken);
        File.Move(temporary, path, overwrite: false);
        await RecordAttemptAsync(mail.OrderId, Written, cancellationToken);
    }

    private async Task RecordAttemptAsync(Guid orderId, string outcome, CancellationToken cancellationToken)
    {
        await _logging.WaitAsync(cancellationToken);
        try
        {
            _attempts ??= new StreamWriter(new FileStream(
                Path.Combine(PickupDirectory, AttemptLogPattern.Replace("*", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)),
                FileMode.Append, FileAccess.Write, FileShare.Read));
            await _attempts.WriteAsync($"{orderId}\t{outcome}\n".AsMemory(), cancellationToken);
            await _attempts.FlushAsync(cancellationToken);
        }
        finally
        {
            _logging.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_attempts is not null)
        {
            await _attempts.DisposeAsync();
        }

        _logging.Dispose();
    }
}
