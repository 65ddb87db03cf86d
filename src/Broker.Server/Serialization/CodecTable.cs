using Broker.Protocol.Serialization;

namespace Broker.Server.Serialization;

/// <summary>
/// The messages one serializer knows, one row each: type, manifest, writer, reader. Adding a message is one
/// <see cref="Add{T}"/> line. Persisted formats carry their version in the manifest (<c>PS@2</c>): a new layout
/// gets a new manifest and the old row stays, so a node reads what an older version wrote.
/// </summary>
internal sealed class CodecTable
{
    public delegate object Reader(ref WireReader r, byte[] bytes);

    private readonly Dictionary<Type, (string Manifest, Action<WireWriter, object> Write, Func<object, int>? ExactSize)> _byType = new();
    private readonly Dictionary<string, Reader> _byManifest = new(StringComparer.Ordinal);

    /// <summary>A message type written under <paramref name="manifest"/>. <paramref name="exactSize"/>, for messages that carry record batches, sizes the buffer exactly so it is the final array.</summary>
    public CodecTable Add<T>(string manifest, Action<WireWriter, T> write, Reader read, Func<T, int>? exactSize = null)
    {
        _byType[typeof(T)] = (manifest, (w, o) => write(w, (T)o), exactSize is null ? null : o => exactSize((T)o));
        _byManifest[manifest] = read;
        return this;
    }

    /// <summary>An older manifest still read (what an earlier version persisted), never written.</summary>
    public CodecTable AddLegacy(string manifest, Reader read)
    {
        _byManifest[manifest] = read;
        return this;
    }

    public string? Manifest(object o) => _byType.TryGetValue(o.GetType(), out var row) ? row.Manifest : null;

    public byte[]? ToBinary(object o)
    {
        if (!_byType.TryGetValue(o.GetType(), out var row)) return null;
        using var w = row.ExactSize is { } size ? WireWriter.WithExactSize(size(o)) : new WireWriter();
        row.Write(w, o);
        return w.ToArray();
    }

    /// <summary>
    /// <paramref name="value"/> as its manifest followed by its fields, one self-describing value (a metadata log entry,
    /// a stored table entry); <paramref name="what"/> names it in errors. Read back with <see cref="FromTagged"/>.
    /// </summary>
    public byte[] ToTagged(object value, string what)
    {
        var manifest = Manifest(value) ?? throw new ArgumentException($"no {what} layout for {value.GetType().Name}", nameof(value));
        var body = ToBinary(value)!;
        using var w = new WireWriter(body.Length + 16);
        w.WriteString(manifest);
        w.WriteBytes(body);
        return w.ToArray();
    }

    /// <summary>Reads what <see cref="ToTagged"/> wrote; a manifest this version does not know, or trailing bytes, are a <see cref="WireFormatException"/>.</summary>
    public object FromTagged(ReadOnlyMemory<byte> bytes, string what)
    {
        var r = new WireReader(bytes);
        var manifest = r.ReadString() ?? throw new WireFormatException($"{what} without a manifest");
        var body = r.ReadBytesAsMemory().ToArray();
        r.EnsureEnd();
        return TryRead(body, manifest, out var value) ? value : throw new WireFormatException($"unknown {what} manifest '{manifest}': written by a newer version?");
    }

    public bool TryRead(byte[] bytes, string manifest, out object message)
    {
        if (!_byManifest.TryGetValue(manifest, out var read))
        {
            message = null!;
            return false;
        }
        var r = new WireReader(bytes);
        message = read(ref r, bytes);
        return true;
    }
}
