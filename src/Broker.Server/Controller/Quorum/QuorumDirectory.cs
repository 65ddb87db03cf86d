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

    /// <summary>Present while a voter formatted by <see cref="Format"/> with <c>catchingUp</c> has not yet joined the voters.</summary>
    public const string CatchingUpFileName = "catching-up";

    public static string LogDirectory(string directory) => Path.Combine(directory, LogDirectoryName);

    /// <summary>
    /// Prepares an empty directory. Formatting again with the same identity is a no-op; anything else is refused.
    /// <paramref name="catchingUp"/>: the voter does not vote until it has caught up from the controller, or until every
    /// voter answers that none holds a log (a node formats its directory itself on a new data directory, which is
    /// also what a wiped disk looks like). Without it the voter votes at once: formatting a new cluster by hand.
    /// </summary>
    public static void Format(QuorumSettings settings, bool catchingUp = false)
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
        if (catchingUp) WriteDurably(Path.Combine(settings.Directory, CatchingUpFileName), "this voter does not vote until it has caught up (docs/architecture.md)\n");
        WriteDurably(meta, Render(settings));
    }

    /// <summary>Whether the voter formatted here has not yet joined the voters (see <see cref="Format"/>).</summary>
    public static bool IsCatchingUp(string directory) => File.Exists(Path.Combine(directory, CatchingUpFileName));

    /// <summary>
    /// Records that the voter has joined the voters: from now on it votes, in this run and after a restart. (Should a
    /// crash undo the delete, the voter only catches up once more before it votes again: safe, if slower.)
    /// </summary>
    public static void MarkCaughtUp(string directory) => File.Delete(Path.Combine(directory, CatchingUpFileName));

    private static void WriteDurably(string path, string text)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            file.Write(Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path);
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
