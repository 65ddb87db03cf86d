using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Akka.Event;
using Broker.Kafka;
using Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

/// <summary>
/// One Kafka client connection: reads int32-size-prefixed frames with a <see cref="PipeReader"/>, decodes
/// each request at once (a malformed one closes this connection and nothing else) and starts its handling;
/// a second loop writes the responses strictly in request order, as Kafka clients expect, skipping acks=0
/// produces, which get none. At most <see cref="KafkaSettings.MaxInFlightPerConnection"/> requests are
/// handled at once per connection; beyond that the reader waits, and TCP pushes back on the client.
/// </summary>
internal sealed class KafkaConnection
{
    private readonly Socket _socket;
    private readonly KafkaRequestHandler _handler;
    private readonly KafkaSettings _settings;
    private readonly ILoggingAdapter _log;
    private readonly string _remote;
    private readonly ParkedFetches _parkedFetches = new();

    public KafkaConnection(Socket socket, KafkaRequestHandler handler, KafkaSettings settings, ILoggingAdapter log)
    {
        _socket = socket;
        _handler = handler;
        _settings = settings;
        _log = log;
        _remote = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    /// <summary>TLS to handshake before the first frame (the SSL security protocol), or null for PLAINTEXT.</summary>
    public Security.KafkaTls? Tls { get; init; }

    /// <summary>This connection's SASL exchange when the listener authenticates (SASL_*), or null.</summary>
    public Security.Sasl.SaslAuthenticator? Sasl { get; init; }

    /// <summary>Who is on the other end: the SASL user once authenticated, else the TLS client certificate's CN, else ANONYMOUS.</summary>
    private KafkaPrincipal Principal => KafkaPrincipal.Of(Sasl?.Principal ?? _tlsPrincipal, _remote);

    private string _tlsPrincipal = "ANONYMOUS";

    /// <summary>A response to come, in request order; a null response (acks=0) writes nothing.</summary>
    private readonly record struct PendingResponse(Task<IKafkaMessage?> Response, int CorrelationId, short Version, short HeaderVersion);

    public async Task RunAsync(CancellationToken stopping)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        await using var network = new NetworkStream(_socket, ownsSocket: true);
        Stream stream = network;
        if (Tls is not null)
        {
            if (await Tls.AcceptAsync(network, _remote, _log, cts.Token) is not { } session) return;
            stream = session.Stream;
            _tlsPrincipal = session.Principal;
        }
        await using var _ = stream;
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        var pending = Channel.CreateBounded<PendingResponse>(new BoundedChannelOptions(_settings.MaxInFlightPerConnection)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        // Without TLS the responses go to the socket in gather writes; with TLS every byte must pass the SslStream.
        var writing = WriteResponsesAsync(Tls is null ? _socket : null, stream, pending.Reader, cts);
        try
        {
            await ReadRequestsAsync(input, pending.Writer, cts.Token);
            pending.Writer.TryComplete();
            await writing; // the client closed its side: answer what it already sent, then close
        }
        catch (Exception ex) when (ex is KafkaProtocolException or OverflowException)
        {
            _log.Warning("kafka: closing connection from {0}: {1}", _remote, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the node is stopping.
        }
        catch (Exception ex)
        {
            _log.Error(ex, "kafka: closing connection from {0} after an unexpected error", _remote);
        }
        finally
        {
            pending.Writer.TryComplete();
            await cts.CancelAsync();
            await input.CompleteAsync();
            try
            {
                await writing;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Already reported or not worth reporting: the connection is going away.
            }
            catch (Exception ex)
            {
                _log.Error(ex, "kafka: a response to {0} failed", _remote);
            }
        }
    }

    private async Task ReadRequestsAsync(PipeReader input, ChannelWriter<PendingResponse> pending, CancellationToken ct)
    {
        while (true)
        {
            var result = await input.ReadAsync(ct);
            var buffer = result.Buffer;
            while (TryReadFrame(ref buffer, out var frame))
            {
                var response = Dispatch(frame);
                await pending.WriteAsync(response, ct);
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (buffer.Length > 0) throw new KafkaProtocolException($"connection closed in the middle of a request ({buffer.Length} bytes of it received)");
                return;
            }
        }
    }

    /// <summary>
    /// Cuts one whole frame off the buffer into its own array: the request's records are handed to the
    /// partitions as slices of it, which may outlive the pipe's buffer.
    /// </summary>
    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[] frame)
    {
        frame = [];
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < 8 || size > _settings.MaxFrameBytes)
            throw new KafkaProtocolException($"request frame of {size} bytes is outside 8..{_settings.MaxFrameBytes} (broker.kafka.max-frame-bytes)");
        if (buffer.Length < 4 + (long)size) return false;
        frame = new byte[size];
        buffer.Slice(4, size).CopyTo(frame);
        buffer = buffer.Slice(4 + size);
        return true;
    }

