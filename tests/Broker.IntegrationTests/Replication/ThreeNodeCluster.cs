using Broker.Client;
using Broker.Protocol.Messages;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Real `broker node` processes on loopback (three unless <paramref name="size"/> says otherwise): the first seeds
/// the cluster, the others join it as workers. Nodes can be SIGKILLed and restarted on their own port and data directory. Keeps the order in
/// which the running nodes joined, so a test can find the oldest (the one hosting the singletons).
/// <paramref name="spares"/> adds slots after the first three for nodes a test starts later (a replacement node);
/// with <paramref name="racks"/>, node i runs in rack <c>zone{i}</c> (<see cref="RackOf"/>).
/// With <paramref name="quorum"/> (the default) the metadata is decided by the metadata quorum: node i runs with
/// --node-id i+1, and the first <paramref name="size"/> nodes are its voters; a spare is an observer (it follows the
/// voters' log without voting). Pass quorum: false to test on the Distributed Data store.
/// With <paramref name="network"/>, node i runs in its own network namespace at its own address (<see cref="NetworkLab"/>),
/// so the test can cut it off. <paramref name="nodeConfig"/> is HOCON every node layers over its defaults (--config).
/// </summary>
public sealed class ThreeNodeCluster(int spares = 0, bool racks = false, int size = 3, bool quorum = true, NetworkLab? network = null, string? nodeConfig = null) : IAsyncDisposable
{
    /// <summary>Where node <paramref name="index"/> listens: 127.0.0.1, or its address in the <see cref="NetworkLab"/>.</summary>
    public string Host(int index) => network?.Host(index) ?? "127.0.0.1";

    /// <summary>Where the nodes reach this test's clients (ClientConfig.ClientHost): null on loopback.</summary>
    public string? ClientHost => network?.ClientHost;

    /// <summary>The network the nodes run in, if any (to cut and heal them).</summary>
    public NetworkLab? Network => network;

    // The Raft port of each voter: fixed for the cluster's life, since every voter names every other by it.
    private readonly int[] _voterPorts = Enumerable.Range(0, size).Select(_ => BrokerProcess.FreePort()).ToArray();

    /// <summary>The voters as --voters takes them: 1@127.0.0.1:port,...</summary>
    public string Voters => string.Join(",", _voterPorts.Select((port, i) => $"{i + 1}@{Host(i)}:{port}"));

    /// <summary>Whether the metadata quorum decides this cluster's metadata.</summary>
    public bool Quorum => quorum;

