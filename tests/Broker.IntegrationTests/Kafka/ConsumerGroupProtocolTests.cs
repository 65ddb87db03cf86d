using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// KIP-848 consumer groups (ConsumerGroupHeartbeat) with Confluent.Kafka's `GroupProtocol = Consumer` against a real
/// node: three members, one of them a separate process killed with SIGKILL (no leave); its partitions move to the other
/// two within the coordinator's session timeout, and they resume from what it committed, so nothing committed is lost
/// or read again. A classic member asking to join the same group is refused as Kafka refuses it.
/// </summary>
public sealed class ConsumerGroupProtocolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Partitions = 6;
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(6);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-kip848-" + Guid.NewGuid().ToString("N"));
    private BrokerProcess _node = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        var conf = Path.Combine(_dataDir, "kip848.conf");
        await File.WriteAllTextAsync(conf, """
            broker.groups.consumer {
              session-timeout = 6s
              heartbeat-interval = 500ms
            }
            """);
        _node = await BrokerProcess.StartNodeAsync(Path.Combine(_dataDir, "node"), extraArgs: ["--config", conf]);
    }

    public Task DisposeAsync()
    {
        _node.Dispose();
        Security.TlsClusterFixture.DeleteQuietly(_dataDir);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_killed_members_partitions_move_within_the_session_timeout_and_nothing_committed_is_lost()
    {
        const string topic = "kip848";
        var group = "kip848-" + Guid.NewGuid().ToString("N");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _node.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _node.KafkaBootstrap, Acks = Acks.All, EnableIdempotence = false }).Build();
        async Task ProduceAsync(int from, int count)
        {
            var sends = new List<Task>();
            for (var i = from; i < from + count; i++)
                sends.Add(producer.ProduceAsync(new TopicPartition(topic, i % Partitions), new Message<string, string> { Key = $"k{i}", Value = $"v{i}" }));
            await Task.WhenAll(sends);
        }
        await ProduceAsync(0, 600);

        // The member that will be killed: its own process, committing every record it reads.
        var victimCommitted = new HashSet<string>();
        var victimAssigned = "";
        using var victim = GroupMember(group, topic, line =>
        {
            lock (victimCommitted)
            {
                if (line.StartsWith("committed: ", StringComparison.Ordinal)) victimCommitted.Add(line[(line.LastIndexOf(' ') + 1)..]);
                if (line.StartsWith("assigned: ", StringComparison.Ordinal)) victimAssigned = line["assigned: ".Length..];
            }
        });

        var config = new ConsumerConfig
        {
            BootstrapServers = _node.KafkaBootstrap,
            GroupId = group,
            GroupProtocol = GroupProtocol.Consumer,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        var seen = new List<string>();
        using var first = new ConsumerBuilder<string, string>(config).Build();
        using var second = new ConsumerBuilder<string, string>(config).Build();
        first.Subscribe(topic);
        second.Subscribe(topic);
        void Poll(IConsumer<string, string> consumer)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(50));
            if (result?.Message is null) return;
            Broker.Tests.StaleEpochCommit.Commit(consumer, result);
            seen.Add(result.Message.Value);
        }
        int VictimCount()
        {
            lock (victimCommitted) return victimCommitted.Count;
        }
        string VictimAssigned()
        {
            lock (victimCommitted) return victimAssigned;
        }

        // All three share the partitions and read all 600 between them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline && (seen.Count + VictimCount() < 600 || first.Assignment.Count == 0 || second.Assignment.Count == 0 || VictimAssigned().Length == 0))
        {
            Poll(first);
            Poll(second);
        }
        output.WriteLine($"three members: first {string.Join(",", first.Assignment)}, second {string.Join(",", second.Assignment)}, victim {VictimAssigned()}; read {seen.Count} + {VictimCount()}");
        Assert.True(VictimCount() > 0, "the member in the other process committed nothing:\n" + victim.Output);
        Assert.Equal(600, seen.Count + VictimCount());
        Assert.Equal(Partitions, first.Assignment.Count + second.Assignment.Count + VictimAssigned().Split(',').Length);

        // SIGKILL: no leave heartbeat, no close. Its partitions stay its own until its session times out.
        victim.Kill();
        var killedAt = Stopwatch.StartNew();
        string[] victimRead;
        lock (victimCommitted) victimRead = [.. victimCommitted];
        await ProduceAsync(600, 300);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        TimeSpan? movedAfter = null;
        while (DateTime.UtcNow < deadline && (seen.Count + victimRead.Length < 900 || movedAfter is null))
        {
            Poll(first);
            Poll(second);
            if (movedAfter is null && first.Assignment.Count + second.Assignment.Count == Partitions) movedAfter = killedAt.Elapsed;
        }
        output.WriteLine($"after the kill: partitions moved after {movedAfter?.TotalSeconds:0.0} s; first {string.Join(",", first.Assignment)}, second {string.Join(",", second.Assignment)}; read {seen.Count}");
        Assert.NotNull(movedAfter);
        // Session timeout, plus one coordinator tick and a heartbeat interval for the survivors to learn it.
        Assert.True(movedAfter < SessionTimeout + TimeSpan.FromSeconds(3), $"partitions moved only after {movedAfter}");
        // ... and not before: the killed member sent no leave, so only its session's expiry moved them (its last heartbeat
        // was at most one 500 ms interval before the kill).
        Assert.True(movedAfter > SessionTimeout - TimeSpan.FromSeconds(1), $"partitions moved already after {movedAfter}: the member was not killed?");
        Assert.Empty(first.Assignment.Intersect(second.Assignment));

        // Nothing the killed member committed is read again, nothing is missing, nothing was read twice.
        Assert.Empty(seen.Intersect(victimRead));
        Assert.Equal(900, seen.Count + victimRead.Length);
        Assert.Equal(900, seen.Concat(victimRead).Distinct().Count());
        var committed = first.Committed(first.Assignment, TimeSpan.FromSeconds(10)).Concat(second.Committed(second.Assignment, TimeSpan.FromSeconds(10)));
        Assert.Equal(900, committed.Sum(c => c.Offset.Value));

        // ConsumerGroupDescribe: a consumer-protocol group of two.
        var described = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
        output.WriteLine($"described: {described.GroupType} {described.State} {described.PartitionAssignor}, {described.Members.Count} members");
        Assert.Equal(ConsumerGroupType.Consumer, described.GroupType);
        Assert.Equal(2, described.Members.Count);
        Assert.Equal(Partitions, described.Members.Sum(m => m.Assignment.TopicPartitions.Count));

        // A classic member (JoinGroup) is refused: INCONSISTENT_GROUP_PROTOCOL, as Kafka answers a classic member it does not take in.
        var refusal = await ClassicJoinErrorAsync(group, topic, keepAlive: () =>
        {
            Poll(first);
            Poll(second);
        });
        output.WriteLine($"classic member: {refusal}");
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, refusal);
        Assert.Equal(Partitions, first.Assignment.Count + second.Assignment.Count);

        first.Close();
        second.Close();
    }

    /// <summary>The error a classic (JoinGroup) consumer of the group gets, reported through Consume or the error handler.</summary>
    private async Task<ErrorCode?> ClassicJoinErrorAsync(string group, string topic, Action keepAlive)
    {
        ErrorCode? error = null;
        var config = new ConsumerConfig
        {
            BootstrapServers = _node.KafkaBootstrap,
            GroupId = group,
            GroupProtocol = GroupProtocol.Classic,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 10_000,
        };
        using var classic = new ConsumerBuilder<string, string>(config)
            .SetErrorHandler((_, e) =>
            {
                if (e.Code == ErrorCode.InconsistentGroupProtocol) error = e.Code;
            })
            .Build();
        classic.Subscribe(topic);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (error is null && DateTime.UtcNow < deadline)
        {
            try
            {
                var r = classic.Consume(TimeSpan.FromMilliseconds(100));
                Assert.True(r?.Message is null, "a refused classic member read a record");
            }
            catch (ConsumeException e)
            {
                output.WriteLine($"classic consume error: {e.Error.Code} {e.Error.Reason}");
                if (e.Error.Code == ErrorCode.InconsistentGroupProtocol) error = e.Error.Code;
            }
            keepAlive();
            await Task.Yield();
        }
        Assert.Empty(classic.Assignment);
        return error;
    }

    private sealed class MemberProcess(Process process) : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        public void Add(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }

        public void Kill() => process.Kill();

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
        }
    }

    /// <summary>`kafka-perf group-member` (Confluent.Kafka, GroupProtocol = Consumer) in its own process.</summary>
    private MemberProcess GroupMember(string group, string topic, Action<string> onLine)
    {
        // Beside the CLI's build: <root>/src/Broker.Cli/bin/<configuration>/<framework>/broker.dll.
        var framework = new DirectoryInfo(Path.GetDirectoryName(CliProcess.BrokerDll)!);
        var configuration = framework.Parent!;
        var root = configuration.Parent!.Parent!.Parent!.Parent!;
        var dll = Path.Combine(root.FullName, "tests", "Broker.KafkaPerf", "bin", configuration.Name, framework.Name, "kafka-perf.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"build tests/Broker.KafkaPerf first: {dll} is missing");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "group-member", "--bootstrap", _node.KafkaBootstrap, "--group", group, "--topic", topic, "--group-protocol", "consumer" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start kafka-perf");
        var member = new MemberProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            member.Add(e.Data);
            if (e.Data is not null) onLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) => member.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return member;
    }
}
