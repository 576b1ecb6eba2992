using Ordering.Worker.Mail;

namespace Tests.Unit.Mail;

public sealed class MailOptionsTests
{
    [Fact]
    public void TheDefaultsAreValid()
    {
        var options = new MailOptions();

        Assert.False(options.UsesSmtp);
        Assert.Empty(options.Problems());
    }

    [Fact]
    public void EveryProblemIsNamedAtOnce()
    {
        var options = new MailOptions
        {
            From = "not an address",
            Smtp = new SmtpOptions { Host = "smtp.example.com", Port = 70_000, UserName = "shop" },
        };

        Assert.Equal(
        [
            "Mail:From 'not an address' is not a mail address.",
            "Mail:Smtp:Port 70000 is not a TCP port.",
            "Mail:Smtp:UserName and Mail:Smtp:Password are set together or not at all.",
            "Mail:Smtp:Security is Auto: with Mail:Smtp:UserName set it must be StartTls or SslOnConnect, so the password never travels unencrypted.",
        ], options.Problems());
    }

    [Theory]
    [InlineData(MailKit.Security.SecureSocketOptions.StartTls, true)]
    [InlineData(MailKit.Security.SecureSocketOptions.SslOnConnect, true)]
    [InlineData(MailKit.Security.SecureSocketOptions.Auto, false)]
    [InlineData(MailKit.Security.SecureSocketOptions.StartTlsWhenAvailable, false)]
    [InlineData(MailKit.Security.SecureSocketOptions.None, false)]
    public void CredentialsAreSentOnlyOverTls(MailKit.Security.SecureSocketOptions security, bool allowed)
    {
        var options = new MailOptions { Smtp = new SmtpOptions { Host = "smtp.example.com", UserName = "shop", Password = "secret", Security = security } };

        Assert.Equal(allowed, !options.Problems().Any());
    }
}
