namespace Broker.Protocol;

/// <summary>
/// The user-facing sentences node, client and CLI share for the same error, so they say the same thing
/// and name the same fix wherever it is detected.
/// </summary>
public static class ErrorText
{
    public static string UnknownTopic(string topic) =>
        $"topic '{topic}' does not exist; create it with `broker topics create {topic}`";

    public static string UnknownPartition(string topic, int partitions, int partition) =>
        $"topic '{topic}' has partitions 0 to {partitions - 1}; partition {partition} does not exist";
}