    private PendingResponse Dispatch(byte[] frame)
    {
        var apiKey = BinaryPrimitives.ReadInt16BigEndian(frame);
        var version = BinaryPrimitives.ReadInt16BigEndian(frame.AsSpan(2));
        var api = KafkaApis.Find(apiKey) ?? throw new KafkaProtocolException($"unknown API key {apiKey} (version {version})");
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader, api.RequestHeaderVersion(version));
        if (!api.Serves(version))
        {
            // KIP-511: a client newer than us learns our ApiVersions range from a v0 answer; any other API at a
            // version we never advertised is a client bug, and Kafka closes the connection for it too.
            if (apiKey != ApiVersionsRequest.Api)
                throw new KafkaProtocolException($"{api.Name} v{version} is not supported (versions {api.MinServed}-{api.MaxAdvertised})");
            return new PendingResponse(Task.FromResult<IKafkaMessage?>(KafkaRequestHandler.UnsupportedApiVersions(api)), header.CorrelationId, 0, 0);
        }
        if (Sasl is { IsAuthenticated: false } && apiKey != ApiVersionsRequest.Api)
        {
            var answer = Security.Sasl.KafkaSaslGate.Handle(Sasl, apiKey, api.Name, ref reader, version, _remote, _log);
            return new PendingResponse(answer, header.CorrelationId, version, api.ResponseHeaderVersion(version));
        }
        var response = _handler.Handle(header, ref reader, _parkedFetches, Principal);
        return new PendingResponse(response, header.CorrelationId, version, api.ResponseHeaderVersion(version));
    }

    /// <summary>Writes the responses in request order; if one cannot be written, the whole connection ends (the reader is cancelled too).</summary>
    private static async Task WriteResponsesAsync(Socket? socket, Stream stream, ChannelReader<PendingResponse> pending, CancellationTokenSource connection)
    {
        try
        {
            await WriteInOrderAsync(socket, stream, pending, connection.Token);
        }
        catch
        {
            await connection.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// Records sections at least this large go to the socket from where they are stored (a gather write of the frame's
    /// pieces); smaller ones are copied into the frame, where one more piece would cost more than the copy.
    /// </summary>
    private const int SpliceRecordsFrom = 8 * 1024;

    private static async Task WriteInOrderAsync(Socket? socket, Stream stream, ChannelReader<PendingResponse> pending, CancellationToken ct)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        var send = new List<ArraySegment<byte>>();
        await foreach (var next in pending.ReadAllAsync(ct))
        {
            var message = await next.Response;
            if (message is null) continue;
            using var writer = new KafkaWriter(4096, SpliceRecordsFrom);
            var size = writer.ReserveInt32();
            writer.WriteInt32(next.CorrelationId);
            if (next.HeaderVersion >= 1) writer.WriteUVarint(0); // response header v1: no tagged fields
            message.Write(writer, next.Version);
            writer.PatchInt32(size, writer.Length - 4);
            segments.Clear();
            writer.GetSegments(segments);
            if (socket is not null)
            {
                await SendAllAsync(socket, segments, send, ct);
                continue;
            }
            foreach (var segment in segments) await stream.WriteAsync(segment, ct); // through TLS: no gather write
            await stream.FlushAsync(ct);
        }
    }

    /// <summary>One gather write (sendmsg) of the pieces; a partial send is continued where it stopped.</summary>
    private static async Task SendAllAsync(Socket socket, List<ReadOnlyMemory<byte>> segments, List<ArraySegment<byte>> send, CancellationToken ct)
    {
        send.Clear();
        long total = 0;
        foreach (var segment in segments)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array)) array = segment.ToArray(); // not array-backed: copied, which stored batches never need
            send.Add(array);
            total += array.Count;
        }
        while (total > 0)
        {
            ct.ThrowIfCancellationRequested();
            var sent = await socket.SendAsync(send, SocketFlags.None);
            total -= sent;
            while (sent > 0)
            {
                if (sent >= send[0].Count)
                {
                    sent -= send[0].Count;
                    send.RemoveAt(0);
                }
                else
                {
                    send[0] = send[0][sent..];
                    sent = 0;
                }
            }
        }
    }
}
