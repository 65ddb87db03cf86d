using Akka.Actor;
using Broker.Server.Metadata;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;
using Broker.Server.Serialization;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>Kafka's ACL rules (deny wins, implications, super users, no ACL found) and the replicated tables that hold ACLs and users.</summary>
public sealed class AuthorizerTests
{
    private const string Alice = "User:alice";
    private const string Bob = "User:bob";

    private static AclBinding Acl(ResourceType type, string name, string principal, AclOperation op, AclPermissionType permission = AclPermissionType.Allow,
        PatternType pattern = PatternType.Literal, string host = "*") => new(type, name, pattern, principal, host, op, permission);

    private static Authorizer With(params AclBinding[] acls) => new(acls, ["User:admin"], allowEveryoneIfNoAclFound: false);

    [Fact]
    public void No_ACL_means_denied_unless_allow_everyone_if_no_acl_found()
    {
        Assert.False(With().Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "t"));
        Assert.True(new Authorizer([], [], allowEveryoneIfNoAclFound: true).Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "t"));
        // An ACL for someone else on the resource counts: allow-everyone no longer applies to it.
        Assert.False(new Authorizer([Acl(ResourceType.Topic, "t", Bob, AclOperation.Read)], [], true).Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "t"));
    }

    [Fact]
    public void A_super_user_may_do_anything()
    {
        var authorizer = With(Acl(ResourceType.Topic, "*", AclBinding.AnyUser, AclOperation.All, AclPermissionType.Deny));
        Assert.True(authorizer.Authorize("User:admin", "h", AclOperation.Delete, ResourceType.Topic, "t"));
        Assert.True(authorizer.IsSuperUser("User:admin"));
    }

    [Fact]
    public void Deny_overrides_allow()
    {
        var authorizer = With(Acl(ResourceType.Topic, "orders", Alice, AclOperation.All), Acl(ResourceType.Topic, "ord", Alice, AclOperation.Write, AclPermissionType.Deny, PatternType.Prefixed));
        Assert.True(authorizer.Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "orders"));
        Assert.False(authorizer.Authorize(Alice, "h", AclOperation.Write, ResourceType.Topic, "orders"));
    }

    [Fact]
    public void Read_write_delete_and_alter_imply_describe_but_a_deny_implies_nothing_more()
    {
        foreach (var op in new[] { AclOperation.Read, AclOperation.Write, AclOperation.Delete, AclOperation.Alter })
            Assert.True(With(Acl(ResourceType.Topic, "t", Alice, op)).Authorize(Alice, "h", AclOperation.Describe, ResourceType.Topic, "t"));
        Assert.False(With(Acl(ResourceType.Topic, "t", Alice, AclOperation.Create)).Authorize(Alice, "h", AclOperation.Describe, ResourceType.Topic, "t"));
        Assert.True(With(Acl(ResourceType.Topic, "t", Alice, AclOperation.AlterConfigs)).Authorize(Alice, "h", AclOperation.DescribeConfigs, ResourceType.Topic, "t"));
        var denyRead = With(Acl(ResourceType.Topic, "t", Alice, AclOperation.Describe), Acl(ResourceType.Topic, "t", Alice, AclOperation.Read, AclPermissionType.Deny));
        Assert.True(denyRead.Authorize(Alice, "h", AclOperation.Describe, ResourceType.Topic, "t"));
    }

    [Fact]
    public void Patterns_principals_and_hosts_match_as_in_Kafka()
    {
        var authorizer = With(
            Acl(ResourceType.Topic, "logs-", Alice, AclOperation.Read, pattern: PatternType.Prefixed),
            Acl(ResourceType.Group, "*", AclBinding.AnyUser, AclOperation.Read),
            Acl(ResourceType.Topic, "pinned", Alice, AclOperation.Read, host: "10.0.0.1"));
        Assert.True(authorizer.Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "logs-web"));
        Assert.False(authorizer.Authorize(Alice, "h", AclOperation.Read, ResourceType.Topic, "log"));
        Assert.False(authorizer.Authorize(Bob, "h", AclOperation.Read, ResourceType.Topic, "logs-web"));
        Assert.True(authorizer.Authorize(Bob, "h", AclOperation.Read, ResourceType.Group, "any-group"));
        Assert.True(authorizer.Authorize(Alice, "10.0.0.1", AclOperation.Read, ResourceType.Topic, "pinned"));
        Assert.False(authorizer.Authorize(Alice, "10.0.0.2", AclOperation.Read, ResourceType.Topic, "pinned"));
    }

    [Fact]
    public void Write_on_some_topic_lets_a_producer_be_idempotent()
    {
        Assert.True(With(Acl(ResourceType.Topic, "t", Alice, AclOperation.Write)).AuthorizeAny(Alice, "h", AclOperation.Write, ResourceType.Topic));
        Assert.False(With(Acl(ResourceType.Topic, "t", Alice, AclOperation.Read)).AuthorizeAny(Alice, "h", AclOperation.Write, ResourceType.Topic));
        Assert.False(With(Acl(ResourceType.Topic, "t", Alice, AclOperation.Write), Acl(ResourceType.Topic, "*", Alice, AclOperation.All, AclPermissionType.Deny))
            .AuthorizeAny(Alice, "h", AclOperation.Write, ResourceType.Topic));
    }

    [Fact]
    public void Settings_are_off_by_default_and_a_super_user_must_be_a_principal()
    {
        var defaults = AuthorizationSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString("authorization { enabled = off }"));
        Assert.False(defaults.Enabled);
        var on = AuthorizationSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString("""authorization { enabled = on, super-users = ["User:admin"] }"""));
        Assert.True(on.Enabled);
        Assert.Contains("User:admin", on.SuperUsers);
        var wrong = Assert.Throws<Akka.Configuration.ConfigurationException>(() =>
            AuthorizationSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString("""authorization { enabled = on, super-users = ["admin"] }""")));
        Assert.Contains("User:NAME", wrong.Message);
    }

    [Fact]
    public void An_ACL_removed_and_added_again_moves_forward_and_both_tables_round_trip()
    {
        var acl = Acl(ResourceType.Topic, "t", Alice, AclOperation.Read);
        var (removed, gone) = AclTable.Empty.Add(acl).Remove(new AclFilter(Principal: Alice));
        var again = removed.Add(acl);
        Assert.Single(gone);
        Assert.Empty(removed.Live());
        Assert.Equal(3, again.Get(acl.Key)!.Version);
        Assert.Equal(acl, Assert.Single(again.Live()));
        // A stale copy that still has the ACL never wins against the tombstone.
        Assert.Empty(removed.Merge(AclTable.Empty.Add(acl)).Live());

        var users = UserTable.Empty.SetCredential("alice", ScramCredential.Create(ScramMechanism.Sha512, "secret"))
            .SetCredential("alice", ScramCredential.Create(ScramMechanism.Sha256, "secret"));
        using var system = ActorSystem.Create("security-tables");
        var serializer = new ServerSerializer((ExtendedActorSystem)system);
        var aclsBack = Assert.IsType<AclTable>(serializer.FromBinary(serializer.ToBinary(again), serializer.Manifest(again)));
        var usersBack = Assert.IsType<UserTable>(serializer.FromBinary(serializer.ToBinary(users), serializer.Manifest(users)));
        Assert.Equal(again.Get(acl.Key), aclsBack.Get(acl.Key));
        Assert.True(usersBack.Find("alice")!.Find(ScramMechanism.Sha512)!.Matches("secret"));
        Assert.Equal(2, usersBack.Find("alice")!.Credentials.Length);
        Assert.Null(usersBack.RemoveCredential("alice", null).Find("alice"));
        Assert.Empty(usersBack.RemoveCredential("alice", null).Get("alice")!.Credentials);
    }
}
