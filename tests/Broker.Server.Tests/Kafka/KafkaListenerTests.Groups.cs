using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker.Kafka.Messages;
using Broker.Server.Gateway;
using Broker.Server.Hosting;
using Broker.Server.Kafka;
using Xunit;
using P = Broker.Protocol.Messages;

namespace Broker.Server.Tests.Kafka;

public sealed partial class KafkaListenerTests
{
    /// <summary>
    /// A heartbeat lost on its way to a coordinator that is moving (here: a gateway that never answers it) is answered
    /// NOT_COORDINATOR after group-request-timeout, and the commit behind it on the connection gets its answer then.
    /// Held until the gateway's own timeout (35 s), it held the commit's answer too, past librdkafka's heartbeat timeout
    /// (its session timeout), which then dropped the connection and resent the commits in flight, older offsets after
    /// newer ones (GroupFailoverTests: committed offsets went backwards after the coordinator's node was killed).
    /// </summary>
    [Fact]
    public async Task A_heartbeat_the_coordinator_never_answers_gets_NOT_COORDINATOR_in_time_and_the_commit_behind_it_its_answer()
    {
        var gateway = CreateTestProbe();
        var (_, node) = NodeConfig.Load(new NodeOverrides { DataDir = DataDir, KafkaPort = 0 });
        var listener = KafkaListener.TryBind(node.Kafka with { Host = "127.0.0.1", GroupRequestTimeout = TimeSpan.FromMilliseconds(500) }, out var problem)
            ?? throw new InvalidOperationException(problem);
        listener.Start(Sys, gateway.Ref);
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.BoundPort));
            var watch = Stopwatch.StartNew();
            await socket.SendAsync(Frame(HeartbeatRequest.Api, 2, 1, new HeartbeatRequest { GroupId = "moving", GenerationId = 1, MemberId = "m1" }));
            await socket.SendAsync(Frame(OffsetCommitRequest.Api, 7, 2, new OffsetCommitRequest
            {
                GroupId = "moving", GenerationIdOrMemberEpoch = 1, MemberId = "m1",
                Topics = [new() { Name = "events", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42 }] }],
            }));

            Assert.IsType<P.HeartbeatRequest>(gateway.ExpectMsg<AtCoordinatorOnly>().Request); // lost on the way: never answered
            var commit = Assert.IsType<P.OffsetCommitRequest>(gateway.ExpectMsg<AtCoordinatorOnly>().Request);
            Assert.Equal(42, commit.Offsets.Single().Offset);
            gateway.Reply(new P.OffsetCommitResponse(Broker.Protocol.ErrorCode.None, null, [new P.OffsetCommitPartitionResult("events", 0, Broker.Protocol.ErrorCode.None, null)]));

            var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
            Assert.Equal(1, id);
            Assert.Equal(KafkaErrors.NotCoordinator, Parse(body, 2, HeartbeatResponse.Read).ErrorCode);
            (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
            Assert.Equal(2, id);
            Assert.Equal([(short)0], Parse(body, 7, OffsetCommitResponse.Read).Topics.Single().Partitions.Select(p => p.ErrorCode));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"both answers took {watch.Elapsed.TotalSeconds:0.0} s; the bound is 0.5 s");
        }
        finally
        {
            await listener.StopAsync();
        }
    }
}
