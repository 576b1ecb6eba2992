using System.Globalization;
using System.Text;
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
/// <remarks>
/// The files are written with synchronous calls, a batch in one go on the relay's thread: on Linux .NET runs an
/// asynchronous file write as the same system call queued to the thread pool, and with one small file per order that
/// hop, and a flush of the attempt log per mail, were most of what the worker spent on mail (bench/profile-orders.sh).
/// A batch is a relay's 32 mails, a few milliseconds of I/O.
/// </remarks>
public sealed class PickupDirectoryMailSender(IOptions<MailOptions> options, IHostEnvironment environment) : IOrderMailSender, IDisposable
{
    public const string AttemptLogPattern = "send-attempts-*.log";
    public const string Written = "written";
    public const string AlreadyWritten = "already-written";

    private readonly MailboxAddress _from = MailboxAddress.Parse(options.Value.From);
    private readonly Lock _writing = new();
    private readonly MemoryStream _message = new();
    private readonly StringBuilder _attempts = new();
    private FileStream? _attemptLog;

    public string PickupDirectory { get; } = Path.GetFullPath(options.Value.PickupDirectoryOrDefault, environment.ContentRootPath);

    public Task SendAsync(IReadOnlyList<MailToSend> mails, ICollection<Guid> settled, CancellationToken cancellationToken)
    {
        lock (_writing)
        {
            Directory.CreateDirectory(PickupDirectory);
            _attempts.Clear();
            try
            {
                foreach (var mail in mails)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    _attempts.Append(mail.OrderId).Append('\t').Append(Write(mail)).Append('\n');
                    settled.Add(mail.OrderId);
                }
            }
            finally
            {
                RecordAttempts();
            }
        }

        return Task.CompletedTask;
    }

    private string Write(MailToSend mail)
    {
        var path = Path.Combine(PickupDirectory, $"order-{mail.OrderId}.eml");
        if (File.Exists(path))
        {
            return AlreadyWritten;
        }

        _message.SetLength(0);
        mail.ToMessage(_from).WriteTo(_message);
        var temporary = path + ".tmp";
        // A temporary file left by a crash is removed rather than truncated: ext4 flushes a file truncated on open to
        // disk as it is closed (its auto_da_alloc heuristic), and the profile showed that flush as a third of the
        // mail's cost. A new file is written back with the others.
        File.Delete(temporary);
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            file.Write(_message.GetBuffer(), 0, (int)_message.Length);
        }

        File.Move(temporary, path, overwrite: false);
        return Written;
    }

    private void RecordAttempts()
    {
        if (_attempts.Length == 0)
        {
            return;
        }

        _attemptLog ??= new FileStream(
            Path.Combine(PickupDirectory, AttemptLogPattern.Replace("*", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)),
            FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _attemptLog.Write(Encoding.UTF8.GetBytes(_attempts.ToString()));
    }

    public void Dispose()
    {
        _attemptLog?.Dispose();
        _message.Dispose();
    }
}
