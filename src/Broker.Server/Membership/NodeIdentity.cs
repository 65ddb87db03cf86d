using System.Globalization;
using Akka.Actor;
using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// A node's broker id: a positive number created with its data directory and kept in
/// <c>&lt;data-dir&gt;/node.id</c>, so replicas are assigned to ids, not to host:port. A node whose data
/// directory was wiped comes back as a new id: it holds no replica until one is reassigned to it and copied.
/// Every member carries its id as the cluster role <c>node-&lt;id&gt;</c>, so any node can map members to ids.
/// </summary>
public static class NodeIdentity
{
    public const string RolePrefix = "node-";
    public const string RackRolePrefix = "rack-";
    private const string FileName = "node.id";

    /// <summary>Whether <paramref name="dataDirectory"/> already has a node id (it is not a new or wiped directory).</summary>
    public static bool Exists(string dataDirectory) => File.Exists(Path.Combine(dataDirectory, FileName));

    /// <summary>
    /// Reads the id stored in the data directory, or creates one on first start: <paramref name="requested"/>
    /// (Kafka's node.id, e.g. 1, 2, 3 for readable commands) or a random positive one. A data directory keeps
    /// its id: asking for another one is refused, since its replicas are assigned to the stored id.
    /// </summary>
    public static int LoadOrCreate(string dataDirectory, int? requested = null)
    {
        if (requested is <= 0) throw new ArgumentOutOfRangeException(nameof(requested), $"node id must be a positive number, got {requested}");
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path).Trim();
            if (!int.TryParse(text, out var stored) || stored <= 0)
                throw new InvalidDataException($"{path} holds '{text}', not a node id; restore it from a backup, or delete the whole data directory to start this node as a new, empty one");
            if (requested is { } wanted && wanted != stored)
                throw new InvalidDataException($"{dataDirectory} belongs to node {stored}, not {wanted}: its replicas are assigned to node {stored}. Start it with --node-id {stored} (or without --node-id), or give node {wanted} a new data directory");
            return stored;
        }
        var id = requested ?? Random.Shared.Next(1, 1_000_000);
        var temp = path + ".tmp";
        File.WriteAllText(temp, id.ToString(CultureInfo.InvariantCulture));
        File.Move(temp, path);
        return id;
    }

    public static string Role(int nodeId) => RolePrefix + nodeId;

    /// <summary>The node id a member announced in its roles, or -1 for a member without one (a client, an older node).</summary>
    public static int Of(Member member)
    {
        foreach (var role in member.Roles)
        {
            if (role.StartsWith(RolePrefix, StringComparison.Ordinal) && int.TryParse(role.AsSpan(RolePrefix.Length), out var id))
                return id;
        }

        return -1;
    }

    public static string RackRole(string rack) => RackRolePrefix + rack;

    /// <summary>The rack a member announced in its roles, or "" when it has none.</summary>
    public static string RackOf(Member member)
    {
        foreach (var role in member.Roles)
            if (role.StartsWith(RackRolePrefix, StringComparison.Ordinal)) return role[RackRolePrefix.Length..];
        return "";
    }

    /// <summary>This node's id, from its own cluster roles.</summary>
    public static int Self(ActorSystem system) => Of(Cluster.Get(system).SelfMember);
}
