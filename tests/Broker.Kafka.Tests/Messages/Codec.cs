using Xunit;

namespace Broker.Kafka.Tests.Messages;

/// <summary>The generated codecs as the tests call them: write a message, read bytes back, and both ways round.</summary>
internal static class Codec
{
    public delegate T ReadFn<out T>(ref KafkaReader reader, short version);

    public static byte[] Encode(IKafkaMessage message, short version)
    {
        using var writer = new KafkaWriter();
        message.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads <paramref name="bytes"/> at <paramref name="version"/> and checks the reader took every byte.</summary>
    public static T Decode<T>(byte[] bytes, short version, ReadFn<T> read)
    {
        var reader = new KafkaReader(bytes);
        var message = read(ref reader, version);
        Assert.Equal(0, reader.Remaining);
        return message;
    }

    /// <summary>Reads hand-built bytes and writes what was read: the same bytes must come out. Returns the message read, for its fields to be checked.</summary>
    public static T RoundTrip<T>(byte[] expected, short version, ReadFn<T> read) where T : IKafkaMessage
    {
        var decoded = Decode(expected, version, read);
        Assert.Equal(expected, Encode(decoded, version));
        return decoded;
    }
}
