using Microsoft.Data.Sqlite;

namespace Broker.Server.Hosting;

/// <summary>
/// Prepares the node's SQLite journal file. WAL mode is a property of the file (it persists), so it is
/// set once here; Microsoft.Data.Sqlite has no connection-string keyword for it. Durability: SQLite's
/// default synchronous=FULL stays in force, so every journal transaction is fsynced before the partition
/// acknowledges the batches in it: acknowledged records survive kill -9 and power loss.
/// </summary>
public static class SqliteJournal
{
    public static void Prepare(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"could not switch {path} to WAL mode (got '{mode}'); is the file on a filesystem that supports it?");
    }
}
