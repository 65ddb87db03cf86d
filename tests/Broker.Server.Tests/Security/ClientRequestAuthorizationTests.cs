using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>
/// The client door's rules: which ACL each native request needs and the typed refusal it gets without it (the same
/// operations as the Kafka listener), and the password login against SCRAM credentials.
/// </summary>
public sealed class ClientRequestAuthorizationTests
{
    private const string Alice = "User:alice";

    private static AclBinding Allow(ResourceType type, string name, AclOperation op, string principal = Alice) =>
        new(type, name, PatternType.Literal, principal, "*", op, AclPermissionType.Allow);

    private static AclBinding Deny(ResourceType type, string name, AclOperation op, string principal = Alice) =>
        new(type, name, PatternType.Literal, principal, "*", op, AclPermissionType.Deny);

    private static ClientRequestAuthorization For(params AclBinding[] acls) => new(new Authorizer(acls, ["User:admin"], false), Alice, "10.0.0.5");

    private static readonly ReadOnlyMemory<byte> Batch = new byte[] { 1, 2, 3 };

    [Fact]
    public void Produce_needs_Write_and_a_refused_topic_is_answered_beside_the_written_ones()
    {
        var rules = For(Allow(ResourceType.Topic, "orders", AclOperation.Write));
        var request = new ProduceRequest(1, 1000, [new("orders", 0, Batch), new("audit", 0, Batch)]);

        var forward = Assert.IsType<ClientDecision.Forward>(rules.Decide(request));
        var narrowed = Assert.IsType<ProduceRequest>(forward.Request);
        Assert.Equal("orders", Assert.Single(narrowed.Partitions).Topic);
        var answer = Assert.IsType<ProduceResponse>(forward.Complete!(new ProduceResponse([new ProducePartitionResult("orders", 0, ErrorCode.None, null, 7)])));
        Assert.Equal(ErrorCode.None, answer.Results.Single(r => r.Topic == "orders").Error);
        var refused = answer.Results.Single(r => r.Topic == "audit");
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error);
        Assert.Contains("broker acls add --allow User:alice --operation Write --topic audit", refused.ErrorMessage);
    }

    [Fact]
    public void Produce_with_every_topic_refused_is_answered_without_asking_the_gateway()
    {
        var refuse = Assert.IsType<ClientDecision.Refuse>(For().Decide(new ProduceRequest(1, 1000, [new("orders", 0, Batch)])));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(Assert.IsType<ProduceResponse>(refuse.Response).Results).Error);
    }

    [Fact]
    public void Fetch_needs_Read_and_Describe_alone_is_not_enough()
    {
        var rules = For(Allow(ResourceType.Topic, "orders", AclOperation.Describe));
        var refuse = Assert.IsType<ClientDecision.Refuse>(rules.Decide(new FetchRequest("orders", 0, 0, 1024, 0)));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refuse.Response.Error);
        Assert.IsType<ClientDecision.Forward>(rules.Decide(new ListOffsetsRequest("orders", 0, -1)));
    }

    [Fact]
    public void A_Deny_overrides_an_Allow()
    {
        var rules = For(Allow(ResourceType.Topic, "orders", AclOperation.All), Deny(ResourceType.Topic, "orders", AclOperation.Write));
        Assert.IsType<ClientDecision.Refuse>(rules.Decide(new ProduceRequest(1, 1000, [new("orders", 0, Batch)])));
        Assert.IsType<ClientDecision.Forward>(rules.Decide(new FetchRequest("orders", 0, 0, 1024, 0)));
    }

    [Fact]
    public void A_listing_leaves_out_topics_without_Describe_and_a_named_one_is_refused()
    {
        var rules = For(Allow(ResourceType.Topic, "orders", AclOperation.Read));
        var all = new MetadataResponse([], [Topic("orders"), Topic("secret")]);

        var listing = Assert.IsType<ClientDecision.Forward>(rules.Decide(new MetadataRequest(null)));
        Assert.Equal(["orders"], Assert.IsType<MetadataResponse>(listing.Complete!(all)).Topics.Select(t => t.Name));

        var named = Assert.IsType<ClientDecision.Forward>(rules.Decide(new MetadataRequest(["orders", "secret"])));
        Assert.Equal(["orders"], Assert.IsType<MetadataRequest>(named.Request).Topics!);
        var answer = Assert.IsType<MetadataResponse>(named.Complete!(new MetadataResponse([], [Topic("orders")])));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, answer.Topics.Single(t => t.Name == "secret").Error);
    }

    [Fact]
    public void Group_requests_need_Read_on_the_group_and_a_commit_Read_on_each_topic()
    {
        var rules = For(Allow(ResourceType.Group, "billing", AclOperation.Read), Allow(ResourceType.Topic, "orders", AclOperation.Read));
        Assert.IsType<ClientDecision.Forward>(rules.Decide(new HeartbeatRequest("billing", 1, "m")));
        var other = Assert.IsType<ClientDecision.Refuse>(rules.Decide(new HeartbeatRequest("payroll", 1, "m")));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, other.Response.Error);

        var commitElsewhere = Assert.IsType<ClientDecision.Refuse>(rules.Decide(new OffsetCommitRequest("payroll", 1, "m", [new("orders", 0, 5, null)])));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, commitElsewhere.Response.Error);

        var commit = Assert.IsType<ClientDecision.Forward>(rules.Decide(new OffsetCommitRequest("billing", 1, "m", [new("orders", 0, 5, null), new("audit", 0, 5, null)])));
        Assert.Equal(["orders"], Assert.IsType<OffsetCommitRequest>(commit.Request).Offsets.Select(o => o.Topic));
        var answer = Assert.IsType<OffsetCommitResponse>(commit.Complete!(new OffsetCommitResponse(ErrorCode.None, null, [new("orders", 0, ErrorCode.None, null)])));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, answer.Results.Single(r => r.Topic == "audit").Error);
    }

    [Fact]
    public void Cluster_operations_need_the_cluster_resource()
    {
        var rules = For(Allow(ResourceType.Topic, "orders", AclOperation.Write));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.IsType<ClientDecision.Refuse>(rules.Decide(new ClusterStatusRequest())).Response.Error);
        // Write on some topic makes an idempotent producer (Kafka 2.8+).
        Assert.IsType<ClientDecision.Forward>(rules.Decide(new InitProducerIdRequest()));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.IsType<ClientDecision.Refuse>(For().Decide(new InitProducerIdRequest())).Response.Error);
    }

    [Fact]
    public void Creating_a_topic_needs_Create_on_the_cluster_or_on_that_topic()
    {
        var spec = new TopicSpec("orders", 1, 1, new Dictionary<string, string>());
        Assert.IsType<ClientDecision.Refuse>(For().Decide(new CreateTopicsRequest([spec])));
        Assert.IsType<ClientDecision.Forward>(For(Allow(ResourceType.Topic, "orders", AclOperation.Create)).Decide(new CreateTopicsRequest([spec])));
        Assert.IsType<ClientDecision.Forward>(For(Allow(ResourceType.Cluster, AclBinding.ClusterName, AclOperation.Create)).Decide(new CreateTopicsRequest([spec])));
    }

    [Fact]
    public void ListGroups_leaves_out_groups_without_Describe()
    {
        var forward = Assert.IsType<ClientDecision.Forward>(For(Allow(ResourceType.Group, "billing", AclOperation.Read)).Decide(new ListGroupsRequest()));
        var answer = Assert.IsType<ListGroupsResponse>(forward.Complete!(new ListGroupsResponse(ErrorCode.None, null,
            [new GroupListing("billing", "Stable", "consumer", 1), new GroupListing("payroll", "Stable", "consumer", 1)])));
        Assert.Equal(["billing"], answer.Groups.Select(g => g.GroupId));
    }

    [Fact]
    public void A_login_succeeds_only_with_the_users_password()
    {
        var users = new InMemoryCredentialStore().Add("alice", "alice-secret");
        Assert.Equal(Alice, Assert.IsType<LoginOutcome.LoggedIn>(PasswordLogin.Check(users, "alice", "alice-secret")).Principal);
        var wrong = Assert.IsType<LoginOutcome.Refused>(PasswordLogin.Check(users, "alice", "guess"));
        var unknown = Assert.IsType<LoginOutcome.Refused>(PasswordLogin.Check(users, "mallory", "alice-secret"));
        // The same words for both, so the answer does not reveal who exists.
        Assert.Equal(wrong.Message.Replace("alice", "X"), unknown.Message.Replace("mallory", "X"));
        Assert.IsType<LoginOutcome.Refused>(PasswordLogin.Check(users, "", ""));
    }

    [Fact]
    public void A_login_checks_a_credential_that_only_has_the_salted_keys()
    {
        // What `broker users add` stores: the client salted and hashed the password; the node never saw it.
        var salt = new byte[] { 9, 8, 7, 6, 5, 4, 3, 2 };
        var salted = ScramCredential.SaltedPassword(ScramMechanism.Sha256, "bob-secret", salt, 4096);
        var store = new SingleCredential("bob", ScramCredential.FromSaltedPassword(ScramMechanism.Sha256, salt, 4096, salted));
        Assert.IsType<LoginOutcome.LoggedIn>(PasswordLogin.Check(store, "bob", "bob-secret"));
        Assert.IsType<LoginOutcome.Refused>(PasswordLogin.Check(store, "bob", "bob-secreT"));
    }

    private static TopicMetadata Topic(string name) => new(name, "id", ErrorCode.None, null, 1, new Dictionary<string, string>(), []);

    private sealed class SingleCredential(string user, ScramCredential credential) : ICredentialStore
    {
        public ScramCredential? Find(string name, ScramMechanism mechanism) => name == user && mechanism == credential.Mechanism ? credential : null;
    }
}
