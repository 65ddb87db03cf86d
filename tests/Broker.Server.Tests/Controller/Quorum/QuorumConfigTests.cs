using Akka.Configuration;
using Broker.Server.Controller.Quorum;
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>broker.metadata.quorum: off by default, read into settings when voters are given, refused when wrong.</summary>
public sealed class QuorumConfigTests
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(NodeConfig.Reference);

    [Fact]
    public void The_quorum_is_off_without_voters()
    {
        Assert.Null(QuorumConfig.From(NodeConfig.Reference, 1, "/data"));
        Assert.False(QuorumConfig.FormatIfNew(NodeConfig.Reference));
    }

    [Fact]
    public void Voters_and_timeouts_are_read_and_the_controller_channel_defaults_to_the_voters_own_address()
    {
        var s = QuorumConfig.From(With("""
            broker.metadata.quorum.voters = ["1@10.0.0.1:9193", "2@10.0.0.2:9193", "3@10.0.0.3:9193"]
            broker.metadata.quorum.cluster-id = "prod-1"
            broker.metadata.quorum.election-timeout-max = 3s
            """), 2, "/data")!;
        Assert.Equal(3, s.Voters.Count);
        Assert.Equal("10.0.0.2:9193", s.Self.Endpoint.ToString());
        Assert.Equal("10.0.0.2:0", s.ControllerEndpoint.ToString());
        Assert.Equal(Path.Combine("/data", QuorumConfig.DirectoryName), s.Directory);
        Assert.Equal(TimeSpan.FromSeconds(1), s.LowerElectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), s.UpperElectionTimeout);
        Assert.Equal("prod-1", s.ClusterId);
    }

    [Fact]
    public void A_node_that_is_not_a_voter_observes_a_malformed_voter_is_refused_and_an_empty_cluster_id_is_the_default()
    {
        const string voters = """broker.metadata.quorum.voters = ["1@10.0.0.1:9193", "2@10.0.0.2:9193", "3@10.0.0.3:9193"]""";
        var observer = QuorumConfig.From(With(voters + "\nbroker.metadata.quorum.cluster-id = c"), 4, "/data")!;
        Assert.False(observer.IsVoter);
        Assert.Equal([1, 2, 3], observer.VoterIds.Order());
        Assert.True(QuorumConfig.From(With(voters), 2, "/data")!.IsVoter);
        Assert.Equal(QuorumConfig.DefaultClusterId, QuorumConfig.From(With(voters), 1, "/data")!.ClusterId);
        Assert.Throws<ConfigurationException>(() => QuorumConfig.From(With("""broker.metadata.quorum.voters = ["10.0.0.1:9193"]"""), 1, "/data"));
    }
}
