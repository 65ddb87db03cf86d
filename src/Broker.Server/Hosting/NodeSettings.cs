namespace Broker.Server.Hosting;

/// <summary>The resolved settings of a node, after every override is applied.</summary>
public sealed record NodeSettings(string Host, int Port, IReadOnlyList<string> Seeds, string Role, string DataDirectory, string JournalPath, int JournalPageSize, int NodeId);
