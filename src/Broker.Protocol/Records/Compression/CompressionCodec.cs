namespace Broker.Protocol.Records.Compression;

/// <summary>
/// How a RecordBatch v2's records section is compressed: attribute bits 0-2, Kafka's numbering. Values 5-7 are
/// undefined and make a batch invalid (<see cref="BatchValidation.UnknownCompression"/>).
/// </summary>
public enum CompressionCodec : byte
{
    /// <summary>Records as they are.</summary>
    None = 0,
    /// <summary>One gzip stream (RFC 1952).</summary>
    Gzip = 1,
    /// <summary>Snappy in xerial snappy-java's framing (Kafka's Java client); raw snappy is accepted on read (librdkafka's).</summary>
    Snappy = 2,
    /// <summary>One LZ4 frame with independent blocks (what Kafka's Java client can read).</summary>
    Lz4 = 3,
    /// <summary>Zstandard frames.</summary>
    Zstd = 4,
}

/// <summary>Names of the codecs as Kafka's <c>compression.type</c> spells them.</summary>
public static class CompressionCodecs
{
    /// <summary>The highest codec id Kafka defines.</summary>
    public const int Max = (int)CompressionCodec.Zstd;

    /// <summary>Parses none/gzip/snappy/lz4/zstd (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? name, out CompressionCodec codec)
    {
        codec = name?.Trim().ToLowerInvariant() switch
        {
            "none" or "" or null => CompressionCodec.None,
            "gzip" => CompressionCodec.Gzip,
            "snappy" => CompressionCodec.Snappy,
            "lz4" => CompressionCodec.Lz4,
            "zstd" => CompressionCodec.Zstd,
            _ => (CompressionCodec)255,
        };
        return (int)codec <= Max;
    }

    /// <summary>Kafka's name of <paramref name="codec"/> (none, gzip, snappy, lz4, zstd).</summary>
    public static string NameOf(CompressionCodec codec) => codec switch
    {
        CompressionCodec.None => "none",
        CompressionCodec.Gzip => "gzip",
        CompressionCodec.Snappy => "snappy",
        CompressionCodec.Lz4 => "lz4",
        CompressionCodec.Zstd => "zstd",
        _ => $"unknown ({(int)codec})",
    };
}
