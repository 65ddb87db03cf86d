using System.Globalization;
using Broker.Server.Membership;
using Xunit;

namespace Broker.Server.Tests.Hosting;

public sealed class NodeIdentityTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "node-identity-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_requested_id_is_kept_by_the_data_directory_and_another_one_is_refused_with_the_fix()
    {
        Assert.Equal(3, NodeIdentity.LoadOrCreate(_dir, 3));
        Assert.Equal(3, NodeIdentity.LoadOrCreate(_dir));      // restarts without the flag keep it
        Assert.Equal(3, NodeIdentity.LoadOrCreate(_dir, 3));
        var refused = Assert.Throws<InvalidDataException>(() => NodeIdentity.LoadOrCreate(_dir, 4));
        Assert.Contains("belongs to node 3", refused.Message);
        Assert.Contains("--node-id 3", refused.Message);
    }

    [Fact]
    public void Without_a_request_a_new_directory_gets_a_random_positive_id()
    {
        var id = NodeIdentity.LoadOrCreate(_dir);
        Assert.True(id > 0);
        Assert.Equal(id, int.Parse(File.ReadAllText(Path.Combine(_dir, "node.id")), CultureInfo.InvariantCulture));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeIdentity.LoadOrCreate(_dir + "-x", 0));
    }
}
