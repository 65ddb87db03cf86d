using System.Diagnostics;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// A private network this test creates for itself (as root): one network namespace per node, each with a veth pair
/// to a bridge in the test's own namespace on a random 10.x.y.0/24, so nodes have addresses of their own and the
/// test's clients reach them through the bridge. <see cref="Cut"/> takes a node's link down (it keeps running, cut
/// off from the other nodes and from clients) and <see cref="Heal"/> brings it back. Dispose deletes it all.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private readonly string _id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..4];
    private readonly string _prefix;
    private readonly int _nodes;
    private bool _disposed;

    /// <summary>Whether this process may create namespaces and links (root, with iproute2).</summary>
    public static bool Available => Environment.IsPrivilegedProcess && (File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip"));

    public NetworkLab(int nodes)
    {
        _nodes = nodes;
        _prefix = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}";
        try
        {
            Ip($"link add {Bridge} type bridge");
            Ip($"addr add {_prefix}.1/24 dev {Bridge}");
            Ip($"link set {Bridge} up");
            for (var i = 0; i < nodes; i++)
            {
                Ip($"netns add {Namespace(i)}");
                Ip($"link add {HostLink(i)} type veth peer name {NodeLink(i)}");
                Ip($"link set {NodeLink(i)} netns {Namespace(i)}");
                Ip($"link set {HostLink(i)} master {Bridge} up");
                Ip($"-n {Namespace(i)} addr add {Host(i)}/24 dev {NodeLink(i)}");
                Ip($"-n {Namespace(i)} link set {NodeLink(i)} up");
                Ip($"-n {Namespace(i)} link set lo up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string Bridge => $"brk{_id}";

    private string HostLink(int index) => $"bk{_id}h{index}";

    private string NodeLink(int index) => $"bk{_id}p{index}";

    /// <summary>The namespace node <paramref name="index"/> runs in (`ip netns exec` it).</summary>
    public string Namespace(int index) => $"brk{_id}n{index}";

    /// <summary>The test process's address on the bridge: clients set it as ClientHost, since nodes answer by connecting back.</summary>
    public string ClientHost => $"{_prefix}.1";

    /// <summary>Node <paramref name="index"/>'s address.</summary>
    public string Host(int index) => $"{_prefix}.{10 + index}";

    /// <summary>Cuts node <paramref name="index"/> off: its link goes down; the process runs on.</summary>
    public void Cut(int index) => Ip($"link set {HostLink(index)} down");

    public void Heal(int index) => Ip($"link set {HostLink(index)} up");

    /// <summary>
    /// Makes node <paramref name="index"/>'s link deliver at most <paramref name="megabitsPerSecond"/> toward it (a
    /// token bucket on the bridge's side of its veth), as a slower network would: what is sent to it faster queues.
    /// </summary>
    public void LimitRateTo(int index, int megabitsPerSecond) =>
        Run("tc", $"qdisc replace dev {HostLink(index)} root tbf rate {megabitsPerSecond}mbit burst 256kb latency 500ms");

    private static void Ip(string arguments) => Run("ip", arguments);

    private static void Run(string tool, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {arguments} failed ({process.ExitCode}): {error.Trim()}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (var i = 0; i < _nodes; i++)
        {
            TryIp($"link del {HostLink(i)}");
            TryIp($"netns del {Namespace(i)}");
        }
        TryIp($"link del {Bridge}");
    }

    private static void TryIp(string arguments)
    {
        try
        {
            Ip(arguments);
        }
        catch (InvalidOperationException)
        {
            // already gone (never created, or removed with its namespace)
        }
    }
}
