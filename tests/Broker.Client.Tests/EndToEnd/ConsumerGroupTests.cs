using System.Collections.Concurrent;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.EndToEnd;

/// <summary>Consumers in groups against a real node: splitting partitions, handing them over on Close, resuming from commits, offset reset policies.</summary>
[Collection(NodeCollection.Name)]
public sealed class ConsumerGroupTests(NodeFixture node)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private async Task<string> CreateTopic(int partitions)
    {
        var name = $"group-{Guid.NewGuid():N}"[..20];
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = node.Bootstrap });
        Assert.Equal(ErrorCode.None, Assert.Single(await admin.CreateTopicsAsync([new TopicSpec(name, partitions, 1, new Dictionary<string, string>())])).Error);
        return name;
    }

    private async Task Produce(string topic, int count, int from = 0)
    {
        await using var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap });
        var deliveries = new List<Task<DeliveryResult>>();
        for (var i = from; i < from + count; i++) deliveries.Add(producer.ProduceAsync(topic, new Message { Key = Bytes($"k{i}"), Value = Bytes($"{i}") }));
        await Task.WhenAll(deliveries).WaitAsync(Wait);
    }

    private ConsumerConfig Config(string group, int sessionMs = 6000) => new()
    {
        BootstrapServers = node.Bootstrap,
        GroupId = group,
        SessionTimeoutMs = sessionMs,
        HeartbeatIntervalMs = 300,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        AutoCommitIntervalMs = 200,
    };

    /// <summary>Consumes on its own thread (a consumer is single-threaded) until stopped, recording what it read and what it owns.</summary>
    private sealed class Member : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        public readonly Consumer Consumer;
        public readonly ConcurrentQueue<string> Values = new();
        public volatile IReadOnlyList<TopicPartition> Owned = [];
        public int Revocations;
        public readonly ConcurrentQueue<IReadOnlyList<TopicPartition>> Revoked = new();

        public Member(ConsumerConfig config, string topic, bool closeOnStop = true)
        {
            Consumer = new Consumer(config);
            // Callbacks run on the consuming thread; Assignment is the whole current set (cooperative callbacks only name changes).
            Consumer.PartitionsAssigned += _ => Owned = Consumer.Assignment;
            Consumer.PartitionsRevoked += partitions =>
            {
                Interlocked.Increment(ref Revocations);
                Revoked.Enqueue(partitions);
                Owned = Consumer.Assignment.Except(partitions).ToList();
            };
            Consumer.Subscribe(topic);
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    if (Consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record) Values.Enqueue(Text(record.Value));
                }
                if (closeOnStop) Consumer.Close();
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join(Wait);
        }
    }

    private static void Eventually(Func<bool> condition, string what) => Broker.Tests.Eventually.True(condition, Wait, what);

    [Fact]
    public async Task Two_members_split_the_partitions_and_together_read_every_record_once()
    {
        var topic = await CreateTopic(4);
        await Produce(topic, 400);
        var group = $"split-{Guid.NewGuid():N}";
        using var a = new Member(Config(group), topic);
        using var b = new Member(Config(group), topic);

        Eventually(() => a.Owned.Count == 2 && b.Owned.Count == 2, "each member owns two partitions");
        Assert.Empty(a.Owned.Intersect(b.Owned));
        Eventually(() => a.Values.Count + b.Values.Count >= 400, "all 400 records are read");
        var all = a.Values.Concat(b.Values).ToList();
        Assert.Equal(400, all.Distinct().Count());
    }

    [Fact]
    public async Task Cooperative_members_keep_consuming_what_stays_while_partitions_move()
    {
        var topic = await CreateTopic(4);
        await Produce(topic, 200);
        var group = $"coop-{Guid.NewGuid():N}";
        var config = Config(group);
        config.PartitionAssignmentStrategy = "cooperative-sticky";
        using var first = new Member(config, topic);
        Eventually(() => first.Owned.Count == 4 && first.Values.Count >= 200, "the first member owns all four partitions and read everything");

        var config2 = Config(group);
        config2.PartitionAssignmentStrategy = "cooperative-sticky";
        using var second = new Member(config2, topic);
        Eventually(() => first.Owned.Count == 2 && second.Owned.Count == 2, "the partitions are split two and two");
        // Only the two partitions that moved were ever revoked from the first member: the others never stopped.
        Assert.All(first.Revoked, revoked => Assert.True(revoked.Count <= 2, $"revoked {revoked.Count} partitions at once"));
        Assert.Equal(2, first.Revoked.Sum(r => r.Count));
        Assert.Empty(first.Owned.Intersect(second.Owned));

        await Produce(topic, 200, from: 200);
        Eventually(() => first.Values.Concat(second.Values).Distinct().Count() == 400, "all 400 records are read");
    }

    [Fact]
    public async Task Close_hands_the_partitions_over_before_the_session_would_expire()
    {
        var topic = await CreateTopic(2);
        var group = $"close-{Guid.NewGuid():N}";
        // A session far longer than the wait below: only the leave request can move the partitions in time.
        var leaving = new Member(Config(group, sessionMs: 120_000), topic);
        using var staying = new Member(Config(group, sessionMs: 120_000), topic);
        Eventually(() => leaving.Owned.Count == 1 && staying.Owned.Count == 1, "the members own one partition each");

        leaving.Dispose(); // closes: commits and leaves
        Eventually(() => staying.Owned.Count == 2, "the remaining member owns both partitions");
        Assert.True(staying.Revocations >= 1);
    }

    [Fact]
    public async Task A_new_member_resumes_from_the_committed_offsets()
    {
        var topic = await CreateTopic(1);
        await Produce(topic, 100);
        var group = $"resume-{Guid.NewGuid():N}";
        var config = Config(group);
        config.EnableAutoCommit = false;

        using (var first = new Consumer(config))
        {
            first.Subscribe(topic);
            var read = 0;
            ConsumeResult? last = null;
            while (read < 60)
            {
                last = first.Consume(Wait);
                Assert.NotNull(last);
                read++;
            }
            first.Commit(last!);
            Assert.Equal(60, Assert.Single(first.Committed([new TopicPartition(topic, 0)], Wait)).Offset);
            first.Close();
        }

        await Produce(topic, 10, from: 100);
        using var second = new Consumer(config);
        second.Subscribe(topic);
        var next = second.Consume(Wait);
        Assert.NotNull(next);
        Assert.Equal(60, next.Offset);
        Assert.Equal("60", Text(next.Value));
    }

    [Fact]
    public async Task Without_a_committed_offset_AutoOffsetReset_Error_fails_with_NoOffsetForPartition()
    {
        var topic = await CreateTopic(1);
        await Produce(topic, 5);
        var config = Config($"none-{Guid.NewGuid():N}");
        config.AutoOffsetReset = AutoOffsetReset.Error;
        using var consumer = new Consumer(config);
        consumer.Subscribe(topic);
        var error = Assert.Throws<BrokerException>(() =>
        {
            var deadline = DateTime.UtcNow + Wait;
            while (DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(200));
        });
        Assert.Equal(ErrorCode.NoOffsetForPartition, error.Error);
        Assert.Contains("reset-offsets", error.Message);
    }

    [Fact]
    public void Group_settings_are_validated_and_Subscribe_needs_a_group()
    {
        var bad = Assert.Throws<BrokerException>(() => new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap, PartitionAssignmentStrategy = "cooperative-magic" }));
        Assert.Equal(ErrorCode.InvalidConfig, bad.Error);
        Assert.Contains("range, roundrobin, sticky", bad.Message);
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap });
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => consumer.Subscribe("t")).Error);
    }

    [Fact]
    public async Task Offsets_can_be_reset_only_while_the_group_is_empty()
    {
        var topic = await CreateTopic(1);
        await Produce(topic, 10);
        var group = $"reset-{Guid.NewGuid():N}";
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = node.Bootstrap });
        await admin.SetGroupOffsetsAsync(group, [new TopicPartitionOffset(topic, 0, 7)]);

        using (var member = new Member(Config(group), topic))
        {
            Eventually(() => member.Values.Count >= 3, "the member reads from offset 7");
            Assert.Equal(["7", "8", "9"], member.Values.Take(3));
            var refused = await Assert.ThrowsAsync<BrokerException>(() => admin.SetGroupOffsetsAsync(group, [new TopicPartitionOffset(topic, 0, 0)]));
            Assert.Equal(ErrorCode.NonEmptyGroup, refused.Error);
            var described = await admin.DescribeGroupAsync(group);
            Assert.Equal("Stable", described.State);
            Assert.Single(described.Members);
        }
        var listed = await admin.ListGroupsAsync();
        Assert.Contains(listed, g => g.GroupId == group);
    }
}
