using Ordering.Worker.Mail;

namespace Tests.Unit.Mail;

public sealed class MailOptionsTests
{
    [Fact]
    public void TheDefaultsWriteToThePickupFolder()
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
        ], options.Problems());
    }

    [Fact]
    public void WithoutSmtpThePickupFolderIsNeeded()
        => Assert.Equal(["Mail:PickupDirectory is empty and no Mail:Smtp:Host is set."], new MailOptions { PickupDirectory = " " }.Problems());
}
