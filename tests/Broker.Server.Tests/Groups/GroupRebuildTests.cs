using System.Diagnostics;
using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// Issue 14, must-show 4: a group's rebuild on a new leader does not grow with its history. A group's partition gets a
/// long history of commits (each its own batch, as a coordinator writes them), the node restarts (its replica leads
/// again and reads the partition back, as a new leader after a failover does), and the time until the group answers
/// is printed: first reading the whole history, then after a checkpoint round has snapshotted the group and moved
/// the log start past it. The committed offsets read the same both times. 6,000 commits in the suite;
/// BROKER_GROUP_REBUILD_COMMITS=1000000 for the README's figure.
/// </summary>
public sealed class GroupRebuildTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private const string Group = "rebuild";
    private static readonly int Commits = int.TryParse(Environment.GetEnvironmentVariable("BROKER_GROUP_REBUILD_COMMITS"), out var n) && n > 0 ? n : 6_000;
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    // The history is written straight into the partition, past the coordinator, so no checkpoint may run meanwhile
    // (it would snapshot the coordinator's state, which has not seen those records); the nodes that read it back do.
    private const string NoCheckpoints = "broker.groups.checkpoint-after-records = 100000000000";
    private const string Checkpoints = """
        broker.groups.checkpoint-interval = 500ms
        broker.groups.checkpoint-after-records = 1000
        """;

    [Fact]
    public async Task A_group_with_a_long_history_is_read_back_from_its_snapshot_not_its_history()
    {
        var dir = NewDataDir();
        var partition = OffsetsTopic.PartitionFor(Group, 10);
        try
        {
            await WithNodeAsync(dir, NoCheckpoints, async gateway =>
            {
                // The first commit creates __consumer_offsets and the group; the rest are appended as its coordinator would write them.
                Assert.Equal(ErrorCode.None, (await AskAsync<OffsetCommitResponse>(gateway, new OffsetCommitRequest(Group, -1, "", [new OffsetCommitPartition("t", 0, 0, null)]))).Error);
                var clock = Stopwatch.StartNew();
                await WriteHistoryAsync(gateway, partition);
                Output.WriteLine($"{Commits:N0} commits written to {OffsetsTopic.Name}/{partition} in {clock.Elapsed.TotalSeconds:0.0} s");
            });

            long before = 0;
            await WithNodeAsync(dir, Checkpoints, async gateway =>
            {
                before = await TimeToAnswerAsync(gateway, "whole history");
                // A checkpoint round: the group writes its snapshot, and the log start moves to it.
                var logStart = 0L;
                var waited = Stopwatch.StartNew();
                while (logStart == 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(100); // polling the log start, which the node moves on its own timer
                    logStart = (await AskAsync<ListOffsetsResponse>(gateway, new ListOffsetsRequest(OffsetsTopic.Name, partition, -2))).Offset;
                }
                Assert.True(logStart > Commits, $"the log start of {OffsetsTopic.Name}/{partition} is {logStart} after {waited.Elapsed.TotalSeconds:0} s; expected past the {Commits} commits");
                Output.WriteLine($"after a checkpoint round the log starts at {logStart}");
            });

            await WithNodeAsync(dir, Checkpoints, async gateway =>
            {
                var after = await TimeToAnswerAsync(gateway, "from the snapshot");
                Output.WriteLine($"rebuild of a group with {Commits:N0} commits in its history: {before} ms reading it all, {after} ms from its snapshot");
            });
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>From the first request after the node is up until the group answers; its offsets are the last commit's.</summary>
    private async Task<long> TimeToAnswerAsync(IActorRef gateway, string how)
    {
        var clock = Stopwatch.StartNew();
        var fetched = await AskAsync<OffsetFetchResponse>(gateway, new OffsetFetchRequest(Group, null));
        while (fetched.Error != ErrorCode.None && clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            // A gateway that gave up waiting for the partition's leader answers with an error: the client asks again.
            Output.WriteLine($"{clock.ElapsedMilliseconds} ms: {fetched.Error} ({fetched.ErrorMessage}); asking again");
            fetched = await AskAsync<OffsetFetchResponse>(gateway, new OffsetFetchRequest(Group, null));
        }
        var took = clock.ElapsedMilliseconds;
        Assert.Equal(ErrorCode.None, fetched.Error);
        var last = Commits; // commit i wrote offset i to partition i % 6 (commit 0 went through the coordinator)
        var expected = Enumerable.Range(0, 6).Select(p => (long)(last - ((last - p) % 6 + 6) % 6)).ToArray();
        Assert.Equal(expected, fetched.Offsets.OrderBy(o => o.Partition).Select(o => o.Offset).ToArray());
        Output.WriteLine($"group {Group} answered {took} ms after the node was up ({how})");
        return took;
    }

    /// <summary>Commits 1..N, each one batch, 1,024 in flight.</summary>
    private static async Task WriteHistoryAsync(IActorRef gateway, int partition)
    {
        var inFlight = new List<Task<ProduceResponse>>(1024);
        for (var i = 1; i <= Commits; i++)
        {
            var batch = GroupRecords.Encode(Group, [new OffsetsCommitted([new CommittedOffset("t", i % 6, i, null)])], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            inFlight.Add(gateway.Ask<ProduceResponse>(new ProduceRequest(1, 30_000, [new ProducePartitionData(OffsetsTopic.Name, partition, batch)]), Long));
            if (inFlight.Count == 1024 || i == Commits)
            {
                foreach (var response in await Task.WhenAll(inFlight)) Assert.Equal(ErrorCode.None, response.Results[0].Error);
                inFlight.Clear();
            }
        }
    }

    private static Task<T> AskAsync<T>(IActorRef gateway, object request) => gateway.Ask<T>(request, Long);

    /// <summary>Runs a node on <paramref name="dir"/> with <paramref name="hocon"/> for <paramref name="body"/>, then stops it.</summary>
    private static async Task WithNodeAsync(string dir, string hocon, Func<IActorRef, Task> body)
    {
        var system = ActorSystem.Create("broker", NodeConfigFor(dir, hocon));
        try
        {
            var gateway = StartNode(system);
            await body(gateway);
        }
        finally
        {
            await system.Terminate().WaitAsync(Long);
        }
    }
}
