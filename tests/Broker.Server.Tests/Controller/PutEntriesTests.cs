using Broker.Server.Controller;
using Xunit;

namespace Broker.Server.Tests.Controller;

/// <summary>The compare-and-set the broker's metadata tables are written with: all changes or none, against the committed values.</summary>
public sealed class PutEntriesTests
{
    private static PutEntries Put(params EntryChange[] changes) => new("partitions", [.. changes]);

    [Fact]
    public void A_new_key_is_put_only_if_it_is_still_absent()
    {
        var machine = new MetadataStateMachine();
        Assert.IsType<EntriesPut>(machine.Apply(Put(new EntryChange("t/0", null, [1])), 1));
        var refused = Assert.IsType<Refused>(machine.Apply(Put(new EntryChange("t/0", null, [2])), 2));
        Assert.Equal(MetadataError.InvalidUpdateVersion, refused.Error);
        Assert.Equal([1], machine.Image.Map("partitions")["t/0"]);
    }

    [Fact]
    public void A_change_computed_from_a_stale_read_is_refused_and_changes_nothing()
    {
        var machine = new MetadataStateMachine();
        machine.Apply(Put(new EntryChange("t/0", null, [1]), new EntryChange("t/1", null, [1])), 1);
        machine.Apply(Put(new EntryChange("t/1", [1], [2])), 2); // another writer moved t/1 on

        // Both entries read at index 1: t/0 still matches, t/1 does not, so neither is written.
        var refused = Assert.IsType<Refused>(machine.Apply(Put(new EntryChange("t/0", [1], [9]), new EntryChange("t/1", [1], [9])), 3));
        Assert.Contains("t/1", refused.Message);
        Assert.Equal([1], machine.Image.Map("partitions")["t/0"]);
        Assert.Equal([2], machine.Image.Map("partitions")["t/1"]);
        Assert.Equal(3, machine.Image.AppliedIndex);
    }

    [Fact]
    public void A_null_value_removes_the_entry_and_maps_are_independent()
    {
        var machine = new MetadataStateMachine();
        machine.Apply(Put(new EntryChange("k", null, [1])), 1);
        machine.Apply(new PutEntries("topics", [new EntryChange("k", null, [7])]), 2);
        Assert.IsType<EntriesPut>(machine.Apply(Put(new EntryChange("k", [1], null)), 3));
        Assert.False(machine.Image.Map("partitions").ContainsKey("k"));
        Assert.Equal([7], machine.Image.Map("topics")["k"]);
    }

    [Fact]
    public void An_empty_put_is_an_invalid_request()
    {
        var machine = new MetadataStateMachine();
        Assert.Equal(MetadataError.InvalidRequest, Assert.IsType<Refused>(machine.Apply(new PutEntries("partitions", []), 1)).Error);
    }
}
