using System.CommandLine;
using Broker.Protocol.Records.Compression;

namespace Broker.Cli.Commands;

/// <summary>--compression none|gzip|snappy|lz4|zstd, as Kafka's producer compression.type.</summary>
public static class CompressionOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--compression") { Description = "compression.type of each batch: none, gzip, snappy, lz4 or zstd (default none)", DefaultValueFactory = _ => "none" };
        option.AcceptOnlyFromAmong("none", "gzip", "snappy", "lz4", "zstd");
        return option;
    }

    public static CompressionCodec Parse(string? value) =>
        CompressionCodecs.TryParse(value, out var codec) ? codec : CompressionCodec.None;
}
