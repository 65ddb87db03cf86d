using System.Text;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests;

/// <summary>
/// Consumer groups with real processes: three `broker consume --group` processes share a topic while a
/// producer writes; one is SIGKILLed without closing; its partitions move after its session timeout and in
/// the end every produced record was printed at least once and the group's lag is 0. Then the node restarts
/// and the group resumes from its committed offsets.
/// </summary>
public sealed class ConsumerGroupProcessTests(ITestOutputHelper output) : IDisposable
{
    private const string Topic = "events";
    private const string Group = "workers";
    private const int Partitions = 6;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));

    private static CliProcess StartMember(string bootstrap) => CliProcess.Start(
        "consume", Topic, "--group", Group, "--from-beginning", "--session-timeout-ms", "3000",
        "--format", "{partition} {offset}", "--bootstrap", bootstrap);

    /// <summary>Until <paramref name="condition"/> holds; the group does not exist until its first member has joined, so errors mean "not yet".</summary>
    private static Task Eventually(Func<Task<bool>> condition, string what) => Broker.Tests.Eventually.TrueAsync(condition, Wait, what);

    private static async Task<long> TotalLag(AdminClient admin)
    {
        var group = await admin.DescribeGroupAsync(Group);
        var metadata = await admin.GetMetadataAsync([Topic]);
        long lag = 0;
        foreach (var p in metadata.Topics[0].Partitions)
        {
            var committed = group.Offsets.FirstOrDefault(o => o.Partition == p.Partition)?.Offset ?? 0;
            lag += p.LogEndOffset - committed;
        }
        return lag;
    }

    private static async Task<List<(int Partition, long Offset)>> ProduceAsync(Producer producer, int from, int count)
    {
        var deliveries = new List<Task<DeliveryResult>>(count);
        for (var i = from; i < from + count; i++)
            deliveries.Add(producer.ProduceAsync(Topic, new Message { Key = Encoding.UTF8.GetBytes($"key-{i % 101}"), Value = Encoding.UTF8.GetBytes($"{i}") }));
        var results = await Task.WhenAll(deliveries).WaitAsync(Wait);
        return results.Select(r => (r.Partition, r.Offset)).ToList();
    }

    private static HashSet<(int, long)> Printed(IEnumerable<CliProcess> members)
    {
        var seen = new HashSet<(int, long)>();
        foreach (var member in members)
        {
            foreach (var line in member.Lines)
            {
                var parts = line.Split(' ');
                if (parts.Length == 2 && int.TryParse(parts[0], out var p) && long.TryParse(parts[1], out var o)) seen.Add((p, o));
            }
        }
        return seen;
    }

    [Fact]
    public async Task A_killed_member_loses_its_partitions_and_the_group_still_reads_every_record()
    {
        using var node = await BrokerProcess.StartNodeAsync(_dataDir);
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = node.Bootstrap });
        Assert.Equal(ErrorCode.None, (await admin.CreateTopicsAsync([new TopicSpec(Topic, Partitions, 1, new Dictionary<string, string>())]))[0].Error);

        var members = new List<CliProcess> { StartMember(node.Bootstrap), StartMember(node.Bootstrap), StartMember(node.Bootstrap) };
        try
        {
            var produced = new List<(int, long)>();
            await using var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap, LingerMs = 5 });
            await Eventually(async () =>
            {
                var g = await admin.DescribeGroupAsync(Group);
                return g.State == "Stable" && g.Members.Count == 3 && g.Members.All(m => m.Assignment.Count == 2);
            }, "three members own two partitions each");

            // Keep producing while a member dies.
            for (var round = 0; round < 5; round++) produced.AddRange(await ProduceAsync(producer, round * 2000, 2000));
            await Eventually(() => Task.FromResult(members.All(m => !m.Lines.IsEmpty)), "every member printed records");
            members[0].Kill();
            output.WriteLine($"killed one member after {produced.Count} records were produced");
            for (var round = 5; round < 10; round++) produced.AddRange(await ProduceAsync(producer, round * 2000, 2000));

            await Eventually(async () =>
            {
                var g = await admin.DescribeGroupAsync(Group);
                return g.State == "Stable" && g.Members.Count == 2 && g.Members.Sum(m => m.Assignment.Count) == Partitions;
            }, "the two survivors own all six partitions");
            for (var round = 10; round < 12; round++) produced.AddRange(await ProduceAsync(producer, round * 2000, 2000));

            await Eventually(async () => await TotalLag(admin) == 0, "the group's lag is 0");
            var printed = Printed(members);
            var missing = produced.Where(r => !printed.Contains(r)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {produced.Count} records were never printed, e.g. {string.Join(", ", missing.Take(5))}");
        }
        finally
        {
            foreach (var m in members) m.Dispose();
        }
    }

    [Fact]
    public async Task After_a_node_restart_the_group_resumes_from_its_committed_offsets()
    {
        var port = BrokerProcess.FreePort();
        List<(int, long)> first;
        using (var node = await BrokerProcess.StartNodeAsync(_dataDir, port))
        {
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = node.Bootstrap });
            Assert.Equal(ErrorCode.None, (await admin.CreateTopicsAsync([new TopicSpec(Topic, 2, 1, new Dictionary<string, string>())]))[0].Error);
            await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
                first = await ProduceAsync(producer, 0, 1000);
            // Reads 600 records, commits exactly those and leaves.
            var run = await CliProcess.RunAsync(null, Wait, "consume", Topic, "--group", Group, "--from-beginning", "--max-messages", "600",
                "--format", "{partition} {offset}", "--bootstrap", node.Bootstrap);
            Assert.Equal(0, run.ExitCode);
        }

        using var restarted = await BrokerProcess.StartNodeAsync(_dataDir, port);
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = restarted.Bootstrap }))
            await ProduceAsync(producer, 1000, 100);
        var rest = await CliProcess.RunAsync(null, Wait, "consume", Topic, "--group", Group, "--from-beginning", "--timeout-ms", "5000",
            "--format", "{partition} {offset}", "--bootstrap", restarted.Bootstrap);
        Assert.Equal(0, rest.ExitCode);
        var lines = rest.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 1,100 records in all, 600 read before the restart: exactly the other 500 now, none again, none skipped.
        Assert.Equal(500, lines.Length);
        Assert.Equal(500, lines.Distinct().Count());
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
