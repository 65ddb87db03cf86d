using System.Net;
using Broker.Server.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>A voter starts only on a directory formatted for its cluster, its id and its voter set, with its log.</summary>
public sealed class QuorumDirectoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-quorum-dir-" + Guid.NewGuid().ToString("N"));
    private static readonly QuorumVoter[] Voters = [QuorumVoter.Parse("1@127.0.0.1:9101"), QuorumVoter.Parse("2@127.0.0.1:9102"), QuorumVoter.Parse("3@127.0.0.1:9103")];

    private QuorumSettings Settings(int node = 1, string cluster = "c1", QuorumVoter[]? voters = null) => new(node, voters ?? Voters, _dir, cluster);

    [Fact]
    public void An_unformatted_directory_is_refused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => QuorumDirectory.Check(Settings()));
        Assert.Contains("never formatted, or lost its disk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_voter_does_not_start_on_an_unformatted_directory()
    {
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => MetadataQuorum.StartAsync(Settings()));
        Assert.Contains("never formatted", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_of_another_cluster_node_or_voter_set_is_refused()
    {
        QuorumDirectory.Format(Settings());
        QuorumDirectory.Check(Settings());
        QuorumDirectory.Check(Settings(voters: [Voters[2], Voters[0], Voters[1]])); // order does not matter
        Assert.Contains("metadata cluster 'c1'", Assert.Throws<InvalidDataException>(() => QuorumDirectory.Check(Settings(cluster: "c2"))).Message, StringComparison.Ordinal);
        Assert.Contains("belongs to voter 1", Assert.Throws<InvalidDataException>(() => QuorumDirectory.Check(Settings(node: 2))).Message, StringComparison.Ordinal);
        Assert.Contains("formatted for voters", Assert.Throws<InvalidDataException>(() => QuorumDirectory.Check(Settings(voters: [.. Voters, QuorumVoter.Parse("4@127.0.0.1:9104")]))).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => QuorumDirectory.Format(Settings(cluster: "c2")));
    }

    [Fact]
    public void A_voter_that_lost_its_log_is_refused()
    {
        QuorumDirectory.Format(Settings());
        Directory.Delete(QuorumDirectory.LogDirectory(_dir), recursive: true);
        Assert.Contains("lost its Raft log", Assert.Throws<InvalidDataException>(() => QuorumDirectory.Check(Settings())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_voter_lists_and_timeouts_are_refused()
    {
        Assert.Throws<FormatException>(() => QuorumVoter.Parse("127.0.0.1:9101"));
        Assert.Throws<FormatException>(() => QuorumVoter.Parse("0@127.0.0.1:9101"));
        Assert.Throws<FormatException>(() => QuorumVoter.Parse("1@localhost"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9101), Voters[0].Endpoint);
        Assert.Null(Settings(node: 7).Validate()); // an observer
        Assert.NotNull(Settings(voters: [Voters[0], Voters[0]]).Validate());
        Assert.NotNull((Settings() with { RequestTimeout = TimeSpan.FromSeconds(5) }).Validate());
        Assert.Null(Settings().Validate());
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
