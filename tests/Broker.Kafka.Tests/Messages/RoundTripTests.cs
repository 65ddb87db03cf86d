using System.Collections;
using System.Reflection;
using Broker.Kafka.Messages;
using Xunit;

namespace Broker.Kafka.Tests.Messages;

/// <summary>
/// Every generated message, at every version of its schema (so at least its lowest and highest), filled
/// with non-default values everywhere (tagged fields and nested structs included): written, read back and
/// written again must give the same bytes, and the reader must consume exactly what the writer wrote.
/// </summary>
public sealed class RoundTripTests
{
    public static TheoryData<string, short> MessagesAndVersions()
    {
        var data = new TheoryData<string, short>();
        foreach (var type in MessageTypes())
        {
            var lowest = (short)type.GetField("LowestVersion")!.GetValue(null)!;
            var highest = (short)type.GetField("HighestVersion")!.GetValue(null)!;
            for (var v = lowest; v <= highest; v++) data.Add(type.Name, v);
        }
        return data;
    }

    private static IEnumerable<Type> MessageTypes() =>
        typeof(IKafkaMessage).Assembly.GetTypes()
            .Where(t => t.Namespace == "Broker.Kafka.Messages" && !t.IsNested && t.GetField("LowestVersion") is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    [Fact]
    public void Every_schema_of_the_issue_is_generated()
    {
        string[] apis = ["ApiVersions", "Metadata", "CreateTopics", "DeleteTopics", "Produce", "Fetch", "ListOffsets", "InitProducerId",
            "FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit", "OffsetFetch", "DescribeGroups",
            "ListGroups", "SaslHandshake", "SaslAuthenticate"];
        var names = MessageTypes().Select(t => t.Name).ToHashSet();
        foreach (var api in apis)
        {
            Assert.Contains(api + "Request", names);
            Assert.Contains(api + "Response", names);
        }
        Assert.Contains(nameof(RequestHeader), names);
        Assert.Contains(nameof(ResponseHeader), names);
    }

    [Theory]
    [MemberData(nameof(MessagesAndVersions))]
    public void Filled_message_round_trips(string name, short version)
    {
        var type = MessageTypes().Single(t => t.Name == name);
        var message = Fill(type, depth: 0);
        var first = Write(message, version);

        var reader = new KafkaReader(first);
        var read = Read(type, ref reader, version);
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(first, Write(read, version));
    }

    [Theory]
    [MemberData(nameof(MessagesAndVersions))]
    public void Default_message_round_trips(string name, short version)
    {
        var type = MessageTypes().Single(t => t.Name == name);
        var first = Write(Activator.CreateInstance(type)!, version);
        var reader = new KafkaReader(first);
        Assert.Equal(first, Write(Read(type, ref reader, version), version));
    }

    private static byte[] Write(object message, short version)
    {
        using var writer = new KafkaWriter();
        message.GetType().GetMethod("Write")!.Invoke(message, [writer, version]);
        return writer.WrittenSpan.ToArray();
    }

    private static object Read(Type type, ref KafkaReader reader, short version)
    {
        var args = new object[] { reader, version };
        var result = type.GetMethod("Read")!.Invoke(null, args)!;
        reader = (KafkaReader)args[0];
        return result;
    }

    /// <summary>Sets every property to a value other than its default; lists get two elements.</summary>
    private static object Fill(Type type, int depth)
    {
        var instance = Activator.CreateInstance(type)!;
        var seed = 3 + depth;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            p.SetValue(instance, Value(p.PropertyType, seed++, depth));
        }
        return instance;
    }

    private static object Value(Type t, int seed, int depth)
    {
        if (t == typeof(bool)) return true;
        if (t == typeof(sbyte)) return (sbyte)seed;
        if (t == typeof(short)) return (short)(seed + 100);
        if (t == typeof(ushort)) return (ushort)(seed + 200);
        if (t == typeof(int)) return seed * 1000;
        if (t == typeof(long)) return seed * 100_000_000_000L;
        if (t == typeof(double)) return seed + 0.5;
        if (t == typeof(Guid)) return new Guid(seed, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        if (t == typeof(string)) return "s" + seed + "-é";
        if (t == typeof(byte[])) return new byte[] { 1, 2, (byte)seed };
        if (t == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemory<byte>([9, 8, 7, (byte)seed]);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var element = t.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            list.Add(Value(element, seed, depth + 1));
            list.Add(Value(element, seed + 1, depth + 1));
            return list;
        }
        if (t.IsClass) return Fill(t, depth + 1);
        throw new InvalidOperationException($"no sample value for {t}");
    }
}
