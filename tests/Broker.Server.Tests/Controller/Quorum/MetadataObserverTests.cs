using System.Collections.Concurrent;
using Akka.Actor;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;
using Broker.Server.Metadata;
using Broker.Server.Serialization;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// A node that is not a voter (<see cref="MetadataObserver"/>) against three real Raft voters in this process, served by
/// a voter's real <see cref="MetadataServerActor"/> (the link asks the actor directly instead of over Akka.Remote).
/// </summary>
public sealed class MetadataObserverTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly QuorumTestCluster _voters = new(snapshotEvery: 5);
    private readonly ActorSystem _system = ActorSystem.Create("observer-tests");

    public Task InitializeAsync() => _voters.StartAsync(1, 2, 3);

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        await _voters.DisposeAsync();
    }

    private static RegisterBroker Broker(int id) => new(id, Guid.NewGuid(), -1);

    private MetadataObserver Observer(int servedBy, out IActorRef server)
    {
        var settings = _voters.Settings[0] with { NodeId = 4, Directory = Path.Combine(Path.GetTempPath(), "unused") };
        server = _system.ActorOf(MetadataServerActor.Props(_voters[servedBy], TimeSpan.FromSeconds(5)));
        var observer = new MetadataObserver(settings);
        observer.Attach(new ServerLink(server));
        return observer;
    }

    [Fact]
    public async Task An_observer_that_joins_late_gets_the_image_then_follows_every_record_in_log_order()
    {
        var leader = await _voters.LeaderAsync(Deadline);
        for (var id = 1; id <= 12; id++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(id)));
        // "Late" means the serving voter applied all 12 before the observer came: a follower voter can lag the commit,
        // and its feed would then serve the records one by one instead of the image.
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(_voters[2].Image.Brokers.Count == 12), Deadline, "voter 2 applies the 12 records");

        await using var observer = Observer(servedBy: 2, out _);
        var seen = new ConcurrentQueue<MetadataChange>();
        observer.Subscribe(seen.Enqueue);
        using (var cts = new CancellationTokenSource(Deadline))
            Assert.Equal(Enumerable.Range(1, 12), (await observer.ReadAsync(cts.Token)).Brokers.Keys);

        for (var id = 13; id <= 15; id++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(id)));
        // Followed by the long poll alone: no read asks for them.
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(observer.Image.Brokers.Count == 15), Deadline, "the observer follows new records");

        Assert.IsType<SnapshotLoaded>(seen.First());
        var applied = seen.OfType<RecordApplied>().ToArray();
        Assert.Equal([13, 14, 15], applied.Select(a => ((RegisterBroker)a.Record).BrokerId).TakeLast(3));
        Assert.True(applied.Zip(applied.Skip(1)).All(pair => pair.Item1.Index < pair.Item2.Index), "records applied in log order");
        Assert.All(applied, a => Assert.IsType<BrokerRegistered>(a.Result));
        Assert.Equal(_voters[2].Image.Brokers.Keys, observer.Image.Brokers.Keys);
        Assert.Equal(4, observer.NodeId);
        Assert.False(observer.IsController);
        Assert.Equal(leader.NodeId, observer.ControllerId);
    }

    [Fact]
    public async Task A_proposal_through_an_observer_commits_on_the_voters_and_is_in_its_image_when_it_returns()
    {
        var leader = await _voters.LeaderAsync(Deadline);
        var follower = _voters.Running.First(v => v != leader);
        await using var observer = Observer(servedBy: follower.NodeId, out _);

        using var cts = new CancellationTokenSource(Deadline);
        Assert.IsType<BrokerRegistered>(await observer.ProposeAsync(Broker(7), cts.Token));

        Assert.Contains(7, observer.Image.Brokers.Keys); // read your writes, without waiting
        Assert.Contains(7, (await leader.ReadAsync(cts.Token)).Brokers.Keys);
        var refused = Assert.IsType<Refused>(await observer.ProposeAsync(Broker(-1), cts.Token));
        Assert.Equal(MetadataError.InvalidRequest, refused.Error);
    }

    [Fact]
    public async Task A_read_through_an_observer_sees_every_record_committed_before_it()
    {
        var leader = await _voters.LeaderAsync(Deadline);
        await using var observer = Observer(servedBy: leader.NodeId == 1 ? 2 : 1, out _);
        using var cts = new CancellationTokenSource(Deadline);
        await observer.ReadAsync(cts.Token);

        for (var id = 1; id <= 20; id++)
        {
            Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(id)));
            Assert.Contains(id, (await observer.ReadAsync(cts.Token)).Brokers.Keys);
        }
    }

    [Fact]
    public async Task An_observer_whose_voter_has_no_majority_neither_reads_nor_commits()
    {
        var leader = await _voters.LeaderAsync(Deadline);
        var servedBy = _voters.Running.First(v => v != leader).NodeId;
        await using var observer = Observer(servedBy, out _);
        using (var cts = new CancellationTokenSource(Deadline)) await observer.ReadAsync(cts.Token);

        await _voters.StopAsync([.. _voters.Running.Select(v => v.NodeId).Where(id => id != servedBy)]);

        using var shortly = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => observer.ReadAsync(shortly.Token));
        using var alsoShortly = new CancellationTokenSource(TimeSpan.FromSeconds(12));
        var outcome = await observer.ProposeAsync(Broker(9), alsoShortly.Token);
        Assert.Equal(MetadataError.OutcomeUnknown, Assert.IsType<Refused>(outcome).Error);
        Assert.DoesNotContain(9, _voters[servedBy].Image.Brokers.Keys);
    }

    [Fact]
    public void Observer_messages_round_trip_through_the_node_serializer()
    {
        var serializer = new ServerSerializer((ExtendedActorSystem)_system);
        var fetched = new MetadataFetched(42, 3, [1, 2, 3], [new FetchedRecord(40, new byte[] { 9 }), new FetchedRecord(42, new byte[] { 8, 7 })]);
        var back = Assert.IsType<MetadataFetched>(serializer.FromBinary(serializer.ToBinary(fetched), serializer.Manifest(fetched)));
        Assert.Equal((42L, 3), (back.AppliedIndex, back.ControllerId));
        Assert.Equal(fetched.Snapshot, back.Snapshot);
        Assert.Equal([40L, 42L], back.Records.Select(r => r.Index));
        Assert.Equal(fetched.Records[1].Record.ToArray(), back.Records[1].Record.ToArray());
        var noSnapshot = fetched with { Snapshot = null, Records = [] };
        Assert.Null(Assert.IsType<MetadataFetched>(serializer.FromBinary(serializer.ToBinary(noSnapshot), serializer.Manifest(noSnapshot))).Snapshot);
        var fetch = new MetadataFetch(5, true, 1000);
        Assert.Equal(fetch, serializer.FromBinary(serializer.ToBinary(fetch), serializer.Manifest(fetch)));
        Assert.Equal("no majority", Assert.IsType<MetadataUnavailable>(serializer.FromBinary(serializer.ToBinary(new MetadataUnavailable("no majority")), "MU@1")).Reason);
        Assert.Equal([5, 6], Assert.IsType<MetadataPropose>(serializer.FromBinary(serializer.ToBinary(new MetadataPropose([5, 6])), "MP@1")).Record);
        Assert.Equal([7], Assert.IsType<MetadataProposed>(serializer.FromBinary(serializer.ToBinary(new MetadataProposed([7])), "MPD@1")).Result);
        var check = new MembershipCheck("akka.tcp://broker@10.0.0.1:9190", -123456);
        Assert.Equal(check, serializer.FromBinary(serializer.ToBinary(check), "MC@1"));
        Assert.Equal(new MembershipChecked(true, false), serializer.FromBinary(serializer.ToBinary(new MembershipChecked(true, false)), "MCD@1"));
    }

    [Fact]
    public async Task An_observer_that_cannot_apply_an_answer_says_so_and_keeps_following()
    {
        var leader = await _voters.LeaderAsync(Deadline);
        var settings = _voters.Settings[0] with { NodeId = 4, Directory = Path.Combine(Path.GetTempPath(), "unused") };
        var logs = new CapturingLoggerFactory();
        await using var observer = new MetadataObserver(settings, logs);
        observer.Attach(new FailingOnceLink(new ServerLink(_system.ActorOf(MetadataServerActor.Props(_voters[2], TimeSpan.FromSeconds(5))))));

        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(observer.Image.Brokers.ContainsKey(1)), Deadline, "the observer follows on after the bad answer");
        Assert.Contains(logs.Lines, line => line.StartsWith("Error:", StringComparison.Ordinal) && line.Contains("could not apply what a voter sent") && line.Contains("garbled"));
    }

    /// <summary>The first fetch fails as an answer the observer cannot use would (not "no voter answered").</summary>
    private sealed class FailingOnceLink(IVoterLink inner) : IVoterLink
    {
        private int _fetches;

        public Task<MetadataFetched> FetchAsync(MetadataFetch fetch, CancellationToken ct) =>
            Interlocked.Increment(ref _fetches) == 1 ? throw new Broker.Protocol.Serialization.WireFormatException("garbled record") : inner.FetchAsync(fetch, ct);

        public Task<MetadataResult> ProposeAsync(byte[] record, CancellationToken ct) => inner.ProposeAsync(record, ct);
    }

    /// <summary>Keeps every log line as "Level: message (exception message)".</summary>
    private sealed class CapturingLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue($"{logLevel}: {formatter(state, exception)} ({exception?.Message})");
    }

    /// <summary>The observer's link straight to one voter's server actor.</summary>
    private sealed class ServerLink(IActorRef server) : IVoterLink
    {
        public async Task<MetadataFetched> FetchAsync(MetadataFetch fetch, CancellationToken ct) =>
            await server.Ask<object>(fetch, TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(fetch.WaitMs), ct) switch
            {
                MetadataFetched fetched => fetched,
                MetadataUnavailable unavailable => throw new MetadataUnavailableException(unavailable.Reason),
                var other => throw new InvalidOperationException($"unexpected {other}"),
            };

        public async Task<MetadataResult> ProposeAsync(byte[] record, CancellationToken ct) =>
            MetadataCodec.DecodeResult((await server.Ask<MetadataProposed>(new MetadataPropose(record), TimeSpan.FromSeconds(30), ct)).Result);
    }
}
