// What a stranger on the network sends a node's ports (issue 19, must-show 3), linked into each test project that probes them.
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Broker.Tests;

/// <summary>
/// A stranger's probes: garbage, hand-crafted Akka.Remote frames, and a TLS client with a self-signed certificate that
/// claims to be a node. Each sends its bytes and says whether the port closed without answering a byte.
/// </summary>
internal static class Strangers
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    /// <summary>An Akka.Remote-style length prefix, then random bytes that are no TLS record and no frame of ours.</summary>
    public static byte[] Garbage() => [0, 0, 0, 40, .. RandomNumberGenerator.GetBytes(40)];

    /// <summary>
    /// A length-prefixed frame tagged with Akka's JSON serializer's id (1) whose payload names a type to instantiate
    /// (<c>$type</c>), as an attacker would hand-craft it for an Akka.Remote port.
    /// </summary>
    public static byte[] JsonTypeFrame()
    {
        var json = Encoding.UTF8.GetBytes("""{"$type":"System.Diagnostics.ProcessStartInfo, System.Diagnostics.Process","FileName":"touch"}""");
        var frame = new byte[8 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 4 + json.Length);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), 1);
        json.CopyTo(frame, 8);
        return frame;
    }

    /// <summary>Sends <paramref name="payload"/> over plain TCP; true when the port closes (or resets) without a byte of answer.</summary>
    public static async Task<bool> PlainIsUnansweredAsync(int port, byte[] payload)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(payload);
        }
        catch (IOException)
        {
            return true; // closed while we were still writing
        }
        return await ClosedWithoutAnswerAsync(stream);
    }

    /// <summary>
    /// A TLS client that presents a self-signed certificate named like a node (CN=node-1) and takes any server
    /// certificate, then sends <paramref name="payload"/>; true when the handshake fails or the port closes without answering.
    /// </summary>
    public static async Task<bool> SelfSignedTlsIsUnansweredAsync(int port, byte[] payload)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var self = new CertificateRequest("CN=node-1", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return await TlsIsUnansweredAsync(port, payload, self);
    }

    /// <summary>As <see cref="SelfSignedTlsIsUnansweredAsync"/>, presenting <paramref name="certificate"/> (e.g. a node-looking one from another CA).</summary>
    public static async Task<bool> TlsIsUnansweredAsync(int port, byte[] payload, X509Certificate2 certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                ClientCertificates = [certificate],
                // The stranger does not know the cluster CA: it takes whatever certificate the port shows.
                RemoteCertificateValidationCallback = (_, serverCertificate, _, _) => serverCertificate is not null,
            });
            // TLS 1.3 reports the server's refusal of a client certificate only on the first read.
            await tls.WriteAsync(payload);
            return await ClosedWithoutAnswerAsync(tls);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return true;
        }
    }

    /// <summary>True when the peer closes the stream without sending a byte (or resets it); false if it answers.</summary>
    public static async Task<bool> ClosedWithoutAnswerAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        var buffer = new byte[256];
        try
        {
            return await stream.ReadAsync(buffer, timeout.Token) == 0;
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException)
        {
            return true;
        }
    }
}