    private string[]? QuorumArgs(int index) =>
        quorum ? ["--node-id", (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--voters", Voters] : null;

    /// <summary>The quorum's arguments and, with a node config, --config and its file.</summary>
    private string[]? NodeArgs(int index)
    {
        if (nodeConfig is null) return QuorumArgs(index);
        var file = Path.Combine(_root, "node-extra.conf");
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(_root);
            File.WriteAllText(file, nodeConfig);
        }
        return [.. QuorumArgs(index) ?? [], "--config", file];
    }

    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-cluster", Guid.NewGuid().ToString("N"));
    private readonly int[] _ports = Enumerable.Range(0, size + spares).Select(_ => BrokerProcess.FreePort()).ToArray();
    // Each node keeps its web port across restarts, so a browser that has its page open sees it come back.
    private readonly int[] _httpPorts = Enumerable.Range(0, size + spares).Select(_ => BrokerProcess.FreePort()).ToArray();
    private readonly BrokerProcess?[] _nodes = new BrokerProcess?[size + spares];

    /// <summary>How many nodes <see cref="StartAsync"/> starts.</summary>
    public int Size => size;
    private readonly List<int> _joinOrder = new();

    public string Bootstrap => string.Join(",", _ports.Select((p, i) => $"{Host(i)}:{p}"));

    /// <summary>The nodes' addresses in this order: a client connects to the first that answers.</summary>
    public string BootstrapIn(params int[] order) => string.Join(",", order.Select(i => $"{Host(i)}:{_ports[i]}"));

    /// <summary>
    /// Waits until the cluster has dropped every killed node (downed and removed), so a node restarted on
    /// the same address joins as a new member rather than racing its own dead incarnation.
    /// </summary>
    public async Task WaitForKilledNodesRemovedAsync()
    {
        var running = _nodes.Count(n => n is not null);
        await Eventually(async () =>
        {
            await using var admin = Admin();
            var status = await admin.GetClusterStatusAsync();
            return status.Brokers.Count(b => b.NodeId > 0) == running; // an unreachable member still counts until it is removed
        }, TimeSpan.FromSeconds(60), $"the cluster down to its {running} running nodes");
    }
    public string Seed => $"{Host(0)}:{_ports[0]}";

    /// <summary>http://host:port of node <paramref name="index"/>'s web page, /api, /metrics and /health.</summary>
    public string HttpBase(int index) => $"http://{Host(index)}:{_httpPorts[index]}";

    public static string RackOf(int index) => $"zone{index}";

    public BrokerProcess Node(int index) => _nodes[index] ?? throw new InvalidOperationException($"node {index} is not running");

    public bool IsRunning(int index) => _nodes[index] is { HasExited: false };

    /// <summary>The running node that joined first (restarted nodes join last).</summary>
    public int Oldest => _joinOrder.First(IsRunning);

    public int IndexOfNodeId(int nodeId)
    {
        for (var i = 0; i < _nodes.Length; i++)
            if (File.Exists(NodeIdFile(i)) && NodeIdOf(i) == nodeId) return i;
        return -1;
    }

    private string NodeIdFile(int index) => Path.Combine(_root, $"n{index}", "node.id");

    public int NodeIdOf(int index) =>
        int.Parse(File.ReadAllText(NodeIdFile(index)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public async Task StartAsync()
    {
        for (var i = 0; i < size; i++) await StartNodeAsync(i);
        await WaitForMembersAsync(size, TimeSpan.FromSeconds(60));
    }

    public async Task StartNodeAsync(int index)
    {
        // The seed (node 0) joins itself only when it is the first; any other start joins through the running nodes.
        var running = _joinOrder.Where(i => i != index && IsRunning(i)).Select(i => $"{Host(i)}:{_ports[i]}").ToList();
        var seed = index == 0 && _joinOrder.Count == 0 ? null : string.Join(",", running);
        _nodes[index] = await BrokerProcess.StartNodeAsync(Path.Combine(_root, $"n{index}"), _ports[index], TimeSpan.FromSeconds(90), seed, racks ? RackOf(index) : null, _httpPorts[index],
            extraArgs: NodeArgs(index), host: network?.Host(index), netns: network?.Namespace(index));
        _joinOrder.Remove(index);
        _joinOrder.Add(index);
    }

    /// <summary>
    /// SIGKILLs every node, then starts them again on their data directories, the seed first, without waiting for
    /// each to be Up: a node on a data directory that belonged to a cluster is Up only with a majority of it.
    /// </summary>
    public async Task KillAllAndRestartAsync()
    {
        for (var i = 0; i < size; i++) Kill(i);
        _joinOrder.Clear();
        for (var i = 0; i < size; i++) await StartWaitingNodeAsync(i);
        await WaitForMembersAsync(size, TimeSpan.FromSeconds(90));
    }

    /// <summary>
    /// Starts a node as the README's restart commands do (node 0 seeds itself, the others name node 0 as their seed)
    /// and returns once it listens, not once it is Up: after a full stop, a node waits for a majority of its cluster.
    /// </summary>
    public async Task StartWaitingNodeAsync(int index)
    {
        var seed = index == 0 ? null : Seed;
        _nodes[index] = await BrokerProcess.StartNodeAsync(Path.Combine(_root, $"n{index}"), _ports[index], TimeSpan.FromSeconds(90), seed, racks ? RackOf(index) : null, _httpPorts[index], waitUntilUp: false,
            extraArgs: NodeArgs(index), host: network?.Host(index), netns: network?.Namespace(index));
        _joinOrder.Remove(index);
        _joinOrder.Add(index);
    }

    /// <summary>
    /// Deletes a stopped node's data directory: its disk is lost. It comes back empty: with the quorum, as the same
    /// node id (the voter it was, with an empty log); without it, as a new node with a new id.
    /// </summary>
    public void WipeDataDirectory(int index)
    {
        if (IsRunning(index)) throw new InvalidOperationException($"node {index} is running; kill it first");
        Directory.Delete(Path.Combine(_root, $"n{index}"), recursive: true);
    }

    public void Kill(int index)
    {
        _nodes[index]?.Kill();
        _nodes[index]?.Dispose();
        _nodes[index] = null;
    }

    public async Task WaitForMembersAsync(int up, TimeSpan timeout)
    {
        await Eventually(async () =>
        {
            await using var admin = Admin();
            var status = await admin.GetClusterStatusAsync();
            return status.Brokers.Count(b => b.Status == "Up" && b.NodeId > 0) == up;
        }, timeout, $"{up} nodes Up");
    }

    /// <summary>Waits until every partition of <paramref name="topic"/> has a leader and <paramref name="size"/> in-sync replicas.</summary>
    public async Task WaitForIsrAsync(string topic, int size, TimeSpan timeout) =>
        await Eventually(async () =>
        {
            var described = await DescribeAsync(topic);
            return described.Partitions.All(p => p.LeaderId > 0 && p.Isr.Count == size);
        }, timeout, $"every partition of {topic} has a leader and {size} in-sync replicas");

    /// <summary>Creates a topic with <paramref name="replicas"/> copies and the given min.insync.replicas; fails the test on an error.</summary>
    public async Task CreateTopicAsync(string topic, int partitions, short replicas, int minInsyncReplicas)
    {
        await using var admin = Admin();
        var created = await admin.CreateTopicsAsync([new TopicSpec(topic, partitions, replicas,
            new Dictionary<string, string> { ["min.insync.replicas"] = minInsyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture) })]);
        Xunit.Assert.Equal(Broker.Protocol.ErrorCode.None, created[0].Error);
    }

    public AdminClient Admin() => new(new ClientConfig { BootstrapServers = Bootstrap, RequestTimeout = TimeSpan.FromSeconds(10), ClientHost = ClientHost });

    public async Task<TopicMetadata> DescribeAsync(string topic)
    {
        await using var admin = Admin();
        return (await admin.GetMetadataAsync([topic])).Topics.Single();
    }

    /// <summary>Polls <paramref name="condition"/> (exceptions count as false) until it holds or the time is up.</summary>
    public static Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Broker.Tests.Eventually.TrueAsync(condition, timeout, what);

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _nodes.Length; i++) Kill(i);
        await Task.Yield();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
