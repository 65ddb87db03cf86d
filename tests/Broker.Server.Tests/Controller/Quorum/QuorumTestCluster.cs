using System.Collections.Concurrent;
using System.Net;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// Three (or more) metadata voters in this process on 127.0.0.1, each with its own formatted directory; voters can be
/// stopped and started again on the same directory and port. Records every applied change per voter, in order.
/// Disposing stops every voter still running and deletes the directories.
/// </summary>
internal sealed class QuorumTestCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-quorum-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataQuorum?[] _running;

    /// <summary>Voters formatted in a new directory each; with catchingUp, as a node formats them on a new data directory: none votes until it joins (NewVoterRule).</summary>
    public QuorumTestCluster(int voters = 3, string clusterId = "test-cluster", int snapshotEvery = 1000, bool catchingUp = false)
    {
        var list = Enumerable.Range(1, voters).Select(id => new QuorumVoter(id, new IPEndPoint(IPAddress.Loopback, FreePort()))).ToArray();
        Settings = list.Select(v => new QuorumSettings(v.NodeId, list, Path.Combine(_root, $"voter-{v.NodeId}"), clusterId) { SnapshotEvery = snapshotEvery }).ToArray();
        foreach (var s in Settings) QuorumDirectory.Format(s, catchingUp);
        _running = new MetadataQuorum?[voters];
        Applied = Enumerable.Range(0, voters).Select(_ => new ConcurrentQueue<RecordApplied>()).ToArray();
    }

    public QuorumSettings[] Settings { get; }

    /// <summary>Per voter (index = node id - 1), every record it applied, in order, across restarts.</summary>
    public ConcurrentQueue<RecordApplied>[] Applied { get; }

    public MetadataQuorum this[int nodeId] => _running[nodeId - 1] ?? throw new InvalidOperationException($"voter {nodeId} is not running");

    public IEnumerable<MetadataQuorum> Running => _running.Where(q => q is not null)!;

    public async Task StartAsync(params int[] nodeIds)
    {
        foreach (var id in nodeIds)
        {
            var quorum = await MetadataQuorum.StartAsync(Settings[id - 1]);
            var log = Applied[id - 1];
            quorum.Subscribe(change =>
            {
                if (change is RecordApplied applied) log.Enqueue(applied);
            });
            _running[id - 1] = quorum;
        }
    }

    public async Task StopAsync(params int[] nodeIds)
    {
        foreach (var id in nodeIds)
        {
            if (_running[id - 1] is { } q)
            {
                _running[id - 1] = null;
                await q.DisposeAsync();
            }
        }
    }

    /// <summary>Wipes a stopped voter's disk: its directory is deleted and formatted again, as a node does on a new data directory.</summary>
    public void Wipe(int nodeId)
    {
        if (_running[nodeId - 1] is not null) throw new InvalidOperationException($"stop voter {nodeId} before wiping it");
        var settings = Settings[nodeId - 1];
        Directory.Delete(settings.Directory, recursive: true);
        QuorumDirectory.Format(settings, catchingUp: true);
    }

    /// <summary>The leader among the running voters, once all running voters agree on it.</summary>
    public async Task<MetadataQuorum> LeaderAsync(TimeSpan timeout)
    {
        MetadataQuorum? leader = null;
        await Broker.Tests.Eventually.TrueAsync(() =>
        {
            var leaders = Running.Where(q => q.IsController).ToArray();
            leader = leaders.Length == 1 && Running.All(q => q.ControllerId == leaders[0].NodeId) ? leaders[0] : null;
            return Task.FromResult(leader is not null);
        }, timeout, "one controller that every running voter knows");
        return leader!;
    }

    /// <summary>
    /// Proposes <paramref name="record"/> through <paramref name="via"/>. A registration whose outcome is unknown (the
    /// controller lost leadership while committing it: a second election right after the first, under load) is
    /// proposed again, as a broker does: the same incarnation registers once, so the retry says what happened.
    /// </summary>
    public static async Task<MetadataResult> ProposeAsync(MetadataQuorum via, MetadataRecord record, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var result = await via.ProposeAsync(record, cts.Token);
            if (record is RegisterBroker && result is Refused { Error: MetadataError.OutcomeUnknown }) continue;
            return result;
        }
    }

    private static int FreePort() => Broker.Tests.TestPorts.Free();

    public async ValueTask DisposeAsync()
    {
        await StopAsync(Enumerable.Range(1, _running.Length).ToArray());
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a file still closing; the temp directory is cleaned by the OS
        }
    }
}
