using Broker.Server.Hosting;
using Broker.Server.Membership;
using Xunit;

namespace Broker.Server.Tests.Hosting;

/// <summary>The guard against islands: what a data directory remembers of its cluster, and what a restart makes of it.</summary>
public sealed class KnownMembersTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "known-members-" + Guid.NewGuid().ToString("N"));

    public KnownMembersTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(5, 3)]
    public void A_majority_of_the_last_known_members_must_be_together(int members, int quorum) =>
        Assert.Equal(quorum, KnownMembers.Quorum(members));

    [Fact]
    public void Members_round_trip_through_the_data_directory_and_a_new_one_has_none()
    {
        Assert.Empty(KnownMembers.Load(_dir));
        KnownMember[] members = [new(3, "10.0.0.3:9190"), new(1, "10.0.0.1:9190")];
        KnownMembers.Save(_dir, members);
        Assert.Equal([new KnownMember(1, "10.0.0.1:9190"), new KnownMember(3, "10.0.0.3:9190")], KnownMembers.Load(_dir));
    }

    [Fact]
    public void A_damaged_file_is_refused_with_the_fix_named()
    {
        File.WriteAllText(KnownMembers.PathIn(_dir), "one 10.0.0.1:9190\n");
        var refused = Assert.Throws<InvalidDataException>(() => KnownMembers.Load(_dir));
        Assert.Contains("delete it", refused.Message);
    }

    [Fact]
    public void A_node_on_a_data_directory_of_a_three_node_cluster_waits_for_two_and_looks_for_the_others_at_their_addresses()
    {
        NodeIdentity.LoadOrCreate(_dir, 1);
        KnownMembers.Save(_dir, [new(1, "127.0.0.1:9190"), new(2, "127.0.0.1:9191"), new(3, "127.0.0.1:9192")]);

        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, Port = 9190 });

        Assert.Equal(2, settings.MinMembers);
        Assert.Equal([2, 3], settings.KnownPeers.Select(m => m.NodeId));
        Assert.Equal(2, config.GetInt("akka.cluster.min-nr-of-members"));
        // It seeds itself first (so a full restart in which it comes first still forms a cluster), then the others.
        Assert.Equal(
            ["akka.tcp://broker@127.0.0.1:9190", "akka.tcp://broker@127.0.0.1:9191", "akka.tcp://broker@127.0.0.1:9192"],
            config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void A_new_data_directory_starts_a_cluster_of_one_at_once()
    {
        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, Port = 9190 });
        Assert.Equal(1, settings.MinMembers);
        Assert.Equal(1, config.GetInt("akka.cluster.min-nr-of-members"));
        Assert.Equal(["akka.tcp://broker@127.0.0.1:9190"], config.GetStringList("akka.cluster.seed-nodes"));
    }
}
