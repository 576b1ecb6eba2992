using System.Security.Cryptography;
using System.Xml.Linq;
using Web.Blazor.KeyRing;

namespace Tests.Unit.Web;

public sealed class KeyRingEncryptionTests
{
    private const string Secret = "a-secret-of-forty-eight-characters-for-the-tests";

    private static readonly XElement Key = XElement.Parse(
        """<descriptor><encryption algorithm="AES_256_CBC" /><masterKey><value>c2VjcmV0LWtleS1tYXRlcmlhbA==</value></masterKey></descriptor>""");

    [Fact]
    public void AKeyComesBackAsItWentInAndIsNotReadableInBetween()
    {
        var encryption = new KeyRingEncryption(Secret);

        var stored = encryption.Encrypt(Key);

        Assert.DoesNotContain("masterKey", stored.ToString());
        Assert.DoesNotContain("c2VjcmV0LWtleS1tYXRlcmlhbA==", stored.ToString());
        Assert.Equal(Key.ToString(), encryption.Decrypt(stored).ToString());
    }

    [Fact]
    public void TheSameKeyIsNeverStoredTheSameWayTwice()
    {
        var encryption = new KeyRingEncryption(Secret);

        Assert.NotEqual(encryption.Encrypt(Key).ToString(), encryption.Encrypt(Key).ToString());
    }

    [Fact]
    public void AnotherSecretCannotReadTheKeyAndSaysWhy()
    {
        var stored = new KeyRingEncryption(Secret).Encrypt(Key);

        var problem = Assert.Throws<CryptographicException>(() => new KeyRingEncryption(Secret + "-another").Decrypt(stored));
        Assert.Contains("the site's replicas must share one", problem.Message);
    }

    [Fact]
    public void AChangedByteIsRefused()
    {
        var encryption = new KeyRingEncryption(Secret);
        var stored = encryption.Encrypt(Key);
        var bytes = Convert.FromBase64String(stored.Element("value")!.Value);
        bytes[^1] ^= 1;
        stored.Element("value")!.Value = Convert.ToBase64String(bytes);

        Assert.ThrowsAny<CryptographicException>(() => encryption.Decrypt(stored));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("too-short")]
    public void ASiteWithoutAStrongSecretDoesNotStart(string? secret)
    {
        var problem = Assert.Throws<InvalidOperationException>(() => new KeyRingEncryption(secret));
        Assert.Contains(KeyRingEncryption.Setting, problem.Message);
    }
}
