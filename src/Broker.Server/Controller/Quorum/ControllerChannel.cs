using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// How a voter that is not the Raft leader hands a proposal to the one that is: one TCP connection per proposal,
/// a length-prefixed encoded record out and a length-prefixed encoded result back. DotNext's TCP transport has no
/// message bus, and the quorum must work before (and without) Akka.Cluster membership, so it has its own tiny channel.
/// Each voter publishes this channel's endpoint in its Raft member metadata under <see cref="MetadataKey"/>.
/// With TLS between nodes (broker.security.cluster-ca), both sides do mutual TLS before the first byte of a frame: the
/// channel proposes what it reads to the Raft log as is, so only a node may reach it (docs/security.md).
/// </summary>
internal sealed class ControllerChannel : IAsyncDisposable
{
    public const string MetadataKey = "controller";
    private const int MaxFrameBytes = 16 * 1024 * 1024;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly Func<byte[], CancellationToken, Task<byte[]>> _handle;
    private readonly SslServerAuthenticationOptions? _tls;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>A channel that hands each request read to <paramref name="handle"/>; with <paramref name="tls"/> (else plain TCP, for a private network only) every connection must pass that handshake first.</summary>
    public ControllerChannel(IPEndPoint endpoint, Func<byte[], CancellationToken, Task<byte[]>> handle, SslServerAuthenticationOptions? tls = null, ILogger? log = null)
    {
        _listener = new TcpListener(endpoint);
        _handle = handle;
        _tls = tls;
        _log = log ?? NullLogger.Instance;
    }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public void Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(ct).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = ServeAsync(client, ct);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken ct)
    {
        using (client)
        {
            try
            {
                Stream stream = client.GetStream();
                if (_tls is not null)
                {
                    if (await AcceptTlsAsync(stream, client.Client.RemoteEndPoint, ct).ConfigureAwait(false) is not { } ssl) return;
                    stream = ssl;
                }
                await using var _ = stream.ConfigureAwait(false);
                var request = await ReadFrameAsync(stream, ct).ConfigureAwait(false);
                var reply = await _handle(request, ct).ConfigureAwait(false);
                await WriteFrameAsync(stream, reply, ct).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                // stopping
            }
            catch (IOException)
            {
                // the proposer gave up; it treats the outcome as unknown
            }
        }
    }

    /// <summary>The server side of the handshake; null (logged) when the peer is not a node of this cluster, or too slow.</summary>
    private async Task<SslStream?> AcceptTlsAsync(Stream network, EndPoint? remote, CancellationToken ct)
    {
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(_tls!, timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            _log.ChannelHandshakeFailed(remote, ex is OperationCanceledException ? $"none within {HandshakeTimeout.TotalSeconds} s" : ex.Message);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> to the channel at <paramref name="endpoint"/> and says what became of it:
    /// <see cref="Answered"/> with the reply, <see cref="NotSent"/> when no connection was made (a retry is safe, and
    /// the address may be stale), or <see cref="LostAfterSending"/> when the connection failed after the request
    /// may have been received (the controller may have committed it), or <see cref="HandshakeFailed"/> when
    /// <paramref name="tls"/> is set and the peer is not a node of this cluster (nothing was sent).
    /// </summary>
    public static async Task<SendOutcome> SendAsync(IPEndPoint endpoint, byte[] request, SslClientAuthenticationOptions? tls, CancellationToken ct)
    {
        using var client = new TcpClient(endpoint.AddressFamily);
        try
        {
            await client.ConnectAsync(endpoint, ct).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            return new NotSent(ex.SocketErrorCode);
        }
        Stream stream = client.GetStream();
        if (tls is not null)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(HandshakeTimeout);
            try
            {
                await ssl.AuthenticateAsClientAsync(tls, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
                return new HandshakeFailed(ex.Message);
            }
            stream = ssl;
        }
        await using var _ = stream.ConfigureAwait(false);
        try
        {
            // (With TLS 1.3 a server refuses this node's certificate only after the client's side of the handshake has
            // completed, so such a refusal shows here as LostAfterSending although nothing was read.)
            await WriteFrameAsync(stream, request, ct).ConfigureAwait(false);
            return new Answered(await ReadFrameAsync(stream, ct).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return new LostAfterSending(ex.Message);
        }
    }

    /// <summary>What <see cref="SendAsync"/> did with a request.</summary>
    public abstract record SendOutcome;

    /// <summary>The controller answered.</summary>
    public sealed record Answered(byte[] Reply) : SendOutcome;

    /// <summary>No connection: nothing was sent. The address may be stale (a restarted controller listens elsewhere).</summary>
    public sealed record NotSent(SocketError Error) : SendOutcome;

    /// <summary>The connection broke after connecting: the controller may have received, and committed, the request.</summary>
    public sealed record LostAfterSending(string Reason) : SendOutcome;

    /// <summary>The TLS handshake failed (the peer is not a node of this cluster, or too slow): nothing was sent.</summary>
    public sealed record HandshakeFailed(string Reason) : SendOutcome;

    private static async Task WriteFrameAsync(Stream stream, byte[] payload, CancellationToken ct)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        await stream.WriteAsync(frame, ct).ConfigureAwait(false);
    }

    private static async Task<byte[]> ReadFrameAsync(Stream stream, CancellationToken ct)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, ct).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxFrameBytes) throw new IOException($"controller frame of {length} bytes");
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, ct).ConfigureAwait(false);
        return payload;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
