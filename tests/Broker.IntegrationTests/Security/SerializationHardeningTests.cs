using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Broker.Client;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Frames a stranger crafts with Akka's own types, at a node's Akka.Remote port without TLS (so they reach its
/// deserializers): a request tagged with Akka's JSON serializer (id 1, a <c>$type</c> naming a real broker message that
/// would create a topic), raw JSON with a <c>$type</c> naming a BCL type, and a remote deployment (DaemonMsgCreate, id 3).
/// The node refuses each before reading it, nothing happens, the association and the node carry on. Run at the cluster
/// port (<see cref="SerializationHardeningAtTheClusterPortTests"/>) and at the native client door, a second ActorSystem
/// with a config of its own (<see cref="SerializationHardeningAtTheClientDoorTests"/>).
/// </summary>
public abstract class SerializationHardeningTests : IAsyncLifetime
{
    private const string JsonRefused = "refused a message for serializer 1";
    private const string DeployRefused = "refused a message for serializer 3";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-serialization-" + Guid.NewGuid().ToString("N"));
    private BrokerProcess _node = null!;
    private ActorSystem _stranger = null!;
    private string _target = null!;

    /// <summary>Starts the node in <paramref name="dir"/> and returns it with the host:port of the Akka.Remote system under test.</summary>
    protected abstract Task<(BrokerProcess Node, string Target)> StartAsync(string dir);

    public async Task InitializeAsync()
    {
        (_node, _target) = await StartAsync(_dir);
        // Akka's defaults (the real JSON serializer on System.Object), plus what it takes to read the node's replies.
        _stranger = ActorSystem.Create("stranger", ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers {
              broker-protocol = "Broker.Protocol.Serialization.BrokerSerializer, Broker.Protocol"
              raw-json = "{{typeof(RawJsonSerializer).AssemblyQualifiedName}}"
            }
            akka.actor.serialization-identifiers { "Broker.Protocol.Serialization.BrokerSerializer, Broker.Protocol" = 4100 }
            akka.actor.serialization-bindings {
              "Broker.Protocol.Messages.IBrokerMessage, Broker.Protocol" = broker-protocol
              "Broker.Protocol.Messages.CreateTopicsRequest, Broker.Protocol" = json
              "{{typeof(RawJson).AssemblyQualifiedName}}" = raw-json
            }
            akka.actor.deployment./deployed.remote = "akka.tcp://broker@{{_target}}"
            """));
    }

    public async Task DisposeAsync()
    {
        await _stranger.Terminate();
        _node.Dispose();
        TlsClusterFixture.DeleteQuietly(_dir);
    }

    [Fact]
    public async Task A_request_tagged_with_the_JSON_serializer_is_refused_and_nothing_is_created()
    {
        var gateway = await IdentifyGatewayAsync();
        var before = TlsClusterFixture.Count(_node, JsonRefused);
        // Serialized by Akka's JSON serializer: {"$type":"Broker.Protocol.Messages.CreateTopicsRequest, Broker.Protocol",...}.
        gateway.Tell(new CreateTopicsRequest([new TopicSpec("smuggled", 1, 1, new Dictionary<string, string>())]));
        await TlsClusterFixture.WaitForMoreAsync(_node, JsonRefused, before, "the node refuses the JSON-tagged frame");

        // The same association still works, and the node serves: a properly framed create succeeds, the smuggled one never happened.
        Assert.Equal(gateway, await IdentifyGatewayAsync());
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = _target, RequestTimeout = TimeSpan.FromSeconds(15) });
        var created = await admin.CreateTopicsAsync([new TopicSpec("proper", 1, 1, new Dictionary<string, string>())]);
        Assert.Equal(Broker.Protocol.ErrorCode.None, created[0].Error);
        var topics = (await admin.GetMetadataAsync(null)).Topics.Select(t => t.Name).ToList();
        Assert.Contains("proper", topics);
        Assert.DoesNotContain("smuggled", topics);
    }

    [Fact]
    public async Task Hand_written_JSON_naming_a_framework_type_is_refused_unread()
    {
        var gateway = await IdentifyGatewayAsync();
        var before = TlsClusterFixture.Count(_node, JsonRefused);
        gateway.Tell(new RawJson("""{"$type":"System.IO.FileInfo, System.Private.CoreLib","fileName":"/tmp/broker-gadget"}"""));
        gateway.Tell(new RawJson("""{"$type":"System.Diagnostics.ProcessStartInfo, System.Diagnostics.Process","FileName":"/bin/true"}"""));
        await TlsClusterFixture.WaitForMoreAsync(_node, JsonRefused, before + 1, "the node refuses both hand-written JSON frames");
        Assert.Equal(gateway, await IdentifyGatewayAsync());
        Assert.False(_node.HasExited);
    }

    [Fact]
    public async Task A_remote_deployment_is_refused()
    {
        var before = TlsClusterFixture.Count(_node, DeployRefused);
        // akka.actor.deployment./deployed.remote makes this ActorOf a DaemonMsgCreate to the node's RemoteSystemDaemon.
        _stranger.ActorOf(Props.Create<Echo>(), "deployed");
        await TlsClusterFixture.WaitForMoreAsync(_node, DeployRefused, before, "the node refuses the remote deployment");
        Assert.DoesNotContain("Echo", _node.Output);
        await IdentifyGatewayAsync();
    }

    [Fact]
    public async Task Garbage_and_a_TLS_client_with_a_self_signed_certificate_reach_nothing()
    {
        var port = int.Parse(_target[(_target.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(await Broker.Tests.Strangers.PlainIsUnansweredAsync(port, Broker.Tests.Strangers.Garbage()), "the port answered garbage");
        Assert.True(await Broker.Tests.Strangers.PlainIsUnansweredAsync(port, Broker.Tests.Strangers.JsonTypeFrame()), "the port answered a bare JSON-tagged frame");
        Assert.True(await Broker.Tests.Strangers.SelfSignedTlsIsUnansweredAsync(port, Broker.Tests.Strangers.JsonTypeFrame()), "the port answered a TLS client");
        Assert.False(_node.HasExited, _node.Output);
        await IdentifyGatewayAsync();
    }

    private async Task<IActorRef> IdentifyGatewayAsync()
    {
        var identity = await _stranger.ActorSelection($"akka.tcp://broker@{_target}/user/gateway").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(15));
        return identity.Subject ?? throw new InvalidOperationException("no gateway at the node");
    }

    /// <summary>An actor a stranger would like to run on the node.</summary>
    public sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    /// <summary>JSON text the stranger writes itself, sent as serializer id 1 (Akka's JSON serializer).</summary>
    public sealed record RawJson(string Text);

    /// <summary>Frames <see cref="RawJson"/> as Akka's JSON serializer would: its id, the bytes as written.</summary>
    public sealed class RawJsonSerializer(ExtendedActorSystem system) : Serializer(system)
    {
        public override int Identifier => 1;
        public override bool IncludeManifest => false;
        public override byte[] ToBinary(object obj) => Encoding.UTF8.GetBytes(((RawJson)obj).Text);
        public override object FromBinary(byte[] bytes, Type type) => new RawJson(Encoding.UTF8.GetString(bytes));
    }
}

/// <summary>At the node's own Akka.Remote port (broker.node.port), the cluster's.</summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class SerializationHardeningAtTheClusterPortTests : SerializationHardeningTests
{
    protected override async Task<(BrokerProcess Node, string Target)> StartAsync(string dir)
    {
        var node = await BrokerProcess.StartNodeAsync(dir, timeout: TimeSpan.FromSeconds(90));
        return (node, node.Bootstrap);
    }
}

/// <summary>
/// At the native client door (broker.client-door.port), which builds its own config (ClientDoor.DoorConfig) over Akka's
/// defaults: the protocol config must replace Akka's JSON serializer and remote deployment there too. No login, no TLS,
/// so a smuggled request would be served if it got through.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class SerializationHardeningAtTheClientDoorTests : SerializationHardeningTests
{
    protected override async Task<(BrokerProcess Node, string Target)> StartAsync(string dir)
    {
        var door = BrokerProcess.FreePort();
        Directory.CreateDirectory(dir);
        var conf = Path.Combine(dir, "door.conf");
        await File.WriteAllTextAsync(conf, $"broker.client-door {{ enabled = on, port = {door} }}\n");
        var node = await BrokerProcess.StartNodeAsync(Path.Combine(dir, "n1"), timeout: TimeSpan.FromSeconds(90), extraArgs: ["--config", conf]);
        return (node, $"127.0.0.1:{door}");
    }
}
