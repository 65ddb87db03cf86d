using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Hosting;
using Broker.Server.Membership;
using Xunit;
using Xunit.Abstractions;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Server.Tests;

/// <summary>
/// A whole node in the test's ActorSystem: real SQLite journal in a temp directory, cluster of one,
/// registry, shard region and gateway.
/// </summary>
public abstract class NodeTestKit : Akka.TestKit.Xunit2.TestKit
{
    protected NodeTestKit(ITestOutputHelper output, string extraHocon = "")
        : base(NodeConfigFor(NewDataDir(), extraHocon), BrokerNode.SystemName, output)
    {
        DataDir = Sys.Settings.Config.GetString("broker.node.data-dir");
        Gateway = StartNode(Sys);
    }

    protected string DataDir { get; }
    protected IActorRef Gateway { get; }

    protected static string NewDataDir() => Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The node's config on a free port, joining itself, with test settings layered on top.</summary>
    protected static Config NodeConfigFor(string dataDir, string extraHocon)
    {
        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = dataDir, Port = 0 });
        SqliteJournal.Prepare(settings.JournalPath, settings.JournalPageSize);
        return ConfigurationFactory.ParseString($$"""
            # Off: Distributed Data's serializer cannot encode our metadata keys inside the local Get and
            # Subscribe messages (they never cross the wire; replicators exchange key ids). Every message
            # that does cross nodes is covered by the serializer round-trip tests and the process tests.
            akka.actor.serialize-messages = off
            akka.cluster.seed-nodes = []
            akka.loglevel = INFO
            broker.node.data-dir = "{{dataDir.Replace("\\", "\\\\")}}"
            {{extraHocon}}
            """).WithFallback(config);
    }

    /// <summary>Starts the node's actors and waits until the single-node cluster is up.</summary>
    protected static IActorRef StartNode(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        if (!up.Task.Wait(TimeSpan.FromSeconds(20))) throw new TimeoutException("single-node cluster did not come up");
        // Cluster.State, which the topic registry counts live nodes from, is a view updated after the member-up callback:
        // a topic created in between was refused as having more replicas than the 0 live nodes.
        Broker.Tests.Eventually.True(() => LiveNodes.Of(system).Count == 1, TimeSpan.FromSeconds(20), "the node's own cluster view shows it up");
        return BrokerNode.StartActors(system);
    }

    protected T Request<T>(IActorRef gateway, object request, TimeSpan? timeout = null, ActorSystem? system = null)
    {
        var probe = CreateTestProbe(system ?? Sys);
        gateway.Tell(request, probe.Ref);
        return probe.ExpectMsg<T>(timeout ?? TimeSpan.FromSeconds(15));
    }

    protected T Request<T>(object request, TimeSpan? timeout = null) => Request<T>(Gateway, request, timeout);

    protected void CreateTopic(string name, int partitions, Dictionary<string, string>? configs = null)
    {
        var response = Request<CreateTopicsResponse>(new CreateTopicsRequest([new TopicSpec(name, partitions, 1, configs ?? new())]));
        Assert.Equal(Broker.Protocol.ErrorCode.None, response.Results[0].Error);
    }

    /// <summary>A batch of <paramref name="records"/> records with keys k0.. and values prefix0.. (or zeroed values of valueSize), timestamps from now.</summary>
    protected static byte[] Batch(int records, string prefix = "v", long? timestamp = null, int valueSize = 0)
    {
        var builder = new RecordBatchBuilder();
        var start = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < records; i++)
        {
            var value = valueSize > 0 ? new byte[valueSize] : System.Text.Encoding.UTF8.GetBytes($"{prefix}{i}");
            builder.Append(start + i, System.Text.Encoding.UTF8.GetBytes($"k{i}"), value);
        }
        return builder.Build();
    }

    protected ProducePartitionResult Produce(string topic, int partition, byte[] batch, IActorRef? gateway = null, ActorSystem? system = null)
    {
        var response = Request<ProduceResponse>(gateway ?? Gateway, new ProduceRequest(1, 10_000, [new ProducePartitionData(topic, partition, batch)]), system: system);
        var result = Assert.Single(response.Results);
        // Printed so a failing assertion on the offset shows why the produce failed.
        if (result.Error != ErrorCode.None) Output.WriteLine($"produce to {topic}/{partition}: {result.Error} {result.ErrorMessage}");
        return result;
    }

    protected static List<Record> Records(ReadOnlyMemory<byte> fetched)
    {
        var list = new List<Record>();
        var position = 0;
        while (RecordBatch.TryReadNext(fetched, ref position, out var batch, out _))
        {
            var reader = new RecordBatchReader(batch);
            while (reader.TryReadNext(out var record)) list.Add(record);
        }
        return list;
    }

    protected static string Text(ReadOnlyMemory<byte>? bytes) => bytes is null ? "<null>" : System.Text.Encoding.UTF8.GetString(bytes.Value.Span);

    protected override void AfterAll()
    {
        base.AfterAll();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
