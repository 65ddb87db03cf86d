using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace Broker.Server.Partitions;

/// <summary>
/// Reads a range of a partition's stored batches straight from the SQLite journal's table, for fetches older than
/// the tail cache. A replay through Akka.Persistence (<see cref="ColdReaderActor"/>) cost a fixed ~25-80 ms per read
/// on our loaded 2-core machines whatever its size (a stream materialised per query, one message per event); a
/// Kafka consumer, which waits for every partition of its one fetch in flight, paid it on every fetch. Batches are
/// stored as they arrived (ServerSerializer writes a BatchAppended as its bytes, manifest "B"), so this is one
/// indexed SELECT on the journal's (persistence_id, sequence_number) key. Reads run beside the journal's writer
/// (WAL: readers see the last committed transaction and never block it); a batch is read only after the partition
/// has seen its write committed, so it is always there.
/// </summary>
internal sealed class JournalBatchReader(string connectionString)
{
    private const string Query = """
        SELECT sequence_number, message FROM journal
        WHERE persistence_id = $id AND sequence_number BETWEEN $from AND $to AND deleted = 0 AND manifest = 'B'
        ORDER BY sequence_number
        """;

    /// <summary>A reader for the node's journal, or null when the journal is not Akka.Persistence.Sql on SQLite (then replays are used).</summary>
    public static JournalBatchReader? For(Config config)
    {
        if (config.GetString("akka.persistence.journal.plugin", "") != "akka.persistence.journal.sql") return null;
        if (!config.GetString("akka.persistence.journal.sql.provider-name", "").StartsWith("SQLite", StringComparison.Ordinal)) return null;
        if (config.GetString("akka.persistence.journal.sql.table-mapping", "default") is not ("default" or "sqlite")) return null;
        var connection = config.GetString("akka.persistence.journal.sql.connection-string", "");
        return connection.Length == 0 ? null : new JournalBatchReader(connection);
    }

    /// <summary>The stored batches with sequence numbers in [from, to], in order; failures become the read's Failure, as a replay's do.</summary>
    public ColdBatchesRead Read(string persistenceId, long from, long to, long requestId)
    {
        var batches = new List<(long SequenceNr, byte[] Batch)>();
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = Query;
            command.Parameters.AddWithValue("$id", persistenceId);
            command.Parameters.AddWithValue("$from", from);
            command.Parameters.AddWithValue("$to", to);
            using var reader = command.ExecuteReader();
            while (reader.Read()) batches.Add((reader.GetInt64(0), (byte[])reader.GetValue(1)));
            return new ColdBatchesRead(requestId, batches, null);
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException or InvalidCastException)
        {
            return new ColdBatchesRead(requestId, batches, $"reading the journal failed: {ex.Message}");
        }
    }
}
