namespace Broker.Protocol.Records.Compression;

/// <summary>
/// A batch's records decompress to more than the reader allows (<see cref="ByteBufferWriter.MaxCapacity"/>).
/// <see cref="RecordCompression.Decompress"/> turns it into an <see cref="InvalidDataException"/> for readers that
/// only care whether a batch reads; a validating broker catches it to answer with its own error.
/// </summary>
public sealed class DecompressedTooLargeException : IOException
{
    public DecompressedTooLargeException(int limit)
        : base($"the records decompress to more than {limit} bytes") => Limit = limit;

    public DecompressedTooLargeException() : base("the records decompress to more than allowed") { }

    public DecompressedTooLargeException(string message) : base(message) { }

    public DecompressedTooLargeException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The cap that was exceeded, in bytes.</summary>
    public int Limit { get; }
}
