// A growable byte buffer the codecs write into, and a write-only Stream over it for the stream-shaped ones.
using System.Buffers;

namespace Broker.Protocol.Records.Compression;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one array that doubles as it fills; <see cref="Reset"/> keeps the array,
/// so a producer's batch builder compresses every batch into the same one. Not thread-safe.
/// </summary>
public sealed class ByteBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer;

    public ByteBufferWriter(int initialCapacity = 4096) => _buffer = new byte[Math.Max(initialCapacity, 256)];

    public int WrittenCount { get; private set; }

    /// <summary>
    /// The most this buffer may hold; growing past it throws <see cref="DecompressedTooLargeException"/>. A node
    /// decompressing what a client sent sets it, so a small crafted batch cannot expand without bound.
    /// </summary>
    public int MaxCapacity { get; set; } = Array.MaxLength;

    /// <summary>Bytes that may still be written before <see cref="MaxCapacity"/>.</summary>
    public int Remaining => MaxCapacity - WrittenCount;

    /// <summary>The array's current size (the memory this writer holds).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>What was written: writable, so a caller can patch a header it reserved first.</summary>
    public Memory<byte> WrittenMemory => _buffer.AsMemory(0, WrittenCount);

    public void Reset() => WrittenCount = 0;

    public void Advance(int count)
    {
        if (count < 0 || count > _buffer.Length - WrittenCount) throw new ArgumentOutOfRangeException(nameof(count));
        WrittenCount += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(WrittenCount);
    }

    private void Ensure(int sizeHint)
    {
        var needed = (long)WrittenCount + Math.Max(sizeHint, 1);
        if (needed > MaxCapacity) throw new DecompressedTooLargeException(MaxCapacity);
        if (needed <= _buffer.Length) return;
        Array.Resize(ref _buffer, (int)Math.Min(MaxCapacity, Math.Max(needed, (long)_buffer.Length * 2)));
    }

    /// <summary>A write-only stream appending to this buffer (for GZipStream).</summary>
    public Stream AsStream() => new WriterStream(this);

    private sealed class WriterStream(ByteBufferWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => writer.WrittenCount;
        public override long Position { get => writer.WrittenCount; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            buffer.CopyTo(writer.GetSpan(buffer.Length));
            writer.Advance(buffer.Length);
        }
    }
}
