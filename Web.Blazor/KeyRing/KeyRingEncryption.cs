using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using AspireShop.Contracts;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Web.Blazor.KeyRing;

/// <summary>
/// Encrypts the site's data-protection keys before they are stored in Redis, with AES-256-GCM under a key derived
/// from the secret <c>DataProtection:KeyEncryptionKey</c> (the AppHost's <c>site-key-encryption-key</c> parameter).
/// The keys sign and encrypt the buyers' sign-in cookies and antiforgery tokens, and Redis is shared with services that
/// have no business reading them. ASP.NET Core's own encryptors need a certificate, Windows DPAPI or Azure Key Vault;
/// a secret string is what Aspire and azd generate and store, hence this small encryptor of our own.
/// </summary>
public sealed class KeyRingEncryption
{
    public const string Setting = "DataProtection:KeyEncryptionKey";

    /// <summary>Where the key ring is kept in Redis.</summary>
    public const string RedisKey = CacheKeyspaces.SiteKeyRing;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("aspireshop-web data-protection key ring");

    private readonly byte[] _key;

    public KeyRingEncryption(string? secret)
    {
        if (secret is null || Encoding.UTF8.GetByteCount(secret) < 32)
        {
            throw new InvalidOperationException(
                $"{Setting} must be set to a secret of at least 32 bytes, which encrypts the site's data-protection keys in Redis; the AppHost passes its site-key-encryption-key parameter.");
        }

        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: Purpose);
        KeyId = Convert.ToHexString(SHA256.HashData(_key))[..16];
    }

    /// <summary>Names the encryption key (a hash of it, not the key) so a key ring encrypted under another one says so.</summary>
    public string KeyId { get; }

    public XElement Encrypt(XElement plaintext)
    {
        var clear = Encoding.UTF8.GetBytes(plaintext.ToString(SaveOptions.DisableFormatting));
        var sealedBytes = new byte[NonceSize + TagSize + clear.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, clear, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), Purpose);
        return new XElement("encryptedKey",
            new XAttribute("algorithm", "AES-256-GCM"),
            new XAttribute("keyId", KeyId),
            new XElement("value", Convert.ToBase64String(sealedBytes)));
    }

    public XElement Decrypt(XElement encrypted)
    {
        var keyId = (string?)encrypted.Attribute("keyId");
        if (keyId != KeyId)
        {
            throw new CryptographicException(
                $"A data-protection key was encrypted under key {keyId}, not under this {Setting} ({KeyId}): the site's replicas must share one.");
        }

        var sealedBytes = Convert.FromBase64String((string?)encrypted.Element("value") ?? "");
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("An encrypted data-protection key is too short to be one.");
        }

        var clear = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), clear, Purpose);
        return XElement.Parse(Encoding.UTF8.GetString(clear));
    }

    /// <summary>What the key manager calls to encrypt a new key; the stored element names <see cref="Decryptor"/>.</summary>
    public sealed class Encryptor(KeyRingEncryption encryption) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(encryption.Encrypt(plaintextElement), typeof(Decryptor));
    }

    /// <summary>Created by the key manager, by type name, from its services, to read a stored key.</summary>
    public sealed class Decryptor(IServiceProvider services) : IXmlDecryptor
    {
        public XElement Decrypt(XElement encryptedElement) => services.GetRequiredService<KeyRingEncryption>().Decrypt(encryptedElement);
    }
}
