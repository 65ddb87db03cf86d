using System.Globalization;

namespace Broker.Server.Membership;

/// <summary>One member of the cluster as a node last saw it: its broker id and advertised host:port.</summary>
public sealed record KnownMember(int NodeId, string Address);

/// <summary>
/// The cluster this data directory belongs to, as its node last saw it while it was an Up member:
/// <c>&lt;data-dir&gt;/cluster.members</c>, one "id host:port" line per member. It is the guard against islands: a
/// node that starts on a data directory that belonged to a cluster of n nodes becomes Up (and so hosts shards,
/// singletons and elections) only together with a majority of them (<c>akka.cluster.min-nr-of-members</c>), and
/// also looks for them at their last addresses, not only at its configured seeds. A node that ran alone with stale
/// metadata could otherwise elect itself and make the others truncate what they acknowledged meanwhile.
/// </summary>
public static class KnownMembers
{
    public const string FileName = "cluster.members";

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>The members last recorded, or none for a new data directory (or one written before this file existed).</summary>
    public static IReadOnlyList<KnownMember> Load(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path)) return [];
        var members = new List<KnownMember>();
        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
                throw new InvalidDataException($"{path} has a line '{line}' that is not 'node-id host:port'; restore the file, or delete it to start this node without waiting for the others (unsafe: see docs/architecture.md)");
            members.Add(new KnownMember(id, parts[1]));
        }
        return members;
    }

    /// <summary>Writes the members atomically (a crash leaves the old file or the new one, never half of one).</summary>
    public static void Save(string dataDirectory, IEnumerable<KnownMember> members)
    {
        var path = PathIn(dataDirectory);
        var temp = path + ".tmp";
        File.WriteAllLines(temp, members.OrderBy(m => m.NodeId).Select(m => $"{m.NodeId.ToString(CultureInfo.InvariantCulture)} {m.Address}"));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>How many of <paramref name="count"/> members must be together before any of them serves: a majority.</summary>
    public static int Quorum(int count) => count <= 1 ? 1 : count / 2 + 1;
}
