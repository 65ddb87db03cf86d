using Broker.Server.Membership;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>Who forms the cluster when nodes cannot join one: the metadata quorum's controller, first among the seeds.</summary>
public sealed class FormationRuleTests
{
    private static readonly KnownMember[] Known = [new(1, "10.0.0.1:9190"), new(2, "10.0.0.2:9190"), new(3, "10.0.0.3:9190")];
    private static readonly string[] ConfiguredSeeds = ["10.0.0.1:9190"];
    private static readonly TimeSpan Late = FormationRule.Grace + TimeSpan.FromSeconds(1);

    [Fact]
    public void The_controller_puts_itself_first_so_that_it_may_form_the_cluster_after_asking_the_others()
    {
        var seeds = FormationRule.SeedsToJoin(Late, controllerId: 2, askedFor: null, selfId: 2, "10.0.0.2:9190", Known, ConfiguredSeeds);
        Assert.Equal(["10.0.0.2:9190", "10.0.0.1:9190", "10.0.0.3:9190"], seeds);
    }

    [Fact]
    public void The_others_put_the_controller_first_so_that_they_join_the_cluster_it_forms()
    {
        // The configured seed (node 1) is dead: without this, nodes 2 and 3 would ask it, and each other, for ever.
        var seeds = FormationRule.SeedsToJoin(Late, controllerId: 2, askedFor: null, selfId: 3, "10.0.0.3:9190", Known, ConfiguredSeeds);
        Assert.Equal(["10.0.0.2:9190", "10.0.0.1:9190"], seeds);
    }

    [Fact]
    public void Akka_s_own_join_gets_the_grace_period_first()
    {
        Assert.Null(FormationRule.SeedsToJoin(FormationRule.Grace - TimeSpan.FromSeconds(1), 2, null, 2, "10.0.0.2:9190", Known, ConfiguredSeeds));
    }

    [Fact]
    public void Nothing_is_asked_without_a_controller_or_twice_for_the_same_one_but_again_when_it_changes()
    {
        Assert.Null(FormationRule.SeedsToJoin(Late, controllerId: null, null, 3, "10.0.0.3:9190", Known, ConfiguredSeeds));
        Assert.Null(FormationRule.SeedsToJoin(Late, controllerId: 2, askedFor: 2, 3, "10.0.0.3:9190", Known, ConfiguredSeeds));
        Assert.Equal("10.0.0.1:9190", FormationRule.SeedsToJoin(Late, controllerId: 1, askedFor: 2, 3, "10.0.0.3:9190", Known, ConfiguredSeeds)![0]);
    }

    [Fact]
    public void A_controller_whose_address_this_node_never_learned_is_not_guessed()
    {
        KnownMember[] onlyOne = [new(1, "10.0.0.1:9190")];
        Assert.Null(FormationRule.SeedsToJoin(Late, controllerId: 2, null, 3, "10.0.0.3:9190", onlyOne, ConfiguredSeeds));
    }
}
