using System.Diagnostics.CodeAnalysis;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData.Durable;
using Akka.Event;
using Akka.Serialization;
using Microsoft.Data.Sqlite;

namespace Broker.Server.Metadata;

/// <summary>
/// The Distributed Data durable store of the metadata keys, in a SQLite file of its own
/// (<c>&lt;data-dir&gt;/metadata.db</c>). Akka's LMDB store is not usable here: the only LightningDB on
/// our feed (0.23) changed the API Akka.DistributedData.LightningDB 1.5.73 was built against, and it
/// fails at load with MissingMethodException. SQLite is what the node already embeds.
///
/// Every <see cref="Store"/> is written and fsynced (synchronous=FULL) before it is acknowledged: the
/// replicator answers a WriteMajority only once the local copy is durable, so metadata a client saw
/// acknowledged survives kill -9 of every node. Metadata writes are rare (topic changes, elections,
/// ISR changes), so no write-behind.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "An actor: the connection is closed in PostStop.")]
public sealed class SqliteDurableStore : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _path;
    private readonly SerializerWithStringManifest _serializer;
    private readonly string _manifest;
    private SqliteConnection? _connection;

    /// <param name="durableConfig">akka.cluster.distributed-data.durable; the file is <c>sqlite.path</c>.</param>
    public SqliteDurableStore(Config durableConfig)
    {
        _path = durableConfig.GetString("sqlite.path", null)
            ?? throw new ConfigurationException("akka.cluster.distributed-data.durable.sqlite.path must name the metadata file");
        _serializer = (SerializerWithStringManifest)Context.System.Serialization.FindSerializerForType(typeof(DurableDataEnvelope));
        _manifest = _serializer.Manifest(new DurableDataEnvelope(Akka.DistributedData.GCounter.Empty));
        Receive<LoadAll>(_ => LoadAllEntries());
    }

    protected override void PreStart()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        _connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=FULL;");
        Execute("CREATE TABLE IF NOT EXISTS ddata (key TEXT PRIMARY KEY, value BLOB NOT NULL);");
        _log.Info("metadata store: durable data in {0}", _path);
    }

    protected override void PostStop() => _connection?.Dispose();

    private void LoadAllEntries()
    {
        try
        {
            var data = ImmutableDictionary.CreateBuilder<string, DurableDataEnvelope>();
            using (var command = _connection!.CreateCommand())
            {
                command.CommandText = "SELECT key, value FROM ddata;";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    data[reader.GetString(0)] = (DurableDataEnvelope)_serializer.FromBinary((byte[])reader[1], _manifest);
            }
            if (data.Count > 0) Sender.Tell(new LoadData(data.ToImmutable()));
            Sender.Tell(LoadAllCompleted.Instance);
            Become(Active);
        }
        catch (Exception e)
        {
            // The replicator stops the node's metadata service on this: better than acting on an empty view.
            throw new LoadFailedException($"could not load the metadata store {_path}; restore the file or remove it to rejoin with an empty copy", e);
        }
    }

    private void Active()
    {
        Receive<Store>(store =>
        {
            try
            {
                using var command = _connection!.CreateCommand();
                command.CommandText = "INSERT INTO ddata (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value;";
                command.Parameters.AddWithValue("$key", store.Key);
                command.Parameters.AddWithValue("$value", _serializer.ToBinary(store.Data));
                command.ExecuteNonQuery();
                store.Reply?.ReplyTo.Tell(store.Reply.SuccessMessage);
            }
            catch (Exception e)
            {
                _log.Error(e, "metadata store: could not write {0} to {1}", store.Key, _path);
                store.Reply?.ReplyTo.Tell(store.Reply.FailureMessage);
            }
        });
    }

    private void Execute(string sql)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
