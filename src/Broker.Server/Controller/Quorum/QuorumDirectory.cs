using System.Globalization;
using System.Text;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// The quorum member's directory: <c>quorum.meta</c> (cluster id, node id, voter list) and <c>wal/</c> (the Raft log,
/// term and vote, snapshots). Formatting is an explicit act, as Kafka's <c>kafka-storage format</c>: a voter only
/// starts on a directory formatted for this cluster, this node and these voters. A voter whose directory is missing,
/// belongs to another cluster, or lost its log refuses to start instead of joining with an empty log: a voter that
/// forgot what it acknowledged (its log, its vote) could help elect a leader that lacks committed records.
/// </summary>
public static class QuorumDirectory
{
    public const string MetaFileName = "quorum.meta";
    public const string LogDirectoryName = "wal";

    public static string LogDirectory(string directory) => Path.Combine(directory, LogDirectoryName);

    /// <summary>Prepares an empty directory for a new cluster. Formatting again with the same identity is a no-op; anything else is refused.</summary>
    public static void Format(QuorumSettings settings)
    {
        if (settings.Validate() is { } invalid) throw new ArgumentException(invalid, nameof(settings));
        var meta = Path.Combine(settings.Directory, MetaFileName);
        if (File.Exists(meta))
        {
            Check(settings);
            return;
        }
        if (System.IO.Directory.Exists(settings.Directory) && System.IO.Directory.EnumerateFileSystemEntries(settings.Directory).Any())
            throw new InvalidDataException($"{settings.Directory} is not empty but holds no {MetaFileName}: refusing to format over unknown files");
        System.IO.Directory.CreateDirectory(LogDirectory(settings.Directory));
        var temp = meta + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            file.Write(Encoding.UTF8.GetBytes(Render(settings)));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, meta);
    }

    /// <summary>Throws <see cref="InvalidDataException"/>, naming the fix, unless the directory was formatted for exactly these settings and still holds its log.</summary>
    public static void Check(QuorumSettings settings)
    {
        if (settings.Validate() is { } invalid) throw new ArgumentException(invalid, nameof(settings));
        var meta = Path.Combine(settings.Directory, MetaFileName);
        if (!File.Exists(meta))
        {
            throw new InvalidDataException(
                $"{settings.Directory} holds no {MetaFileName}: this voter was never formatted, or lost its disk. A new cluster formats every voter first; " +
                "a voter of a running cluster must not come back empty (it could elect a leader without committed metadata): restore its directory from a backup, or replace it as a new voter");
        }
        var stored = Parse(File.ReadAllText(meta));
        if (stored.GetValueOrDefault("cluster-id") != settings.ClusterId)
            throw new InvalidDataException($"{settings.Directory} belongs to metadata cluster '{stored.GetValueOrDefault("cluster-id")}', not '{settings.ClusterId}'");
        if (stored.GetValueOrDefault("node-id") != settings.NodeId.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{settings.Directory} belongs to voter {stored.GetValueOrDefault("node-id")}, not {settings.NodeId}");
        if (stored.GetValueOrDefault("voters") != settings.VotersText)
        {
            throw new InvalidDataException(
                $"{settings.Directory} was formatted for voters {stored.GetValueOrDefault("voters")}, but this node is configured with {settings.VotersText}; the voter set is fixed, give every voter the same list");
        }
        if (!System.IO.Directory.Exists(LogDirectory(settings.Directory)))
            throw new InvalidDataException($"{settings.Directory} lost its Raft log ({LogDirectoryName}/): this voter must not vote with an empty log; restore it from a backup");
    }

    public static bool IsFormatted(string directory) => File.Exists(Path.Combine(directory, MetaFileName));

    private static string Render(QuorumSettings s) =>
        $"cluster-id={s.ClusterId}\nnode-id={s.NodeId.ToString(CultureInfo.InvariantCulture)}\nvoters={s.VotersText}\n";

    private static Dictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) values[line[..eq]] = line[(eq + 1)..];
        }
        return values;
    }
}
