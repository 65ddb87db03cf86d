// The journal file a node prepares: WAL mode and the configured page size, which a file keeps once created.
using Akka.Configuration;
using Broker.Server.Hosting;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Broker.Server.Tests.Hosting;

public sealed class SqliteJournalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void New_journal_gets_the_configured_page_size_and_WAL_mode()
    {
        var path = Path.Combine(_dir, "broker.db");

        SqliteJournal.Prepare(path, 16384);

        Assert.Equal(16384L, Pragma(path, "page_size"));
        Assert.Equal("wal", Pragma(path, "journal_mode"));
    }

    [Fact]
    public void Existing_journal_keeps_the_page_size_it_was_created_with()
    {
        var path = Path.Combine(_dir, "broker.db");
        SqliteJournal.Prepare(path, 4096);
        using (var connection = Open(path))
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t(x BLOB); INSERT INTO t VALUES (zeroblob(100000));";
            create.ExecuteNonQuery();
        }

        SqliteJournal.Prepare(path, SqliteJournal.DefaultPageSize);

        Assert.Equal(4096L, Pragma(path, "page_size"));
    }

    [Fact]
    public void Node_config_defaults_to_32_KiB_pages_and_rejects_a_size_that_is_not_a_power_of_two()
    {
        var (_, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir });
        Assert.Equal(32768, settings.JournalPageSize);

        var file = Path.Combine(_dir, "bad.conf");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(file, "broker.node.journal-page-size = 3000");
        Assert.Throws<ConfigurationException>(() => NodeConfig.Load(new NodeOverrides { DataDir = _dir, ConfigFile = file }));
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object? Pragma(string path, string name)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
