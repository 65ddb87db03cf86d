using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentFixtures;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>What every assignor promises the coordinator, whatever its strategy.</summary>
public sealed class AssignorContractTests
{
    public static TheoryData<string> AssignorNames() => new(PartitionAssignors.Names);

    private static IPartitionAssignor Assignor(string name) => PartitionAssignors.Find(name)!;

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void An_empty_group_gets_an_empty_assignment(string name) =>
        Assert.Empty(Assignor(name).Assign([], Counts(("t0", 3))));

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void Members_subscribed_only_to_missing_topics_get_empty_lists(string name)
    {
        var result = Assignor(name).Assign([Member("c0", "ghost"), Member("c1", "t0")], Counts(("t0", 2), ("empty", 0)));

        Assert.Empty(result["c0"]);
        Assert.Equal("t0-0 t0-1", Text(result["c1"]));
    }

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void A_topic_nobody_subscribes_to_is_not_assigned(string name)
    {
        var result = Assignor(name).Assign([Member("c0", "t0")], Counts(("t0", 1), ("t1", 5)));

        Assert.Equal("t0-0", Text(result["c0"]));
    }

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void Duplicate_member_ids_are_rejected(string name) =>
        Assert.Throws<ArgumentException>(() => Assignor(name).Assign([Member("c0", "t0"), Member("c0", "t0")], Counts(("t0", 1))));

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void Result_enumerates_members_in_ordinal_id_order(string name)
    {
        var result = Assignor(name).Assign([Member("b", "t0"), Member("B", "t0"), Member("a", "t0")], Counts(("t0", 3)));

        Assert.Equal(["B", "a", "b"], result.Keys);
    }
}
